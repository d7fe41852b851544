"""Coefficient splitting between overlapping fully commuting groups (``grouping="fc_split"``).

Iterative coefficient splitting after Yen, Ganeshram & Izmaylov, npj Quantum Inf. 9, 14
(2023). Start from the sorted-insertion FC groups (:mod:`.commuting`) and **extend** each
group ``g`` with every other term that commutes with all of its current members (terms in
sorted-insertion order, decreasing |c|; a term that joins constrains the next ones). A term
``P_k`` then sits in the groups ``G_k`` (its own and those it extended) and is measured in
each with a share ``c_k^g``,

    c_k = Σ_{g ∈ G_k} c_k^g,      H = c_I + Σ_g H_g,      H_g = Σ_{k ∈ g} c_k^g P_k.

Any split keeps the energy estimator ``c_I + Σ_g m_g`` unbiased (each group's mean is
unbiased for ``⟨H_g⟩``); the split only changes the variance. With optimal allocation the
shots for a standard error ε are ``(Σ_g σ_g)² / ε²``, ``σ_g² = c^gᵀ C_g c^g`` (``C_g`` the
covariance matrix of the group's terms), so the split minimizes the convex

    f(c) = Σ_g σ_g(c^g)      subject to the sums above.

**What it is fitted on.** ``C_g`` is the covariance in the classical proxy state of
:mod:`.proxy_state` (the lowest eigenvector of ``H`` on the reference determinant and the
basis states one term away: CISD for molecules), computed before any shot and never from
shots or from the current parameters. It is shrunk toward the covariance of the maximally
mixed state (the identity: distinct Pauli strings are uncorrelated with unit variance),

    C_g ← (1 − α) C_g^{proxy} + α I,        α = :data:`SHRINKAGE`,

so that directions of zero variance in the proxy (its stabilizers) are not trusted blindly:
a split that leans on them would cost variance in the true state.

**Iteration** (a majorize–minimize scheme). ``√v ≤ (v/σ + σ)/2`` with equality at ``v = σ²``,
so at the current split, with ``σ_g`` fixed, ``Σ_g Var_g / (2σ_g)`` majorizes ``f`` up to a
constant. Its minimum under the sums is a closed form: with ``P_g`` picking group ``g``'s
terms out of all ``T`` and multipliers ``μ`` (one per term),

    x_g = σ_g C_g⁻¹ P_g μ,        S μ = c,        S = Σ_g σ_g P_gᵀ C_g⁻¹ P_g      (T × T),

one Cholesky solve per step (the per-term version of the same update, one term at a time,
needed ten times as many sweeps). Each step cannot increase ``f``; steps repeat until ``f``
changes by less than :data:`RELATIVE_TOLERANCE` relative, then each term's rounding residual
(~1e-15) goes onto one of its shares so that the shares add up to ``c_k`` exactly. The start
is the plain FC split (each term wholly in its own group), so the proxy's ``f`` ends at
most at FC's. ``C_g`` is positive definite thanks to the shrinkage.

Measured (``benchmarks/allocation_shots.py``, shots for a 1.6 mHa standard error at the
FCI ground state, variance-optimal allocation, FC → split): LiH 2.64e5 → 1.03e5, H2O
3.04e6 → 5.90e5, held-out NH3 (frozen core) 2.73e6 → 7.03e5. Fitting on the exact ground
state instead of the proxy changes these by under 1%; fitting on the Hartree–Fock
determinant loses about a third of the gain (LiH 1.40e5).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.linalg import cho_factor, cho_solve

from .blas_threads import single_threaded_blas
from .clifford_rotation import apply_steps, compile_clifford
from .commuting import (
    CommutingGroup,
    commutation_matrix,
    commuting_group,
    group_fully_commuting,
    sorted_insertion_fc,
)
from .grouping import GroupedHamiltonian
from .proxy_state import embedded, proxy_state

#: α of the shrinkage toward the maximally mixed state's covariance (module docstring)
SHRINKAGE = 0.01
#: the iteration stops when Σ_g σ_g changes by less than this, relative. 1e-5 against
#: 1e-6: shots for a 1.6 mHa energy at the FCI ground state equal to 4 digits on lih_fc,
#: lih, h4, hf_fc (1.029e5 on lih), +0.05% on beh2, +0.14% on h2o (5.906e5), while the
#: split takes 0.62 s instead of 1.02 s on lih and 1.42 s instead of 1.99 s on h2o (CPU)
RELATIVE_TOLERANCE = 1e-5
#: at most this many majorize–minimize steps
MAX_STEPS = 500

Placements = dict[int, list[tuple[int, int]]]
"""term ``k`` → ``[(g, i), …]``: the groups ``g`` that measure it, at position ``i`` of
``groups[g].term_indices``."""


def extend_members(hamiltonian: SparsePauliOp, members: list[list[int]],
                   order: list[int]) -> list[list[int]]:
    """Each group's ``members`` plus every term of ``order`` that commutes with all of the
    group's members so far (module docstring)."""
    commute = commutation_matrix(hamiltonian.paulis.x, hamiltonian.paulis.z)
    extended = []
    for member in members:
        grown = list(member)
        fits: np.ndarray = np.asarray(commute[:, member].all(axis=1))
        fits[member] = False
        for t in order:
            if fits[t]:
                grown.append(t)
                fits &= commute[:, t]
                fits[t] = False
        extended.append(grown)
    return extended


