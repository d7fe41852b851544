"""Results of estimation calls and the shot ledger."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """An estimated quantity with its standard error and the shots spent on it.

    ``value`` and ``stderr`` are floats for one parameter point, arrays for a batch (energy)
    or per parameter (gradient). ``shots`` is the total number of shots this call used
    (0 in exact mode); ``stderr`` is 0 in exact mode.
    """

    value: float | np.ndarray
    stderr: float | np.ndarray
    shots: int

    def __iter__(self):  # allows ``value, stderr, shots = estimate``
        return iter((self.value, self.stderr, self.shots))


class ShotLedger:
    """Counts every circuit execution and its shots: ``shots_used = Σ shots of executions``.

    One ledger may be shared by several estimators so that a whole run is charged to a
    single account.
    """

    def __init__(self) -> None:
        self.shots_used = 0
        self.executions = 0
        self.evaluations = 0  # parameter points evaluated (energy evaluations)

    def charge(self, executions: int, shots_per_execution: int, points: int) -> int:
        """Record ``executions`` circuit runs of ``shots_per_execution`` shots each."""
        spent = int(executions) * int(shots_per_execution)
        self.shots_used += spent
        self.executions += int(executions)
        self.evaluations += int(points)
        return spent

    def charge_total(self, executions: int, shots: int, points: int) -> int:
        """Record ``executions`` circuit runs using ``shots`` shots in total."""
        self.shots_used += int(shots)
        self.executions += int(executions)
        self.evaluations += int(points)
        return int(shots)

    def __repr__(self) -> str:
        return (f"ShotLedger(shots_used={self.shots_used}, executions={self.executions}, "
                f"evaluations={self.evaluations})")
