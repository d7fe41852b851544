"""Outcome-class probabilities of fully commuting groups from real sector states.

A fully commuting group ``g`` is measured after its Clifford ``U``
(:class:`~.commuting.CommutingGroup`); its value depends only on the ``r`` pivot bits
``u`` (bit ``i`` = measured qubit ``p_i``). The sector engine holds real amplitudes ``ψ_d``
on ``D`` basis states, and ``U`` leaves the sector, so the probabilities of ``u`` are
computed exactly without forming ``U|ψ⟩``:

With the stabilizers ``G_S = U† Z^{S} U`` (``Z^{S}`` = ``Π_{i∈S} Z_{p_i}``; ``G_S`` is a
signed Hermitian Pauli string, ``G_S G_T = G_{S⊕T}``), the pivot bits have the law

    q(u) = ⟨ψ|U† |u⟩⟨u| U|ψ⟩ (summed over the other bits) = 2^{−r} Σ_S (−1)^{u·S} ⟨ψ|G_S|ψ⟩.

Split ``S`` by the X part (flip mask) ``f_S`` of ``G_S``. The diagonal ones
(``f_S = 0``) form a subspace ``𝒵`` (dimension ``k``, basis ``b_1 … b_k``); on a basis
state ``|d⟩`` each ``G_{b_j}`` has the eigenvalue ``λ_j(d) = ±1``, and its block
``a(d)`` collects the bits ``λ_j(d) = −1``. The outcome's block ``a(u)`` has bits
``u·b_j mod 2``. Summing each coset ``S₀(f) ⊕ 𝒵`` (``S₀`` its smallest member) gives

    q(u) = 2^{k−r} Σ_f (−1)^{u·S₀(f)} M(a(u), f),
    M(a, f) = Σ_{d: a(d) = a} ψ_{d⊕f} ψ_d ⟨d⊕f|G_{S₀(f)}|d⟩.

For real ψ only flips ``f`` with an even number of Y letters contribute
(``⟨d⊕f|P|d⟩ = i^{n_Y} (−1)^{popcount(d & z_P)}``, ``Y|0⟩ = i|1⟩``, ``Y|1⟩ = −i|0⟩``,
times the sign of ``G_{S₀}``), and only pairs ``d, d⊕f`` that are both sector states
(each unordered pair once, weight 2; ``f = 0``: the squares ``ψ_d²``). The class
probabilities are then ``p_c = Σ_{(a,f)} mix[c, (a,f)] M(a, f)`` with

    mix[c, (a, f)] = 2^{k−r} Σ_{u: class(u) = c, a(u) = a} (−1)^{u·S₀(f)},

which is exactly the form of :class:`~.moment_tables.PauliMoments` (moments as sparse
sums of pair products, shared pair products, one sparse mixing matrix), so FC groups join
the same tables as the QWC moment groups. Groups whose ``2^r`` stabilizers are too many to
enumerate fall back to :class:`EmbeddedClifford`: the ``2^n`` state, the compiled Clifford
(:mod:`.clifford_rotation`), Born probabilities, classes — exact as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import PauliList
from scipy.sparse import csr_matrix

from .clifford_rotation import Permutation, apply_steps, compile_clifford
from .commuting import CommutingGroup
from .grouping import OutcomeClasses, gf2_basis
from .moment_tables import PauliMoments
from .sector import find_in_basis

MAX_STABILIZER_RANK = 16
"""Groups of larger rank use :class:`EmbeddedClifford` (``2^r`` stabilizers not listed)."""
CHUNK_VALUES = 2**20
""":class:`EmbeddedClifford` embeds about this many amplitudes at a time."""


def _masks(paulis: PauliList) -> tuple[np.ndarray, np.ndarray]:
    weights = 1 << np.arange(paulis.num_qubits, dtype=np.int64)
    return ((paulis.x * weights).sum(axis=1).astype(np.int64),
            (paulis.z * weights).sum(axis=1).astype(np.int64))


def _popcount(values) -> np.ndarray:
    return np.bitwise_count(np.asarray(values, dtype=np.int64)).astype(np.int64)


def stabilizers(group: CommutingGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, z, sign)`` of ``G_S`` for ``S = 0 … 2^r − 1`` (bit ``i`` ↔ pivot ``p_i``):
    flip and Z masks of the Pauli string and its sign ``±1``."""
    r, n = group.rank, group.n_qubits
    subsets = np.arange(2**r, dtype=np.int64)
    z = np.zeros((2**r, n), dtype=bool)
    for i, q in enumerate(group.pivots):
        z[:, q] = (subsets >> i) & 1
    evolved = PauliList.from_symplectic(z, np.zeros_like(z)).evolve(group.circuit(),
                                                                   frame="h")
    x_mask, z_mask = _masks(evolved)
    if np.any(evolved.phase % 2):
        raise ValueError("internal: a stabilizer is not Hermitian")
    return x_mask, z_mask, np.where(evolved.phase == 2, -1.0, 1.0)


