"""Results of estimation calls and the shot ledger."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import overload

import numpy as np

from ..errors import InputError

MAX_SHOTS = 10**12
"""Largest shot count accepted for one measurement group (or one evaluation with an
allocation): far beyond any device budget, well inside int64 after summing over points."""


@overload
def validate_shots(shots: None, name: str = ...) -> None: ...


@overload
def validate_shots(shots: int | float, name: str = ...) -> int: ...


@overload
def validate_shots(shots: object, name: str = ...) -> int | None: ...


def validate_shots(shots: object, name: str = "shots") -> int | None:
    """``None`` (exact) or an int in ``1 … MAX_SHOTS`` (10¹²); anything else is an
    :class:`~qvopt.errors.InputError` naming ``name``. Integral floats (``1e4``) are accepted."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, (numbers.Integral, float)) or (
            isinstance(shots, float) and not (np.isfinite(shots) and shots.is_integer())):
        raise InputError(f"{name} must be a positive integer or None (exact), got {shots!r}")
    value = int(shots)
    if value <= 0:
        raise InputError(f"{name} must be a positive integer or None (exact), got {shots!r}")
    if value > MAX_SHOTS:
        raise InputError(f"{name} must be at most {MAX_SHOTS:.0e} (10**12) per measurement "
                         f"group, got {shots!r}")
    return value


def as_points(theta, n_params: int, name: str = "theta") -> tuple[np.ndarray, bool]:
    """``theta`` as a float array (P, n_params) and whether it was one point (shape (p,)).

    :class:`~qvopt.errors.InputError` naming ``name`` for: a complex dtype (even with zero
    imaginary part), non-numeric entries, a shape other than (p,) or (B, p) with B ≥ 1, NaN
    or infinite entries.
    """
    try:
        arr = np.asarray(theta)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric, got {theta!r}") from exc
    if np.iscomplexobj(arr):
        raise InputError(f"{name} must be real, got complex values (dtype {arr.dtype})")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric, got {theta!r}") from exc
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_params or arr.size == 0:
        raise InputError(f"{name} must have shape ({n_params},) or (batch, {n_params}) for "
                         f"this circuit's {n_params} parameters, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return np.atleast_2d(arr), arr.ndim == 1


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
