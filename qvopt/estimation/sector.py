"""The particle-number sector engine: states of excitation-gate circuits without Aer.

A circuit qualifies when it is a basis-state reference (``x`` gates, barriers) followed
only by qvopt's Givens excitation gates (:mod:`qvopt.ansatz.gates`), each with a bare
Parameter or a number as its angle. Every such gate rotates pairs of basis states
``|from⟩ ↔ |to⟩`` that have the same number of ones, so the state never leaves the span of
the basis states reachable from the reference.

**Sector basis.** ``basis`` lists those reachable basis states as full-register integers
(qubit ``q`` ↔ bit ``q``, qiskit's little-endian order), **sorted ascending**; sector
amplitude ``k`` is the amplitude of ``|basis[k]⟩``. It is found by closure: start from
``{reference}``, and for each gate in circuit order add the partner of every member whose
bits on the gate's qubits equal the gate's ``from`` or ``to`` pattern. For UCCSD from
Hartree–Fock this is the (Nα, Nβ) sector (LiH: 225 of 4,096 amplitudes).

**Givens rotation convention** (as in :mod:`qvopt.ansatz.gates`): ``G(θ) = exp(θ/2 · A)``,
``A = |to⟩⟨from| − |from⟩⟨to|``, so for each index pair ``(i, j)`` with
``basis[i] = …from…`` and ``basis[j] = …to…`` (same bits elsewhere),

    ψ_i ← cos(θ/2) ψ_i − sin(θ/2) ψ_j,      ψ_j ← sin(θ/2) ψ_i + cos(θ/2) ψ_j.

The ``from``/``to`` patterns are read off each gate's ``generator()``
(``K = i(|to⟩⟨from| − |from⟩⟨to|)``), not hard-coded.

Sector amplitudes are **real** (a basis-state reference and real orthogonal rotations);
the circuit's global phase is applied only when a state is embedded into the full
``2^n`` vector. All parameter points of a call are propagated at once: the state array is
``(D, P)`` and each gate is two gathers and four multiply-adds over its index pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterExpression

from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME
from ..errors import InputError

EXCITATION_GATES = (SINGLE_NAME, DOUBLE_NAME)
REFERENCE_GATES = ("x",)
IGNORED = ("barrier",)


@dataclass(frozen=True)
class Excitation:
    """One Givens gate in full-register bit masks.

    ``from_bits``/``to_bits``: the bits of ``|from⟩``/``|to⟩`` on the gate's qubits
    (``mask``); ``param``: column of θ, or None for a fixed ``angle``.
    """

    mask: int
    from_bits: int
    to_bits: int
    param: int | None
    angle: float = 0.0


@dataclass(frozen=True)
class ExcitationCircuit:
    """A qualifying circuit: reference bitstring, excitations in order, global phase."""

    n_qubits: int
    reference: int
    excitations: tuple[Excitation, ...]
    global_phase: float
    n_params: int


def _local_pattern(local: int, qubits: list[int]) -> int:
    """Local index (bit l ↔ ``qubits[l]``) → full-register bits."""
    return sum(1 << q for bit, q in enumerate(qubits) if (local >> bit) & 1)


def _from_to(operation) -> tuple[int, int]:
    """(from, to) local indices of a Givens gate, from ``K[to, from] = +i``."""
    matrix = operation.generator().to_matrix()
    to_index, from_index = np.unravel_index(np.argmax(matrix.imag), matrix.shape)
    if not np.isclose(matrix[to_index, from_index], 1j):
        raise InputError(f"gate {operation.name!r}: generator is not i(|to⟩⟨from| − h.c.)")
    return int(from_index), int(to_index)


def _gate_angle(operation, position: dict) -> tuple[int | None, float] | str:
    """(parameter column, fixed angle) of a Givens gate, or why it is not supported."""
    (value,) = operation.params
    if isinstance(value, Parameter):
        return position[value], 0.0
    if isinstance(value, ParameterExpression):
        if value.parameters:
            return f"gate {operation.name!r} has the angle expression {value} (needs a bare " \
                   "Parameter or a number)"
        value = float(value)
    return None, float(value)


def parse_excitation_circuit(circuit: QuantumCircuit) -> ExcitationCircuit | str:
    """The circuit as an :class:`ExcitationCircuit`, or a sentence saying why it does not
    qualify for the sector engine (see the module docstring)."""
    position = {p: i for i, p in enumerate(circuit.parameters)}
    reference = 0
    excitations: list[Excitation] = []
    for instruction in circuit.data:
        op = instruction.operation
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if op.name in IGNORED:
            continue
        if op.name in REFERENCE_GATES:
            if excitations:
                return (f"an {op.name!r} gate on qubit {qubits[0]} follows an excitation gate"
                        " (the reference must come first)")
            reference ^= 1 << qubits[0]
            continue
        if op.name not in EXCITATION_GATES:
            return (f"gate {op.name!r} on qubits {qubits} is not a qvopt excitation gate "
                    f"({', '.join(EXCITATION_GATES)}) or a reference X gate")
        angle = _gate_angle(op, position)
        if isinstance(angle, str):
            return angle
        from_local, to_local = _from_to(op)
        excitations.append(Excitation(mask=_local_pattern(2**len(qubits) - 1, qubits),
                                      from_bits=_local_pattern(from_local, qubits),
                                      to_bits=_local_pattern(to_local, qubits),
                                      param=angle[0], angle=angle[1]))
    if isinstance(circuit.global_phase, ParameterExpression) and \
            circuit.global_phase.parameters:
        return "the circuit's global phase depends on parameters"
    return ExcitationCircuit(circuit.num_qubits, reference, tuple(excitations),
                             float(circuit.global_phase), circuit.num_parameters)


def sector_unsupported_reason(circuit: QuantumCircuit) -> str | None:
    """None when ``circuit`` qualifies for the sector engine, else the reason."""
    parsed = parse_excitation_circuit(circuit)
    return parsed if isinstance(parsed, str) else None


def find_in_basis(basis: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``states`` (any shape) sits in the sorted ``basis``, and whether it is
    there at all: ``(index, present)``; an absent state's index points at some other state
    and must not be used."""
    found = np.minimum(np.searchsorted(basis, states), len(basis) - 1)
    return found, basis[found] == states


