"""``backend="pennylane:<device>"``: run qvopt's circuits on any PennyLane device.

The qiskit circuit is translated gate by gate (Givens excitations → ``qml.SingleExcitation``
/ ``qml.DoubleExcitation`` at −θ, PennyLane's rotation sense being opposite to ours; RX, RY,
RZ, CZ, CX, X, H as themselves; qiskit qubit ``k`` = wire ``k``). Exact mode returns the
device's ``expval`` of the Hamiltonian; with shots every measurement group is measured in
its basis with ``qml.sample`` and the shots are reduced with qvopt's own estimator, so error
bars and the shot ledger mean the same as on every other backend.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME
from .grouping import GroupedHamiltonian


def _operations(circuit: QuantumCircuit):
    """[(pennylane op class, sign, param index or None, constant, wires)] for the circuit."""
    import pennylane as qml

    position = {p: i for i, p in enumerate(circuit.parameters)}
    simple = {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ}
    fixed = {"x": qml.PauliX, "h": qml.Hadamard, "cz": qml.CZ, "cx": qml.CNOT}
    plan = []
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
        raise ValueError(f"the PennyLane adapter cannot translate gate {op.name!r}")
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
    """Energies from a PennyLane device (exact ``expval`` or sampled per group)."""

    def __init__(self, circuit: QuantumCircuit, hamiltonian: SparsePauliOp,
                 grouped: GroupedHamiltonian, device_name: str):
        import pennylane as qml

        self.n = circuit.num_qubits
        self.plan = _operations(circuit)
        self.grouped = grouped
        self.name = f"pennylane:{device_name}"
        try:
            self.device = qml.device(device_name, wires=self.n)
        except Exception as exc:
            raise ValueError(f"PennyLane cannot create device {device_name!r}: {exc}") from exc
        self.hamiltonian = _pennylane_hamiltonian(hamiltonian)

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

    def counts(self, points: np.ndarray, shots: np.ndarray) -> list[np.ndarray]:
        """Outcome counts (points, 2^n) of every group, sampled by the device."""
        import pennylane as qml

        weights = 1 << np.arange(self.n)
        out = []
        for group, n_shots in zip(self.grouped.groups, shots, strict=True):

            @qml.set_shots(int(n_shots))
            @qml.qnode(self.device)
            def sample(theta, basis=group.basis):
                self._prepare(theta)
                for wire, b in enumerate(basis):
                    if b == "X":
                        qml.Hadamard(wires=wire)
                    elif b == "Y":
                        qml.adjoint(qml.S)(wires=wire)
                        qml.Hadamard(wires=wire)
                return qml.sample(wires=range(self.n))

            counts = np.zeros((len(points), 2**self.n), dtype=np.int64)
            for k, p in enumerate(points):
                bits = np.asarray(sample(p)).reshape(int(n_shots), self.n)
                counts[k] = np.bincount(bits @ weights, minlength=2**self.n)
            out.append(counts)
        return out
