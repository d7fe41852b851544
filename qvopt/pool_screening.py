"""One pool screening of ADAPT-VQE (:mod:`qvopt.adapt`): the points, the pooled estimates,
and the two decisions made from them (which operator; whether any is worth adding).

A screening appends every pool candidate ``A_k`` at angle 0 to the current circuit and
measures, in ONE batched, charged estimator call, the energy at the current angles and each
candidate's shifted energies; from them the gradients ``g_k`` (the gate's shift rule) and
curvatures ``h_k`` (:func:`~qvopt.estimation.parameter_shift.curvature_from_energies`, no
extra shot). Repeated screenings of one state are pooled with fixed weights
(:func:`pooled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .estimation.base import Estimate
from .estimation.estimator import Estimator
from .estimation.parameter_shift import ShiftRule, curvature_from_energies
from .guard import CONFIDENCE_Z, quadratic_gains

__all__ = ["Screening", "pool_gain_test", "pool_gradients", "pool_screening", "pooled",
           "screening_points", "select_operator"]

#: Scores within this (relative) of the best count as ties; the first in pool order wins.
TIE_RTOL = 1e-12


def screening_points(x: np.ndarray, rules: Sequence[ShiftRule]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Points of one pool screening and the weights that turn their energies into ``g``.

    ``x`` (n,) are the current angles; ``rules`` the shift rules of the m appended
    candidates. Row 0 is ``(x, 0…0)`` (the current state); then, for candidate k, one row
    ``(x, s·e_k)`` per shift ``s`` of its rule. ``weights`` (m, M) has
    ``g = weights @ E(points)`` (column 0 is zero).
    """
    x = np.asarray(x, dtype=float)
    m = len(rules)
    rows = [np.concatenate([x, np.zeros(m)])]
    weights = np.zeros((m, 1 + sum(len(r.shifts) for r in rules)))
    for k, rule in enumerate(rules):
        for shift, coeff in zip(rule.shifts, rule.coeffs, strict=True):
            row = rows[0].copy()
            row[len(x) + k] = shift
            weights[k, len(rows)] = coeff
            rows.append(row)
    return np.array(rows), weights


class Screening(NamedTuple):
    """One measured pool screening: the energy at the current angles, and each candidate's
    gradient and curvature at angle 0 (from the same shifted energies)."""

    energy: Estimate
    gradient: Estimate
    curvature: Estimate


def pool_screening(estimator: Estimator, x: np.ndarray) -> Screening:
    """The energy at ``x``, the pool gradients ``g`` and curvatures ``h`` from ONE batched
    ``estimator.energy`` call.

    ``estimator`` must be built on ``U(θ)`` followed by every candidate (see
    :func:`adapt_circuit`); its last ``m = n_params − len(x)`` parameters are the
    candidates'. ``g_k = Σ_s w_ks E_s``, ``σ(g_k)² = Σ_s w_ks² σ(E_s)²``; ``h_k`` by
    :func:`~qvopt.estimation.parameter_shift.curvature_from_energies` (no extra shot). Each
    Estimate's ``shots`` is what its points cost (energy and gradient together: the
    ledger's growth; the curvature reuses them and reports 0).
    """
    x = np.asarray(x, dtype=float)
    rules = estimator.shift_rules()[len(x):]
    points, weights = screening_points(x, rules)
    values = estimator.energy(points)
    energies, stderrs = np.asarray(values.value), np.asarray(values.stderr)
    per_point = values.shots // len(points)
    gradient = weights @ energies
    gradient_stderr = np.sqrt(weights**2 @ stderrs**2)
    curvature, curvature_variance = curvature_from_energies(
        list(rules), float(energies[0]), float(stderrs[0]) ** 2, energies[1:],
        stderrs[1:] ** 2)
    return Screening(Estimate(float(energies[0]), float(stderrs[0]), per_point),
                     Estimate(gradient, gradient_stderr, values.shots - per_point),
                     Estimate(curvature, np.sqrt(curvature_variance), 0))


