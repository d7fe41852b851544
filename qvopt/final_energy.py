"""The final energy of a run to a stated precision (``final_precision`` / ``--final-precision``).

During optimization every energy has the run's shots, and its standard error (2–8 mHa on H2
at the defaults) can exceed chemical accuracy. To report ``fun ± stderr`` with
``stderr ≤ ε``, the final point is measured in stages, each a fresh honest sample:

1. a pilot with the run's usual shots gives each group's per-shot standard deviation s_g;
2. the variance-optimal split for a target ε is ``N_g = s_g (Σ_h s_h) / ε²`` (it minimises
   ``Σ_g s_g² / N_g`` for a fixed total), inflated by ``SAFETY`` for the noise in s_g and at
   least ``MIN_SHOTS`` per group; that sample is the reported estimate, with its own
   sample-variance standard error;
3. if its standard error is still above ε (unlucky variance estimates), step 2 is repeated
   from the newest variances, up to ``MAX_ROUNDS`` times.

Every stage is charged on the run's ledger; the result reports these shots separately as
``final_shots``.
"""

from __future__ import annotations

import numpy as np

from .estimation.base import Estimate

SAFETY = 1.2
MIN_SHOTS = 2
MAX_ROUNDS = 4


def optimal_group_shots(per_shot_std: np.ndarray, precision: float) -> np.ndarray:
    """``N_g = SAFETY · s_g Σ_h s_h / ε²`` rounded up, at least ``MIN_SHOTS``."""
    std = np.nan_to_num(np.asarray(per_shot_std, dtype=float), nan=0.0)
    shots = np.ceil(SAFETY * std * std.sum() / precision**2)
    return np.maximum(shots, MIN_SHOTS).astype(np.int64)


def measure_to_precision(estimator, x: np.ndarray, precision: float) -> tuple[Estimate, int]:
    """``(estimate with stderr ≤ precision when reachable in MAX_ROUNDS, shots spent)``."""
    before = estimator.shots_used
    moments = estimator.sample_groups(x, estimator.group_shots())
    value, variance = (float(v[0]) for v in moments.energies())
    for _ in range(MAX_ROUNDS):
        if np.sqrt(variance) <= precision:
            break
        std = np.sqrt(np.maximum(moments.per_shot_variances(), 0.0))
        moments = estimator.sample_groups(x, optimal_group_shots(std, precision))
        value, variance = (float(v[0]) for v in moments.energies())
    spent = estimator.shots_used - before
    return Estimate(value, float(np.sqrt(variance)), spent), spent
