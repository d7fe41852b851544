"""Weighted random operator sampling (Arrasmith et al., arXiv:2004.06252, "Rosalin").

An evaluation of ``s`` shots does not visit every measurement group. Each shot picks a
measurement group ``g`` (QWC or FC) at random with probability ``p_g = w_g / Σ_h w_h``,
``w_g = Σ_{k∈g} |c_k|`` (the group's coefficient 1-norm), and is then measured in that
group's frame, giving the group's value ``h_g(x) = v_g(x)`` (for QWC
``Σ_{k∈g} c_k ⟨x|P_k|x⟩``). The per-shot estimator and its mean

    y = h_g(x) / p_g,        Ê = c_I + (1/s) Σ_shots y = c_I + Σ_g (n_g / (s p_g)) m_g

(``n_g`` shots fell in group ``g``, ``m_g`` their mean value) are unbiased for
``⟨H⟩ = c_I + Σ_g ⟨H_g⟩`` for any ``s ≥ 1``, fewer shots than groups included. Its
variance is estimated from the same shots: with ``ȳ = Ê − c_I`` and
``(1/s) Σ y² = (1/s) Σ_g n_g (v_g + m_g²) / p_g²`` (``v_g`` the group's biased per-shot
sample variance),

    Var Ê ≈ ( (1/s) Σ y² − ȳ² ) / (s − 1)          (nan when s = 1).

The group counts ``n ~ Multinomial(s, p)`` are drawn first, then every group with
``n_g > 0`` is sampled honestly with its ``n_g`` shots by the estimator's sampler (groups
with ``n_g = 0`` are not executed and cost nothing).
"""

from __future__ import annotations

import numpy as np

from .grouping import GroupedHamiltonian
from .sampler import GroupMoments

TERM_SAMPLING = ("weighted_random",)


def group_probabilities(grouped: GroupedHamiltonian) -> np.ndarray:
    """``p_g = w_g / Σ_h w_h``: the probability that one shot measures group ``g``."""
    weights = grouped.coefficient_norms()
    return weights / weights.sum()


def draw_group_shots(totals: np.ndarray, probabilities: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """``n`` (P, G) int64: row ``p`` is ``Multinomial(totals[p], probabilities)``."""
    totals = np.asarray(totals, dtype=np.int64)
    return rng.multinomial(totals, probabilities).astype(np.int64)


def weighted_random_energies(moments: GroupMoments, probabilities: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray]:
    """``(Ê, Var Ê)`` per point from group moments sampled with weighted random group
    counts ``moments.shots`` (see the module docstring)."""
    counts = moments.shots.astype(float)
    totals = counts.sum(axis=1)
    sampled = counts > 0
    means = np.where(sampled, moments.means, 0.0)
    # biased per-shot variance v_g = Var(m_g) (n_g − 1); 0 for a single shot
    spread = np.where(counts > 1, moments.variances * (counts - 1), 0.0)
    spread = np.where(sampled, spread, 0.0)
    # groups that drew no shot (p_g = 0 included: a zero-norm group) contribute exactly 0
    weight = np.divide(counts, probabilities, out=np.zeros_like(counts), where=sampled)
    first = (weight * means).sum(axis=1) / totals
    second = (np.divide(weight, probabilities, out=np.zeros_like(counts), where=sampled)
              * (spread + means**2)).sum(axis=1) / totals
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(totals > 1, np.maximum(second - first**2, 0.0)
                            / np.maximum(totals - 1, 1), np.nan)
    return moments.constant + first, variance
