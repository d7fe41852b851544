"""The final energy of a run to a stated precision (``final_precision`` / ``--final-precision``).

During optimization every energy has the run's shots, and its standard error (2–8 mHa on H2
at the defaults) can exceed chemical accuracy. To report ``fun ± stderr`` with
``stderr ≤ ε``, the final point is measured in honest stages whose samples are pooled per
measurement group:

1. a pilot with the run's usual shots;
2. from the pooled per-shot standard deviations ``s_g``, the variance-optimal totals for the
   target, ``N_g = SAFETY · s_g (Σ_h s_h) / ε²`` (they minimise ``Σ_g s_g² / N_g`` for a
   fixed total), and the missing shots ``N_g − n_g`` are measured and pooled, at most
   ``RAMP`` times the shots so far in one stage (scaled down alike), so that a plan made
   from a few shots per group is revised before it is spent;
3. step 2 repeats (at most ``MAX_ROUNDS`` times) while the pooled standard error
   ``sqrt(Σ_g s_g² / n_g)`` is above ε.

The plan uses the shrunk variance of the variance allocation, ``(d s_g² + k σ₀_g²)/(d + k)``
with ``d = n_g − 1``, ``k`` = :data:`~qvopt.estimation.allocation.PRIOR_SHOTS` and the
prior ``σ₀_g² = Σ_t c_t²``, so a group whose few shots all gave one value (``s_g = 0``) is
not starved. (Before: a floor of ``(Σ_t |c_t|)² / n_g`` and no ramp. With fully commuting
groups, whose terms are strongly correlated, the first plan was far too large: at the MP2
start with fc_split groups the final energy spent 11× the ideal shots on lih_fc, 15× on lih
and 86× on h2o, reaching 0.24–0.64 mHa for a 1.6 mHa target.) Pooling (rather than keeping only
the last stage) keeps the estimate free of the selection bias that discarding
high-variance stages would cause. Every stage is charged on the run's ledger; the result
reports these shots separately as ``final_shots``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .estimation.allocation import prior_variances, shrunk_variances
from .estimation.base import Estimate

SAFETY = 1.2
MIN_SHOTS = 2
MAX_ROUNDS = 6
RAMP = 8


@dataclass(frozen=True)
class GroupTally:
    """Pooled per-group samples: shots ``n``, means ``m`` and per-shot variances ``s2``."""

    n: np.ndarray
    m: np.ndarray
    s2: np.ndarray

    @classmethod
    def from_moments(cls, moments) -> GroupTally:
        n = moments.shots[0].astype(float)
        return cls(n, moments.means[0].copy(), np.nan_to_num(moments.variances[0] * n))

    def pooled(self, other: GroupTally) -> GroupTally:
        """Both samples as one: ``M2 = (n₁−1)s₁² + (n₂−1)s₂² + n₁n₂(m₁−m₂)²/n``."""
        n = self.n + other.n
        m = (self.n * self.m + other.n * other.m) / n
        m2 = ((self.n - 1) * self.s2 + (other.n - 1) * other.s2
              + self.n * other.n * (self.m - other.m) ** 2 / n)
        return GroupTally(n, m, m2 / np.maximum(n - 1, 1))

    def stderr(self) -> float:
        return float(np.sqrt(np.sum(self.s2 / self.n)))


def optimal_group_shots(per_shot_std: np.ndarray, precision: float) -> np.ndarray:
    """``N_g = SAFETY · s_g Σ_h s_h / ε²`` rounded up, at least ``MIN_SHOTS``."""
    std = np.nan_to_num(np.asarray(per_shot_std, dtype=float), nan=0.0)
    shots = np.ceil(SAFETY * std * std.sum() / precision**2)
    return np.maximum(shots, MIN_SHOTS).astype(np.int64)


def fit_to_budget(extra: np.ndarray, left: int) -> np.ndarray | None:
    """``extra`` scaled down (each ≥ ``MIN_SHOTS``) to spend at most ``left`` shots, or None
    when not even ``MIN_SHOTS`` per group fit."""
    if extra.sum() <= left:
        return extra
    spare = left - MIN_SHOTS * len(extra)
    if spare < 0:
        return None
    return (np.floor(extra * (spare / extra.sum())) + MIN_SHOTS).astype(np.int64)


def measure_to_precision(estimator, x: np.ndarray, precision: float,
                         max_shots: int | None = None) -> tuple[Estimate, int]:
    """``(estimate with stderr ≤ precision when reachable in MAX_ROUNDS, shots spent)``.

    ``max_shots`` (a shot budget's remainder) caps the whole measurement, pilot included:
    later stages are scaled down to fit (:func:`fit_to_budget`) and the estimate reports
    the standard error it reached."""
    before = estimator.shots_used
    prior = prior_variances(estimator.grouped)
    tally = GroupTally.from_moments(estimator.sample_groups(x, estimator.group_shots()))
    for _ in range(MAX_ROUNDS):
        if tally.stderr() <= precision:
            break
        planned = shrunk_variances(tally.s2, np.maximum(tally.n - 1, 0), prior)
        target = optimal_group_shots(np.sqrt(planned), precision)
        extra = np.maximum(target - tally.n.astype(np.int64), MIN_SHOTS)
        ramped = fit_to_budget(extra, int(RAMP * tally.n.sum()))
        extra = extra if ramped is None else ramped
        if max_shots is not None:
            extra = fit_to_budget(extra, max_shots - (estimator.shots_used - before))
            if extra is None:
                break
        tally = tally.pooled(GroupTally.from_moments(estimator.sample_groups(x, extra)))
    value = estimator.grouped.constant + float(tally.m.sum())
    spent = estimator.shots_used - before
    return Estimate(value, tally.stderr(), spent), spent