def pivot_patterns(values: np.ndarray, pivots: tuple[int, ...]) -> np.ndarray:
    """Bit ``i`` of the result is bit ``pivots[i]`` of ``values`` (int masks)."""
    out = np.zeros(len(values), dtype=np.int64)
    for i, q in enumerate(pivots):
        out |= ((values >> q) & 1) << i
    return out


def frame_covariance(group: CommutingGroup, state: np.ndarray) -> np.ndarray:
    """``C[i, j] = Cov(P_i, P_j)`` of the group's terms in ``state`` (a ``2^n`` vector),
    read in the group's diagonal frame: ``P_i → s_i Z^{z_i}`` on the pivots, so with the
    pivot-pattern probabilities ``q(u)`` and ``V[i, u] = s_i (−1)^{popcount(u & z_i)}``,
    ``C = V diag(q) Vᵀ − (Vq)(Vq)ᵀ``."""
    rotated, n_h = apply_steps(compile_clifford(group.gates, group.n_qubits),
                               np.asarray(state, dtype=complex)[None, :])
    probs = np.abs(rotated[0]) ** 2 * 0.5**n_h
    outcomes = np.arange(len(probs), dtype=np.int64)
    q = np.bincount(pivot_patterns(outcomes, group.pivots), weights=probs,
                    minlength=2**group.rank)
    u = np.arange(2**group.rank, dtype=np.int64)
    z = pivot_patterns(group.supports, group.pivots)
    parity = np.bitwise_count(u[None, :] & z[:, None]).astype(np.int64) & 1
    v = group.signs[:, None] * (1.0 - 2.0 * parity)
    mean = v @ q
    return (v * q) @ v.T - np.outer(mean, mean)


@dataclass(frozen=True)
class _Incidence:
    """Which term each share belongs to: group ``g``'s shares are ``terms[slices[g]]``
    (indices into the list of distinct terms ``0 … T−1``)."""

    terms: np.ndarray
    slices: list[slice]
    n_terms: int


