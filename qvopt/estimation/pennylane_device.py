"""``backend="pennylane:<device>"``: run qvopt's circuits on any PennyLane device.

The qiskit circuit is translated gate by gate (Givens excitations → ``qml.SingleExcitation``
/ ``qml.DoubleExcitation`` at −θ, PennyLane's rotation sense being opposite to ours; RX, RY,
RZ, CZ, CX, X, H as themselves; qiskit qubit ``k`` = wire ``k``). Exact mode returns the
device's ``expval`` of the Hamiltonian; with shots every measurement group is measured in
its basis (QWC) or after its Clifford (FC: ``h``, ``s``, ``cx``, ``cz`` as ``Hadamard``,
``S``, ``CNOT``, ``CZ``; wire ``k`` = qubit ``k``) with ``qml.sample`` and the shots are
reduced with qvopt's own estimator, so error bars and the shot ledger mean the same as on
every other backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME
from ..errors import InputError, MissingExtraError
from .commuting import CommutingGroup
from .grouping import GroupedHamiltonian
from .sampler import GroupMoments, moments_from_counts


def import_pennylane():
    """The ``pennylane`` module, or a :class:`~qvopt.errors.MissingExtraError`."""
    try:
        import pennylane
    except ImportError:
        raise MissingExtraError("backend 'pennylane:<device>' needs PennyLane: "
                                "pip install pennylane") from None
    return pennylane


def _operations(circuit: QuantumCircuit):
    """[(pennylane op class, sign, param index or None, constant, wires)] for the circuit."""
    import pennylane as qml

    position = {p: i for i, p in enumerate(circuit.parameters)}
    simple = {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ}
    fixed = {"x": qml.PauliX, "h": qml.Hadamard, "cz": qml.CZ, "cx": qml.CNOT}
    plan: list[tuple[Any, float | None, int | float | None, list[int]]] = []
    for inst in circuit.data:
        op = inst.operation
        wires = [circuit.find_bit(q).index for q in inst.qubits]
        if op.name == "barrier":
            continue
        if op.name in fixed:
            plan.append((fixed[op.name], None, None, wires))
            continue
        if op.name in (SINGLE_NAME, DOUBLE_NAME) or op.name in simple:
            value = op.params[0]
            cls = {SINGLE_NAME: qml.SingleExcitation, DOUBLE_NAME: qml.DoubleExcitation}.get(
                op.name) or simple[op.name]
            sign = -1.0 if op.name in (SINGLE_NAME, DOUBLE_NAME) else 1.0
            if isinstance(value, Parameter):
                plan.append((cls, sign, position[value], wires))
            else:
                plan.append((cls, sign, float(value), wires))
            continue
        raise InputError(f"the PennyLane adapter cannot translate gate {op.name!r}")
    return plan


def _pennylane_hamiltonian(hamiltonian: SparsePauliOp):
    import pennylane as qml

    n = hamiltonian.num_qubits
    ops = []
    for label in hamiltonian.paulis.to_labels():
        word = {q: ch for q, ch in enumerate(reversed(label)) if ch != "I"}
        ops.append(qml.pauli.PauliWord(word).operation(wire_order=range(n)) if word
                   else qml.Identity(0))
    return qml.Hamiltonian(hamiltonian.coeffs.real, ops)


class PennyLaneSampler:
    """Energies from a PennyLane device (exact ``expval`` or sampled per group).

    Implements :class:`~.sampler.Sampler`; the device draws its own shots (``stream =
    "backend"``, the generator passed to :meth:`sample` is not used).
    """

    stream = "backend"

    def __init__(self, circuit: QuantumCircuit, hamiltonian: SparsePauliOp,
                 grouped: GroupedHamiltonian, device_name: str):
        qml = import_pennylane()
        self.n = circuit.num_qubits
        self.plan = _operations(circuit)
        self.grouped = grouped
        self.name = f"pennylane:{device_name}"
        try:
            self.device = qml.device(device_name, wires=self.n)
        except Exception as exc:
            raise InputError(f"PennyLane cannot create device {device_name!r}: {exc}") from exc
        self.hamiltonian = _pennylane_hamiltonian(hamiltonian)
        self.values = [g.values(self.n) for g in grouped.groups]

    def _prepare(self, theta):
        for cls, sign, arg, wires in self.plan:
            if sign is None:
                cls(wires=wires)
            elif isinstance(arg, int):
                cls(sign * theta[arg], wires=wires)
            else:
                cls(sign * arg, wires=wires)

    def exact(self, points: np.ndarray) -> np.ndarray:
        import pennylane as qml

        @qml.qnode(self.device)
        def energy(theta):
            self._prepare(theta)
            return qml.expval(self.hamiltonian)

        return np.array([float(energy(p)) for p in points])

    def _group_counts(self, group, points: np.ndarray, shots: np.ndarray) -> np.ndarray:
        """Outcome counts (P, 2^n) of one group, ``shots[p]`` shots at point ``p``: the
        ansatz, then the group's basis change (QWC) or Clifford (FC), then samples."""
        import pennylane as qml

        weights = 1 << np.arange(self.n)
        clifford = {"h": qml.Hadamard, "s": qml.S, "cx": qml.CNOT, "cz": qml.CZ}

        def measured(theta):
            self._prepare(theta)
            if isinstance(group, CommutingGroup):
                for name, qubits in group.gates:
                    clifford[name](wires=list(qubits))
            else:
                for wire, b in enumerate(group.basis):
                    if b == "X":
                        qml.Hadamard(wires=wire)
                    elif b == "Y":
                        qml.adjoint(qml.S)(wires=wire)
                        qml.Hadamard(wires=wire)
            return qml.sample(wires=range(self.n))

        qnode = qml.QNode(measured, self.device)
        counts = np.zeros((len(points), 2**self.n), dtype=np.int64)
        for k, (p, n_shots) in enumerate(zip(points, shots, strict=True)):
            if n_shots == 0:  # not run (weighted random term sampling drew no shot here)
                continue
            bits = np.asarray(qml.set_shots(qnode, shots=int(n_shots))(p))
            bits = bits.reshape(int(n_shots), self.n)
            counts[k] = np.bincount(bits @ weights, minlength=2**self.n)
        return counts

    def sample(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> GroupMoments:
        """Per-group moments from the device's samples (``shots`` (P, G))."""
        shots = np.asarray(shots, dtype=np.int64)
        counts = [self._group_counts(g, points, shots[:, k])
                  for k, g in enumerate(self.grouped.groups)]
        return moments_from_counts(counts, self.values, shots, self.grouped.constant)