def pool_gradients(estimator: Estimator, x: np.ndarray) -> tuple[Estimate, Estimate]:
    """(energy at ``x``, pool gradients ``g``) of :func:`pool_screening`."""
    screening = pool_screening(estimator, x)
    return screening.energy, screening.gradient


def pooled(estimates: Sequence[tuple[float, Estimate]]) -> Estimate:
    """``Σ_r w_r x̂_r`` with ``w_r`` ∝ the given weights (normalized), standard error
    ``sqrt(Σ_r w_r² σ_r²)`` and the summed shots."""
    weights = np.array([w for w, _ in estimates], dtype=float)
    weights /= weights.sum()
    value = sum(w * np.asarray(e.value, dtype=float) for w, (_, e) in zip(weights, estimates,
                                                                           strict=True))
    variance = sum(w**2 * np.asarray(e.stderr, dtype=float) ** 2
                   for w, (_, e) in zip(weights, estimates, strict=True))
    stderr = np.sqrt(variance)
    if np.ndim(value) == 0:
        return Estimate(float(value), float(stderr), sum(e.shots for _, e in estimates))
    return Estimate(value, stderr, sum(e.shots for _, e in estimates))


def pool_gain_test(gradient: Estimate, curvature: Estimate, tol: float,
                   excluded: Sequence[int] = ()) -> str | None:
    """A sentence if no candidate is predicted to lower the energy by more than ``tol``
    (95% bound), else None.

    Appended at angle 0 with gradient ``g_k`` and curvature ``h_k`` (both from the
    screening's shifted energies), candidate ``k`` alone would gain ``G_k = g_k²/(2h_k)``
    (the quadratic model of the run's stop test, :func:`qvopt.guard.quadratic_gains`:
    noise-corrected, ``h_k`` floored at 2% of the pool's largest); the bound is
    ``max(Ĝ_k, 0) + 1.645 sd(Ĝ_k)``. ``excluded`` candidates and those with ``σ_k = 0``
    and ``g_k = 0`` (zero by symmetry) are left out. The single-operator gain is a lower
    bound on what adding ``k`` and re-optimizing every angle gains."""
    g = np.asarray(gradient.value, dtype=float)
    s = np.asarray(gradient.stderr, dtype=float)
    h = np.asarray(curvature.value, dtype=float)
    keep = (s > 0) | (g != 0)
    keep[list(excluded)] = False
    if not np.any(keep):
        return None
    gains = quadratic_gains(g[keep], s[keep] ** 2, h[keep])
    if gains is None:
        return None
    estimate, variance = gains
    bound = np.maximum(estimate, 0.0) + CONFIDENCE_Z * np.sqrt(variance)
    largest = float(np.max(bound))
    if not largest <= tol:  # NaN (a standard error from a single shot) decides nothing
        return None
    return (f"no pool operator is predicted to lower the energy by more than "
            f"{largest * 1e3:.3g} mHa (95% bound; growth_tol {tol * 1e3:.3g} mHa)")


def select_operator(gradient: Estimate, selection: str = "largest", lcb_z: float = 2.0,
                    excluded: Sequence[int] = ()) -> tuple[int, float]:
    """``(k*, score_{k*})``: the candidate with the best score (see the module docstring);
    ``excluded`` candidates (a drained pool) are skipped; ties go to the lowest index."""
    value = np.abs(np.asarray(gradient.value, dtype=float))
    score = value if selection == "largest" else value - lcb_z * np.asarray(gradient.stderr)
    # no standard error (one shot per group): the lower bound falls back to |g| itself
    score = np.where(np.isnan(score), value, np.array(score, dtype=float))
    score[list(excluded)] = -np.inf
    best = float(np.max(score))
    if not np.isfinite(best):
        return -1, best
    tied = np.flatnonzero(score >= best - TIE_RTOL * max(1.0, abs(best)))
    return int(tied[0]), best