def _incidence(sizes: list[int], placements: Placements) -> _Incidence:
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    terms = np.empty(int(offsets[-1]), dtype=np.int64)
    for column, places in enumerate(placements.values()):
        for g, i in places:
            terms[offsets[g] + i] = column
    slices = [slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    return _Incidence(terms, slices, len(placements))


def _step(inverses: list[np.ndarray], sigma: np.ndarray, where: _Incidence,
          targets: np.ndarray) -> list[np.ndarray]:
    """The shares minimizing ``Σ_g x_gᵀ C_g x_g / σ_g`` under the sums (one MM step):
    ``x_g = σ_g C_g⁻¹ μ[g]`` with ``S μ = c``, ``S = Σ_g σ_g P_gᵀ C_g⁻¹ P_g`` (``P_g``
    picks group ``g``'s terms)."""
    t = where.n_terms
    rows = [where.terms[s] for s in where.slices]
    flat = np.concatenate([(r[:, None] * t + r[None, :]).ravel() for r in rows])
    weights = np.concatenate([sg * inv.ravel() for sg, inv in zip(sigma, inverses,
                                                                   strict=True)])
    schur = np.bincount(flat, weights=weights, minlength=t * t).reshape(t, t)
    mu = cho_solve(cho_factor(schur), targets)
    return [sg * inv @ mu[r] for sg, inv, r in zip(sigma, inverses, rows, strict=True)]


def split_coefficients(covariances: list[np.ndarray], shares: list[np.ndarray],
                       placements: Placements, coeffs: np.ndarray
                       ) -> tuple[list[np.ndarray], list[float]]:
    """Shares minimizing ``Σ_g √(c^gᵀ C_g c^g)`` under ``Σ_g c_k^g = c_k`` from the start
    ``shares`` (module docstring; the ``C_g`` must be positive definite); returns them
    and ``f`` at the start and after each step."""
    where = _incidence([len(c) for c in covariances], placements)
    targets = np.asarray(coeffs, dtype=float)[list(placements)]
    x = [np.array(s, dtype=float) for s in shares]
    history = [_objective(covariances, x)]
    with single_threaded_blas():  # Cholesky of h2o's S: 0.24 s on 2 busy cores, 0.02 s on 1
        inverses = [np.linalg.inv(c) for c in covariances]
        for _ in range(MAX_STEPS):
            sigma = np.array([np.sqrt(v @ c @ v) for v, c in zip(x, covariances,
                                                                 strict=True)])
            candidate = _step(inverses, sigma, where, targets)
            value = _objective(covariances, candidate)
            if value > history[-1]:  # rounding at convergence: keep the better split
                break
            x = candidate
            history.append(value)
            if history[-2] - history[-1] < RELATIVE_TOLERANCE * history[-1]:
                break
    _restore_sums(x, where, targets)
    return x, history


def _objective(covariances: list[np.ndarray], shares: list[np.ndarray]) -> float:
    """``f = Σ_g √(c^gᵀ C_g c^g)``."""
    return float(sum(np.sqrt(max(v @ c @ v, 0.0)) for v, c in zip(shares, covariances,
                                                                 strict=True)))


def _restore_sums(shares: list[np.ndarray], where: _Incidence, targets: np.ndarray) -> None:
    """Put each term's rounding residual ``c_k − Σ_g c_k^g`` (~1e-15) on one of its
    shares, so the shares add up to ``c_k`` to the last bit (in place)."""
    flat = np.concatenate(shares)
    total = np.bincount(where.terms, weights=flat, minlength=where.n_terms)
    one = np.zeros(where.n_terms, dtype=np.int64)
    one[where.terms] = np.arange(len(flat))  # some share of every term (repeats: any)
    flat[one] += targets - total
    for g, part in enumerate(where.slices):
        shares[g][:] = flat[part]


def placements_of(groups: list[CommutingGroup]) -> Placements:
    """Where every term is measured (see :data:`Placements`)."""
    out: Placements = {}
    for g, group in enumerate(groups):
        for i, t in enumerate(group.term_indices):
            out.setdefault(t, []).append((g, i))
    return out


def group_split(hamiltonian: SparsePauliOp, state: np.ndarray | None = None
                ) -> GroupedHamiltonian:
    """Extended FC groups with coefficients split to minimize ``Σ_g σ_g`` in the shrunk
    covariances of ``state`` (default: the classical proxy of :mod:`.proxy_state`; another
    state only for benchmarks). ``kind="fc"``: measured like any FC grouping."""
    constant, members = sorted_insertion_fc(hamiltonian)
    if not members:  # only the identity: nothing to measure
        return group_fully_commuting(hamiltonian)
    coeffs = np.asarray(hamiltonian.coeffs, dtype=complex).real
    labels = hamiltonian.paulis.to_labels()
    order = sorted((t for member in members for t in member),
                   key=lambda t: (-float(np.round(abs(coeffs[t]), 10)), labels[t]))
    frames = [commuting_group(hamiltonian, m)
              for m in extend_members(hamiltonian, members, order)]
    with single_threaded_blas():  # small dense products: one thread is fastest
        if state is None:
            state = embedded(*proxy_state(hamiltonian), hamiltonian.num_qubits)
        covariances = [(1 - SHRINKAGE) * frame_covariance(f, state)
                       + SHRINKAGE * np.eye(len(f.term_indices)) for f in frames]
    home = {t: g for g, member in enumerate(members) for t in member}
    start = [np.where([home[t] == g for t in f.term_indices], f.coeffs, 0.0)
             for g, f in enumerate(frames)]
    placements = placements_of(frames)
    shares, _ = split_coefficients(covariances, start, {t: placements[t] for t in order},
                                   coeffs)
    groups = tuple(dataclasses.replace(f, coeffs=s) for f, s in zip(frames, shares,
                                                                     strict=True))
    return GroupedHamiltonian(n_qubits=hamiltonian.num_qubits, constant=constant,
                              groups=groups, kind="fc")