def stabilizer_moments(index: int, group: CommutingGroup, classes: OutcomeClasses,
                       basis: np.ndarray) -> PauliMoments:
    """The :class:`~.moment_tables.PauliMoments` of FC ``group`` on the sorted sector ``basis`` (see
    the module docstring)."""
    basis = np.asarray(basis, dtype=np.int64)
    r = group.rank
    x_s, z_s, sign_s = stabilizers(group)
    subsets = np.arange(2**r, dtype=np.int64)
    diagonal = gf2_basis(subsets[x_s == 0])  # b_1 … b_k
    k = len(diagonal)
    # blocks of sector states and of outcomes
    block_d = np.zeros(len(basis), dtype=np.int64)
    block_u = np.zeros(2**r, dtype=np.int64)
    for j, b in enumerate(diagonal):
        flips_sign = (sign_s[b] < 0) ^ (_popcount(basis & z_s[b]) % 2 == 1)
        block_d |= flips_sign.astype(np.int64) << j
        block_u |= (_popcount(subsets & b) & 1) << j
    # the class of every outcome u (pivot bits expanded into the register)
    full = np.zeros(2**r, dtype=np.int64)
    for i, q in enumerate(group.pivots):
        full |= ((subsets >> i) & 1) << q
    class_u = classes.labels[full]
    # cosets: smallest S of each flip mask, kept if its matrix elements are real
    flips, first = np.unique(x_s, return_index=True)
    keys: list[tuple] = []
    pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    reps: list[int] = []
    for f, s0 in zip(flips.tolist(), first.tolist(), strict=True):
        n_y = int(_popcount(x_s[s0] & z_s[s0]))
        if n_y % 2:
            continue
        if f == 0:
            d = np.arange(len(basis))
            e = d
            weight = np.ones(len(basis))
        else:
            found, present = find_in_basis(basis, basis ^ f)
            keep = present & (found > np.arange(len(basis)))
            d = np.flatnonzero(keep)
            e = found[d]
            phase = (-1.0) ** (n_y // 2 + _popcount(basis[d] & z_s[s0]))
            weight = 2.0 * sign_s[s0] * phase
        if not len(d):
            continue
        weight = np.broadcast_to(weight, d.shape)
        order = np.argsort(block_d[d], kind="stable")
        blocks, starts = np.unique(block_d[d][order], return_index=True)
        for a, rows in zip(blocks.tolist(), np.split(order, starts[1:]), strict=True):
            keys.append(("fc", index, a, f))
            pairs.append((d[rows], e[rows], weight[rows].copy()))
            reps.append(s0)
    # mix[c, m] = 2^{k−r} Σ_{u: class c, block a_m} (−1)^{u·S₀(f_m)}
    n_classes = len(classes.values)
    mix = np.zeros((n_classes, len(keys)))
    moment_blocks = np.array([key[2] for key in keys], dtype=np.int64)
    reps_arr = np.array(reps, dtype=np.int64)
    order = np.argsort(block_u, kind="stable")
    sorted_blocks = block_u[order]
    for a in np.unique(moment_blocks).tolist():
        lo, hi = np.searchsorted(sorted_blocks, [a, a + 1])
        us = order[lo:hi]
        columns = np.flatnonzero(moment_blocks == a)
        signs = 1.0 - 2.0 * (_popcount(us[:, None] & reps_arr[None, columns]) & 1)
        np.add.at(mix, (class_u[us][:, None], columns[None, :]), signs)
    mix *= 0.5 ** (r - k)
    mix[np.abs(mix) < 1e-12] = 0.0
    possible = np.any(mix != 0, axis=1)
    return PauliMoments(index, keys, pairs, possible, mix[possible])


@dataclass(frozen=True)
class EmbeddedClifford:
    """Fallback for one FC group: embed the sector states into ``2^n``, apply the compiled
    Clifford, sum Born probabilities into the group's classes."""

    group: int
    basis: np.ndarray
    n_qubits: int
    steps: list[int | Permutation]
    indicator: csr_matrix  # (classes, 2^n)
    possible: np.ndarray

    @property
    def cost(self) -> int:
        return 2**self.n_qubits * (len(self.steps) + 2)

    def probabilities(self, columns: np.ndarray) -> np.ndarray:
        """Class probabilities ``(classes, P)`` of sector states ``columns`` (D, P), in
        chunks of points that keep the ``2^n`` work arrays near ``CHUNK_VALUES`` values."""
        n_points = columns.shape[1]
        out = np.empty((self.indicator.shape[0], n_points))
        step = max(1, CHUNK_VALUES // 2**self.n_qubits)
        for start in range(0, n_points, step):
            rows = slice(start, min(start + step, n_points))
            states = np.zeros((rows.stop - rows.start, 2**self.n_qubits))
            states[:, self.basis] = columns[:, rows].T
            rotated, n_h = apply_steps(self.steps, states)
            probs = rotated.real**2 + rotated.imag**2 if np.iscomplexobj(rotated) \
                else rotated**2
            out[:, rows] = self.indicator @ (probs * 0.5**n_h).T
        return out


def embedded_clifford(index: int, group: CommutingGroup, classes: OutcomeClasses,
                      basis: np.ndarray) -> EmbeddedClifford:
    """The :class:`EmbeddedClifford` of FC ``group`` (all classes possible)."""
    return EmbeddedClifford(index, np.asarray(basis, dtype=np.int64), group.n_qubits,
                            compile_clifford(group.gates, group.n_qubits),
                            classes.indicator, np.ones(len(classes.values), bool))
