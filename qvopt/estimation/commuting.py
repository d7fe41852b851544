"""Fully commuting (FC) measurement groups and the Clifford circuit that diagonalizes each.

Two Pauli strings ``P = i^{x·z} X^x Z^z`` and ``Q`` (bit masks ``x``, ``z``; qubit ``q`` ↔
bit ``q``, qiskit's little-endian order) commute when their symplectic inner product
``popcount(x_P & z_Q) + popcount(z_P & x_Q)`` is even. FC groups are formed by **sorted
insertion** (Crawford et al., Quantum 5, 385 (2021)): terms in order of decreasing
|coefficient| (rounded to 1e-10; ties by Pauli label) each go into the first group all of
whose terms they commute with, else open a new group. The identity term is a constant.

**Diagonalizing Clifford.** For each group a Clifford ``U`` (gates ``h``, ``s``, ``cx``,
``cz``) is found once with

    U P_t U† = s_t Z^{z_t}        (s_t = ±1)        for every term t of the group,

by symplectic Gaussian elimination on the group's independent generators (rows
``[X | Z]`` over GF(2), ``r`` of them, ``r ≤ n``):

1. row-reduce the X block; the generators left with no X part are pure Z strings. Their Z
   parts restricted to the columns that are not X pivots are independent (they commute
   with the X rows), so row-reducing them gives new pivot columns; ``h`` there turns those
   Z into X. Now the X block has rank ``r``.
2. row-reduce the X block to ``[I | A]`` on pivot columns ``p_i``; ``cx(p_i, j)`` clears
   each ``x_ij`` off the pivots (``x_j ^= x_{p_i}``, ``z_{p_i} ^= z_j``).
3. every generator is now ``X_{p_i}`` times a Z string; commutation makes the Z block on
   the pivots symmetric: ``cz(p_i, p_j)`` clears its off-diagonal pairs, ``s(p_i)`` its
   diagonal (``S X S† = Y``), ``cz(p_i, q)`` the Z entries on the other columns ``q``.
4. ``h`` on every pivot: ``X_{p_i} → Z_{p_i}``.

Pairs ``h(q) … h(q)`` with no gate on ``q`` between them are then dropped (a group of Z
strings needs no gate at all).

Generator ``i`` becomes ``±Z_{p_i}``, so every term (a product of generators) becomes a
signed Z string on the pivots. The signs ``s_t`` and masks ``z_t`` are read off by evolving
the terms through ``U`` with ``qiskit.quantum_info.PauliList.evolve`` (``frame="s"``).

A shot in the rotated frame gives an outcome ``x``; its value is

    v_g(x) = Σ_{t∈g} c_t s_t (−1)^{popcount(x & z_t)},

which depends on ``x`` only through the ``r`` pivot bits (the parity pattern of the
group's independent Z masks), so at most ``2^r`` outcome classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .grouping import GroupedHamiltonian, parity_values

Gate = tuple[str, tuple[int, ...]]
"""One Clifford gate: name (``"h"``, ``"s"``, ``"cx"``, ``"cz"``) and its qubits (for
``cx``: control, target)."""


@dataclass(frozen=True)
class CommutingGroup:
    """One FC group: its terms, the diagonalizing Clifford and the rotated terms.

    ``supports[t]`` is ``z_t`` (full-register mask, bits only on ``pivots``) and
    ``signs[t]`` is ``s_t`` of ``U P_t U† = s_t Z^{z_t}``; ``gates`` is ``U`` in time
    order; measured bit ``pivots[i]`` is the eigenvalue bit of generator
    ``g_i = U† Z_{pivots[i]} U`` (0 for +1).
    """

    term_indices: tuple[int, ...]  # indices into the Hamiltonian's terms
    coeffs: np.ndarray  # real coefficients c_t of those terms
    signs: np.ndarray  # s_t = ±1
    supports: np.ndarray  # z_t as int bit masks (qubit q ↔ bit q)
    gates: tuple[Gate, ...]
    pivots: tuple[int, ...]  # ascending measured qubits p_0 < p_1 < …
    n_qubits: int

    @property
    def rank(self) -> int:
        """``r``: the number of independent generators (= measured pivot qubits)."""
        return len(self.pivots)

    @property
    def signed_coeffs(self) -> np.ndarray:
        """``c_t s_t``: the coefficients of the rotated (diagonal) terms."""
        return self.coeffs * self.signs

    def values(self, n_qubits: int | None = None) -> np.ndarray:
        """``v_g(x)`` for every outcome ``x`` in ``0 … 2^n − 1`` of the rotated frame."""
        n = self.n_qubits if n_qubits is None else n_qubits
        return parity_values(self.signed_coeffs, self.supports, n)

    def circuit(self) -> QuantumCircuit:
        """``U`` as a qiskit circuit on ``n_qubits`` qubits."""
        return clifford_circuit(self.gates, self.n_qubits)


def cancel_hadamard_pairs(gates: Sequence[Gate]) -> list[Gate]:
    """``gates`` without the ``h(q) … h(q)`` pairs that have no gate on ``q`` in between."""
    out: list[Gate | None] = []
    history: dict[int, list[int]] = {}  # qubit -> indices in `out` of the gates on it
    for name, qubits in gates:
        gate = (name, tuple(qubits))
        if name == "h":
            touched = history.setdefault(qubits[0], [])
            if touched and out[touched[-1]] == gate:
                out[touched.pop()] = None
                continue
        out.append(gate)
        for q in qubits:
            history.setdefault(q, []).append(len(out) - 1)
    return [g for g in out if g is not None]


def clifford_circuit(gates: tuple[Gate, ...], n_qubits: int) -> QuantumCircuit:
    """The gate list as a ``QuantumCircuit`` (qiskit's ``h``, ``s``, ``cx``, ``cz``)."""
    circuit = QuantumCircuit(n_qubits)
    for name, qubits in gates:
        getattr(circuit, name)(*qubits)
    return circuit


def _rref(x: np.ndarray, z: np.ndarray, columns: np.ndarray, rows: range
          ) -> list[tuple[int, int]]:
    """Row-reduce ``x`` (rows ``rows``, only ``columns`` searched for pivots) over GF(2),
    applying the same row operations to ``z``; returns (row, pivot column) pairs."""
    pivots = []
    row = rows.start
    for col in columns:
        if row >= rows.stop:
            break
        hits = [k for k in range(row, rows.stop) if x[k, col]]
        if not hits:
            continue
        k = hits[0]
        if k != row:
            x[[row, k]] = x[[k, row]]
            z[[row, k]] = z[[k, row]]
        for other in range(x.shape[0]):
            if other != row and x[other, col]:
                x[other] ^= x[row]
                z[other] ^= z[row]
        pivots.append((row, int(col)))
        row += 1
    return pivots


def independent_rows(x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A GF(2) basis (as rows ``[x | z]``) of the span of the Pauli strings ``(x, z)``."""
    stacked = np.concatenate([x, z], axis=1).astype(bool)
    work = stacked.copy()
    n = x.shape[1]
    pivots = _rref(work, np.zeros((len(work), 0), bool), np.arange(2 * n), range(len(work)))
    basis = work[:len(pivots)]
    return basis[:, :n].copy(), basis[:, n:].copy()


def diagonalizing_gates(x: np.ndarray, z: np.ndarray) -> tuple[tuple[Gate, ...],
                                                                tuple[int, ...]]:
    """Gates of ``U`` and the pivots, for commuting Pauli strings given as boolean
    ``(terms, n)`` arrays ``x``, ``z`` (column ``q`` = qubit ``q``); see the module
    docstring for the four steps. The strings must commute pairwise."""
    x, z = independent_rows(np.asarray(x, bool), np.asarray(z, bool))
    if not commutation_matrix(x, z).all():
        raise InputError("Pauli strings of a group do not commute")
    r, n = x.shape
    gates: list[Gate] = []

    def hadamard(q: int) -> None:
        x[:, q], z[:, q] = z[:, q].copy(), x[:, q].copy()
        gates.append(("h", (q,)))

    # 1. X block to full rank with Hadamards on pure-Z generators' pivots
    x_pivots = _rref(x, z, np.arange(n), range(r))
    k = len(x_pivots)
    if k < r:
        used = {c for _, c in x_pivots}
        free = np.array([q for q in range(n) if q not in used], dtype=np.int64)
        # rows k.. have x = 0: reduce their z on the free columns (z plays "x" here)
        for _, col in _rref(z, x, free, range(k, r)):
            hadamard(col)
    # 2. X block to the identity on the pivots
    pivots = _rref(x, z, np.arange(n), range(r))
    if len(pivots) != r:
        raise InputError("internal: the generators' X block did not reach full rank")
    for row, p in pivots:
        for j in np.flatnonzero(x[row]).tolist():
            if j != p:
                x[:, j] ^= x[:, p]
                z[:, p] ^= z[:, j]
                gates.append(("cx", (p, j)))
    # 3. clear the Z block: CZ between pivots, S on pivots, CZ pivot–other
    pivot_of = {row: p for row, p in pivots}
    pivot_set = set(pivot_of.values())
    for a in range(r):
        for b in range(a + 1, r):
            pa, pb = pivot_of[a], pivot_of[b]
            if z[a, pb]:
                if not z[b, pa]:
                    raise InputError("Pauli strings of a group do not commute")
                z[:, pb] ^= x[:, pa]
                z[:, pa] ^= x[:, pb]
                gates.append(("cz", (pa, pb)))
    for a in range(r):
        p = pivot_of[a]
        if z[a, p]:
            z[:, p] ^= x[:, p]
            gates.append(("s", (p,)))
        for q in np.flatnonzero(z[a]).tolist():
            if q not in pivot_set:
                z[:, q] ^= x[:, p]
                z[:, p] ^= x[:, q]
                gates.append(("cz", (p, q)))
    if z.any():
        raise InputError("Pauli strings of a group do not commute")
    # 4. X_p → Z_p on every pivot
    for p in sorted(pivot_set):
        hadamard(p)
    return tuple(cancel_hadamard_pairs(gates)), tuple(sorted(pivot_set))


def commutation_matrix(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``(T, T)`` bool: whether Pauli strings ``a`` and ``b`` commute (symplectic form)."""
    x = np.asarray(x, dtype=np.uint8)
    z = np.asarray(z, dtype=np.uint8)
    form = (x.astype(np.int64) @ z.T.astype(np.int64) + z.astype(np.int64) @ x.T) % 2
    return form == 0


def sorted_insertion_fc(hamiltonian: SparsePauliOp) -> tuple[float, list[list[int]]]:
    """``(c_I, members)``: the identity coefficient and the FC groups' term indices by
    sorted insertion (see the module docstring)."""
    coeffs = np.asarray(hamiltonian.coeffs)
    if np.max(np.abs(coeffs.imag), initial=0.0) > 1e-12:
        raise InputError("hamiltonian must be Hermitian with real Pauli coefficients")
    coeffs = coeffs.real
    x, z = hamiltonian.paulis.x, hamiltonian.paulis.z
    is_identity = ~(x.any(axis=1) | z.any(axis=1))
    constant = float(coeffs[is_identity].sum())
    labels = hamiltonian.paulis.to_labels()
    order = sorted(np.flatnonzero(~is_identity).tolist(),
                   key=lambda t: (-float(np.round(abs(coeffs[t]), 10)), labels[t]))
    commute = commutation_matrix(x, z)
    members: list[list[int]] = []
    for t in order:
        for member in members:
            if commute[t, member].all():
                member.append(t)
                break
        else:
            members.append([t])
    return constant, members


def commuting_group(hamiltonian: SparsePauliOp, member: list[int],
                    coeffs: dict[int, float] | None = None) -> CommutingGroup:
    """The :class:`CommutingGroup` of the terms ``member`` of ``hamiltonian``, with the
    Hamiltonian's coefficients or, for coefficient splitting (:mod:`.splitting`), the
    group's own share ``coeffs[t]`` of each term ``t``."""
    n = hamiltonian.num_qubits
    idx = np.array(sorted(member), dtype=np.int64)
    paulis = hamiltonian.paulis[idx]
    gates, pivots = diagonalizing_gates(paulis.x, paulis.z)
    rotated = paulis.evolve(clifford_circuit(gates, n), frame="s")
    if rotated.x.any() or np.any(rotated.phase % 2):
        raise InputError("internal: the group's Clifford did not diagonalize every term")
    weights = 1 << np.arange(n, dtype=np.int64)
    supports = (rotated.z * weights).sum(axis=1).astype(np.int64)
    pivot_mask = sum(1 << p for p in pivots)
    if np.any(supports & ~pivot_mask):
        raise InputError("internal: a rotated term acts outside the pivots")
    signs = np.where(rotated.phase == 2, -1.0, 1.0)
    shares = (np.asarray(hamiltonian.coeffs, dtype=complex)[idx].real if coeffs is None
              else np.array([coeffs[t] for t in idx.tolist()], dtype=float))
    return CommutingGroup(term_indices=tuple(idx.tolist()), coeffs=shares, signs=signs,
                          supports=supports, gates=gates, pivots=pivots, n_qubits=n)


def group_fully_commuting(hamiltonian: SparsePauliOp) -> GroupedHamiltonian:
    """Split ``hamiltonian`` into FC groups by sorted insertion, each with its Clifford."""
    constant, members = sorted_insertion_fc(hamiltonian)
    groups = tuple(commuting_group(hamiltonian, member) for member in members)
    return GroupedHamiltonian(n_qubits=hamiltonian.num_qubits, constant=constant,
                              groups=groups, kind="fc")
