"""The moment method's table for one measurement group (QWC or fully commuting).

Both :func:`~.sector_classes.pauli_moments` (QWC groups) and
:func:`~.sector_stabilizer.stabilizer_moments` (FC groups) reduce a group's outcome-class
probabilities to moments ``E = Σ weight · ψ_d ψ_e`` over pairs of sector states and a
mixing matrix, class probabilities ``= mix @ E``; the sector engine stacks these tables
for all groups (:class:`~.sector_classes.SectorClassProbabilities`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PauliMoments:
    """The moment method of one group: its nonzero moments (Pauli strings ``keys``,
    unique per moment, e.g. (X-or-Y bits, Z-or-Y bits)) as sign-weighted pairs
    ``(d, e, weight)``: ``E = Σ weight · ψ_d ψ_e``) and ``mix`` (possible classes,
    moments): class probabilities ``= mix @ E``; ``possible`` marks the classes whose row
    of the full mixing matrix is not identically zero."""

    group: int
    keys: list[tuple]
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    possible: np.ndarray
    mix: np.ndarray

    @property
    def cost(self) -> int:
        return sum(len(d) for d, _, _ in self.pairs) + int(np.count_nonzero(self.mix))
