"""Qubit-wise-commuting (QWC) measurement groups and their per-outcome value tables.

Two Pauli strings commute qubit-wise when on every qubit they are equal or one is I.
Heuristics (``method``):

* ``"sorted_insertion"`` (default; Crawford et al., Quantum 5, 385 (2021)): terms in order
  of decreasing |coefficient| (rounded to 1e-10; ties by Pauli label) go into the first
  group they commute with qubit-wise, else open a new group. Large terms share groups,
  which favours low variance: on LiH (12 qubits, ground state) the optimal allocation
  needs 4.6e5 shots for 1.6 mHa, against 8.8e5 with DSATUR groups.
* ``"dsatur"``: colour the graph whose edges join terms that do *not* commute qubit-wise
  with the DSATUR greedy colouring (Brélaz 1979; rustworkx's ``Saturation`` strategy); each
  colour is a group. Fewest groups (LiH: 149 vs 177), so fewer circuits per evaluation.

The identity term is not measured; it is a constant offset.

For a group measured in basis ``b`` (X, Y or Z per qubit; Z where all its terms have I),
a shot gives an outcome ``x`` (bit ``k`` = qubit ``k``) whose *value* is

    v_g(x) = Σ_{t ∈ g} c_t (−1)^{popcount(x & support_t)},

so the group's energy contribution is the mean of ``v_g`` over shots, and its sample
variance already contains all covariances between the group's terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError

if TYPE_CHECKING:
    import scipy.sparse


@dataclass(frozen=True)
class MeasurementGroup:
    """One QWC group: the measurement basis and the terms it estimates."""

    basis: str  # per-qubit basis, qubit 0 first: characters "X", "Y", "Z"
    term_indices: tuple[int, ...]  # indices into the Hamiltonian's terms
    coeffs: np.ndarray  # real coefficients of those terms
    supports: np.ndarray  # int bit masks of the terms' non-identity qubits

    def values(self, n_qubits: int) -> np.ndarray:
        """``v_g(x)`` for every outcome ``x`` in ``0 … 2^n − 1``."""
        return parity_values(self.coeffs, self.supports, n_qubits)


def gf2_basis(vectors: np.ndarray) -> list[int]:
    """A basis of the GF(2) span of the bit masks ``vectors`` (Gaussian elimination),
    largest first."""
    basis: list[int] = []
    for value in (int(v) for v in vectors):
        for b in basis:
            value = min(value, value ^ b)
        if value:
            basis.append(value)
            basis.sort(reverse=True)
    return basis


def parity_values(coeffs, supports, n_qubits: int) -> np.ndarray:
    """``v(x) = Σ_t c_t (−1)^{popcount(x & support_t)}`` for every ``x`` in ``0 … 2^n − 1``:
    the value of each outcome of a group measured in its diagonal frame."""
    outcomes = np.arange(2**n_qubits, dtype=np.int64)
    values = np.zeros(2**n_qubits)
    for coeff, support in zip(coeffs, supports, strict=True):
        parity = np.bitwise_count(outcomes & int(support)) & 1
        values += coeff * (1.0 - 2.0 * parity)
    return values


@dataclass(frozen=True)
class OutcomeClasses:
    """Outcomes of one group merged by their value ``v_g``.

    The estimate of a group only sees the per-shot value ``v_g(x)``, so drawing a shot
    from the class probabilities ``p(c) = Σ_{x: v_g(x) = v_c} p(x)`` gives exactly the same
    distribution of estimates as drawing the outcome ``x`` and computing ``v_g(x)``. A group
    of ``m`` terms has at most ``2^m`` classes (often far fewer than ``2^n`` outcomes).
    """

    labels: np.ndarray  # (2^n,) class index of every outcome (int32)
    values: np.ndarray  # (C,) v_g of each class

    @cached_property
    def indicator(self) -> scipy.sparse.csr_matrix:
        """(C, 2^n): 1 where outcome x is in class c (built on first use: the sector
        engine never needs it, and H8's 959 groups' took 0.75 GB)."""
        from scipy.sparse import csr_matrix

        n_outcomes = len(self.labels)
        return csr_matrix((np.ones(n_outcomes), (self.labels, np.arange(n_outcomes))),
                          shape=(len(self.values), n_outcomes))

    def probabilities(self, probs: np.ndarray) -> np.ndarray:
        """Class probabilities (R, C) from outcome probabilities (R, 2^n)."""
        return np.asarray(self.indicator @ probs.T).T


def outcome_classes(group: MeasurementGroup, n_qubits: int) -> OutcomeClasses:
    """Merge the outcomes of ``group`` into classes of equal value (see :class:`OutcomeClasses`)."""

    values = group.values(n_qubits)
    scale = max(float(np.abs(group.coeffs).sum()), 1e-300)
    keys = np.round(values / scale, 12)
    _, first, labels = np.unique(keys, return_index=True, return_inverse=True)
    return OutcomeClasses(labels=labels.astype(np.int32), values=values[first])


@dataclass(frozen=True)
class GroupedHamiltonian:
    """A Hamiltonian split into its constant (identity) part and measurement groups.

    ``kind``: ``"qwc"`` (:class:`MeasurementGroup`, measured in a per-qubit basis) or
    ``"fc"`` (:class:`~.commuting.CommutingGroup`, measured after a Clifford circuit). Both
    group types have ``term_indices``, ``coeffs`` (the terms' real coefficients ``c_t``) and
    ``values(n_qubits)`` (the per-outcome value ``v_g(x)`` in the measured frame), which is
    all that allocation, term sampling and counts-based samplers use.

    With coefficient splitting (``grouping="fc_split"``, :mod:`.splitting`) a term may sit
    in several groups, each with its own share in ``coeffs``; the shares of a term add up to
    its coefficient, so ``c_I + Σ_g Σ_{t∈g} c_t^g P_t = H`` holds for every grouping.
    """

    n_qubits: int
    constant: float
    groups: tuple
    kind: str = "qwc"

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    def coefficient_norms(self) -> np.ndarray:
        """``w_g = Σ_{k∈g} |c_k|`` of every group: a bound on its per-shot standard
        deviation σ_g, used by the ``weighted`` allocation and weighted random sampling."""
        return np.array([float(np.sum(np.abs(g.coeffs))) for g in self.groups])


def _pauli_chars(op: SparsePauliOp) -> np.ndarray:
    """(terms, qubits) array of 'I','X','Y','Z' with qubit 0 in column 0."""
    x = op.paulis.x
    z = op.paulis.z
    chars = np.full(x.shape, "I")
    chars[x & ~z] = "X"
    chars[x & z] = "Y"
    chars[~x & z] = "Z"
    return chars


def _dsatur_groups(chars: np.ndarray, terms: np.ndarray) -> list[list[int]]:
    import rustworkx as rx

    active = chars[terms] != "I"
    edges: list[tuple[int, int]] = []
    for a in range(len(terms)):
        clash = (active[a] & active[a + 1:] & (chars[terms[a]] != chars[terms[a + 1:]])).any(1)
        edges += [(a, a + 1 + int(b)) for b in np.flatnonzero(clash)]
    graph = rx.PyGraph()
    graph.add_nodes_from(range(len(terms)))
    graph.add_edges_from_no_data(edges)
    colours = rx.graph_greedy_color(graph, strategy=rx.ColoringStrategy.Saturation)
    groups: dict[int, list[int]] = {}
    for node in range(len(terms)):
        groups.setdefault(colours[node], []).append(int(terms[node]))
    return [groups[c] for c in sorted(groups)]


GROUPING_METHODS = ("sorted_insertion", "dsatur")


def group_qubitwise_commuting(hamiltonian: SparsePauliOp, method: str = "sorted_insertion"
                              ) -> GroupedHamiltonian:
    """Split ``hamiltonian`` into QWC groups (see module docstring for ``method``)."""
    if method not in GROUPING_METHODS:
        raise InputError(f"grouping must be one of {list(GROUPING_METHODS)}, got {method!r}")
    coeffs = np.asarray(hamiltonian.coeffs)
    if np.max(np.abs(coeffs.imag), initial=0.0) > 1e-12:
        raise InputError("hamiltonian must be Hermitian with real Pauli coefficients")
    coeffs = coeffs.real
    chars = _pauli_chars(hamiltonian)
    n = hamiltonian.num_qubits
    is_identity = (chars == "I").all(axis=1)
    constant = float(coeffs[is_identity].sum())

    if method == "dsatur":
        terms = np.flatnonzero(~is_identity)
        members: list[list[int]] = _dsatur_groups(chars, terms) if len(terms) else []
        bases: list[np.ndarray] = []
        for member in members:
            basis = np.full(n, "I")
            for t in member:
                basis[chars[t] != "I"] = chars[t][chars[t] != "I"]
            bases.append(basis)
        return _build(n, constant, coeffs, chars, bases, members)

    # |c| rounded so that mathematically equal coefficients (which differ by ~1e-16 between
    # PySCF runs) tie, and ties broken by the Pauli label: the grouping is reproducible.
    labels = hamiltonian.paulis.to_labels()
    order = sorted(np.flatnonzero(~is_identity).tolist(),
                   key=lambda t: (-float(np.round(abs(coeffs[t]), 10)), labels[t]))
    bases, members = _first_fit(chars, order)
    return _build(n, constant, coeffs, chars, bases, members)


def _first_fit(chars: np.ndarray, order: list[int]) -> tuple[list[np.ndarray], list[list[int]]]:
    """Each term of ``order`` joins the first group (in the order groups were opened) whose
    basis it is qubit-wise compatible with — on every qubit one of the two is ``I`` or they
    agree — and fills that basis in; otherwise it opens a group. All open groups are tested
    at once on a (groups, qubits) code array (0 = I), so a 20-qubit Hamiltonian with 7,151
    terms groups in about a second (it took 22 s one group at a time)."""
    codes = np.searchsorted(np.array(["I", "X", "Y", "Z"]), chars).astype(np.int8)
    n = chars.shape[1]
    table = np.zeros((max(len(order), 1), n), dtype=np.int8)  # row g: group g's basis
    members: list[list[int]] = []
    for t in order:
        term = codes[t]
        active = term != 0
        opened = table[:len(members)]
        fits = ~np.any((opened[:, active] != 0) & (opened[:, active] != term[active]), axis=1)
        hit = np.flatnonzero(fits)
        if len(hit):
            g = int(hit[0])
            table[g, active] = term[active]
            members[g].append(int(t))
        else:
            table[len(members)] = term
            members.append([int(t)])
    letters = np.array(["I", "X", "Y", "Z"])
    return [letters[row] for row in table[:len(members)]], members


def _build(n, constant, coeffs, chars, bases, members) -> GroupedHamiltonian:
    weights = 1 << np.arange(n, dtype=np.int64)
    groups = []
    for basis, member in zip(bases, members, strict=True):
        idx = np.array(sorted(member))
        supports = ((chars[idx] != "I") * weights).sum(axis=1)
        basis_str = "".join("Z" if b == "I" else b for b in basis)
        groups.append(MeasurementGroup(basis=basis_str, term_indices=tuple(int(i) for i in idx),
                                       coeffs=coeffs[idx], supports=supports.astype(np.int64)))
    return GroupedHamiltonian(n_qubits=n, constant=constant, groups=tuple(groups))
