"""Hardware-efficient ansatz: layers of RY·RZ rotations and a CZ ladder on the HF state.

    |ψ(θ)⟩ = Π_{l=1..L} [ CZ_{n-2,n-1} … CZ_{0,1} · ⊗_q RZ(φ_{l,q}) RY(θ_{l,q}) ] |HF⟩

``RY(θ) = exp(−iθY/2)``, ``RZ(φ) = exp(−iφZ/2)``; each parameter enters one gate with the
two-term shift rule. At θ = 0 every rotation is the identity and each CZ only multiplies
the HF basis state by a global ±1, so the state is Hartree–Fock. Parameters per layer:
``2 n_qubits`` (RY angles of all qubits, then RZ angles). Not particle conserving.
"""

from __future__ import annotations

from qiskit.circuit import ParameterVector, QuantumCircuit

from ..chem.problem import Problem
from ..errors import InputError
from .uccsd import hartree_fock_circuit


def hardware_efficient(problem: Problem, layers: int = 2) -> QuantumCircuit:
    """RY/RZ + CZ-ladder ansatz with ``layers`` layers, starting from Hartree–Fock."""
    if not isinstance(layers, int) or isinstance(layers, bool) or layers < 1:
        raise InputError(f"layers must be a positive integer, got {layers!r}")
    n = problem.n_qubits
    theta = ParameterVector("θ", 2 * n * layers)
    circuit = hartree_fock_circuit(problem)
    circuit.name = f"hea{layers}_{problem.name}"
    for layer in range(layers):
        base = 2 * n * layer
        for q in range(n):
            circuit.ry(theta[base + q], q)
        for q in range(n):
            circuit.rz(theta[base + n + q], q)
        for q in range(n - 1):
            circuit.cz(q, q + 1)
    circuit.metadata = {"ansatz": "hardware_efficient", "layers": layers}
    return circuit