def reachable_basis(parsed: ExcitationCircuit) -> np.ndarray:
    """Sorted full-register indices of every basis state the circuit can reach (closure
    over the gates in circuit order, see the module docstring)."""
    states = np.array([parsed.reference], dtype=np.int64)
    for gate in parsed.excitations:
        flip = gate.from_bits ^ gate.to_bits
        bits = states & gate.mask
        movers = states[(bits == gate.from_bits) | (bits == gate.to_bits)]
        states = np.union1d(states, movers ^ flip)
    return states


def first_differences(angles: np.ndarray, reference: np.ndarray | None = None
                      ) -> np.ndarray:
    """Per point (row of ``angles`` (P, gates)), the first gate whose angle differs from
    ``reference``'s, ``gates`` where none does. Without ``reference``: from the first
    point's, which itself gets ``−1``."""
    differs = angles != (angles[:1] if reference is None else reference)
    first = np.where(differs.any(axis=1), differs.argmax(axis=1), angles.shape[1])
    if reference is None:
        first[:1] = -1
    return first


def rotation_starts(angles: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Where each point (row of ``angles``) joins the rotation, ``−1`` for the one column
    rotated from the reference state, and the extra base column's angles if that column
    is not a point (else None): see :meth:`SectorEngine.sector_columns`. The base is
    used when it saves rotated columns over the first point's scheme."""
    n_points, n_gates = angles.shape
    base = np.sort(angles, axis=0)[n_points // 2]
    start = first_differences(angles, base)
    same = np.flatnonzero(start == n_gates)
    if same.size:  # a point is the base
        start[same[0]] = -1
        return start, None
    first = first_differences(angles)
    if n_gates + np.sum(n_gates - start) < np.sum(n_gates - np.maximum(first, 0)):
        return np.concatenate([[-1], start]), base
    return first, None


@dataclass(frozen=True)
class _PairTable:
    """Index pairs of one gate in the sector basis: ``basis[i] ↔ basis[j]``, from → to."""

    i: np.ndarray
    j: np.ndarray
    param: int | None
    angle: float


class SectorEngine:
    """Statevectors of a qualifying circuit at many points, in the sector basis.

    ``sector_states(points)`` → real ``(P, D)`` amplitudes over :attr:`basis`;
    ``iter_statevectors``/``statevectors`` give the same states embedded into ``2^n``
    (with the global phase), the interface of
    :class:`~.statevector.AerStatevectorEngine`.
    """

    name = "sector"
    device = "CPU"

    def __init__(self, circuit: QuantumCircuit, max_amplitudes: int = 2**21):
        parsed = parse_excitation_circuit(circuit)
        if isinstance(parsed, str):
            raise InputError(f"engine='sector' needs a basis-state reference followed by "
                             f"qvopt excitation gates only: {parsed}")
        self.circuit = circuit
        self.parsed = parsed
        self.n_qubits = parsed.n_qubits
        self.n_params = parsed.n_params
        self.basis = reachable_basis(parsed)
        self.dimension = len(self.basis)
        self.phase = np.exp(1j * parsed.global_phase)
        self.reference_index = int(np.searchsorted(self.basis, parsed.reference))
        self.pairs = tuple(self._pair_table(gate) for gate in parsed.excitations)
        self.max_points = max(1, max_amplitudes // 2**self.n_qubits)

    def _pair_table(self, gate: Excitation) -> _PairTable:
        """The gate's ``from ↔ to`` pairs within :attr:`basis`. A ``from`` state whose
        partner is not in the basis is left out: the closure (:func:`reachable_basis`)
        adds every present state's partner, so such a state is only reached by a *later*
        gate and has amplitude 0 here, as has its partner. (Looking such a partner up would
        land on an unrelated state and rotate it: a wrong, even non-unitary, state.)"""
        members = np.flatnonzero((self.basis & gate.mask) == gate.from_bits)
        partners, present = find_in_basis(
            self.basis, self.basis[members] ^ (gate.from_bits ^ gate.to_bits))
        return _PairTable(members[present], partners[present], gate.param, gate.angle)

    def sector_columns(self, points: np.ndarray) -> np.ndarray:
        """Real sector amplitudes ``(D, P)`` (one column per row of ``points`` (P, p)).

        The batch's **base** takes at each gate the middle of the points' sorted angles
        (the angle more than half the points share, if one is: θ itself for a
        parameter-shift batch around θ, whether or not θ is one of its points). One column
        is rotated from the reference: the base (a point equal to it, or one more column
        where that saves work over the first point, else the first point); a point whose
        angles equal that column's on every gate before gate ``i`` has its state until
        then: it is copied from it when gate ``i`` is reached and only then rotated
        (:func:`rotation_starts`). A parameter-shift batch (one shifted angle a point) so
        rotates about half the columns a gate, with the same arithmetic on each column as
        rotating them all (bit for bit). H8's gradient batch has no unshifted point:
        measured from its first point, every point differed at the first gate."""
        points = np.atleast_2d(np.asarray(points, dtype=float))
        angles = np.stack([points[:, table.param] if table.param is not None
                           else np.full(len(points), table.angle) for table in self.pairs],
                          axis=1) if self.pairs else np.zeros((len(points), 0))
        if not len(points):
            return np.zeros((self.dimension, 0))
        start, base = rotation_starts(angles)
        if base is not None:  # one more column, first
            angles = np.vstack([base, angles])
        order = np.argsort(start, kind="stable")  # the column from the reference first
        start, halves = start[order], angles[order].T / 2
        columns = np.zeros((self.dimension, len(angles)))
        columns[self.reference_index] = 1.0
        active = 1
        for gate, table in enumerate(self.pairs):
            joined = int(np.searchsorted(start, gate, side="right"))
            columns[:, active:joined] = columns[:, :1]
            active = max(active, joined)
            half = halves[gate, :active]
            self._rotate(columns[:, :active], table, np.cos(half), np.sin(half))
        columns[:, active:] = columns[:, :1]
        if base is None:
            out = np.empty_like(columns)
            out[:, order] = columns
            return out
        out = np.empty((self.dimension, len(points)))
        out[:, order[1:] - 1] = columns[:, 1:]
        return out

    def sector_states(self, points: np.ndarray) -> np.ndarray:
        """Real sector amplitudes ``(P, D)`` at every row of ``points`` (P, p)."""
        return self.sector_columns(points).T.copy()

    @staticmethod
    def _rotate(columns: np.ndarray, table: _PairTable, c: np.ndarray, s: np.ndarray
                ) -> None:
        """``ψ_i, ψ_j ← cψ_i − sψ_j, sψ_i + cψ_j`` on every pair, every point (in place)."""
        a = columns[table.i]
        b = columns[table.j]
        rotated = a * c
        rotated -= b * s
        b *= c
        b += a * s  # the same operations as a·s + b·c, with fewer temporary arrays
        columns[table.i] = rotated
        columns[table.j] = b

    def embed(self, sector: np.ndarray) -> np.ndarray:
        """Full ``(P, 2^n)`` complex statevectors from sector amplitudes (P, D)."""
        sector = np.atleast_2d(sector)
        full = np.zeros((len(sector), 2**self.n_qubits), dtype=complex)
        full[:, self.basis] = sector * self.phase
        return full

    def iter_statevectors(self, points: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(rows, states)`` chunks of full statevectors (as the Aer engine does)."""
        points = np.atleast_2d(points)
        for start in range(0, len(points), self.max_points):
            rows = slice(start, min(start + self.max_points, len(points)))
            yield rows, self.embed(self.sector_states(points[rows]))

    def statevectors(self, points: np.ndarray) -> np.ndarray:
        """All full statevectors at once, shape (P, 2^n)."""
        return np.concatenate([s for _, s in self.iter_statevectors(points)])
