"""Chemical accuracy and the figure users compare optimizers by: shots to reach it and stay.

A run *reaches chemical accuracy* at the first recorded iterate ``k*`` after which the
noiseless error of the current parameters stays within tolerance for the rest of the run:

    k* = min { k : |E_exact(θ_j) − E_FCI| ≤ 1.6 mHa for every recorded j ≥ k }

(undefined when the last iterate is outside). Its cost is ``S_CA``, the cumulative shots
charged up to and including the evaluation of ``θ_k*``; ``time to CA`` likewise. A run
that dips into the band and leaves it again has not reached it then.
"""

from __future__ import annotations

import numpy as np

HARTREE_TO_MHA = 1000.0
CHEMICAL_ACCURACY_MHA = 1.6


def settle_index(errors_mha, tolerance_mha: float = CHEMICAL_ACCURACY_MHA) -> int | None:
    """Index of the first entry after which every ``|error|`` is ≤ ``tolerance_mha``."""
    inside = np.abs(np.asarray(errors_mha, dtype=float)) <= tolerance_mha
    if len(inside) == 0 or not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return 0 if len(outside) == 0 else int(outside[-1]) + 1


def reached_accuracy(history: list[dict], e_fci: float) -> dict | None:
    """The history entry at which chemical accuracy is reached for good, or None."""
    errors = [(h["energy_exact"] - e_fci) * HARTREE_TO_MHA for h in history]
    index = settle_index(errors)
    return None if index is None else history[index]
