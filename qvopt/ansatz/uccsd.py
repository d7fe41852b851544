"""UCCSD in the Givens-rotation form: all spin-conserving singles and doubles from HF.

    |ψ(θ)⟩ = Π_singles G_s(θ_s) · Π_doubles G_d(θ_d) |HF⟩

(doubles applied first, then singles; product, not the exponential of a sum), with the
particle-conserving Givens gates of :mod:`qvopt.ansatz.gates` and the excitation lists of
PennyLane's ``qchem.excitations`` (Δ S_z = 0). This is the "all singles and doubles"
ansatz of Arrazola et al., Quantum 6, 742 (2022); ``θ = 0`` gives the Hartree–Fock state.
Parameters are ordered doubles first, then singles, as ``circuit.parameters`` lists them.
"""

from __future__ import annotations

from qiskit.circuit import ParameterVector, QuantumCircuit

from ..chem.problem import Problem
from ..chem.tapering import check_untapered
from ..errors import InputError
from .gates import GivensDouble, GivensSingle


def excitation_lists(problem: Problem) -> tuple[list[list[int]], list[list[int]]]:
    """(singles, doubles) as lists of qubit indices, from PennyLane's ``qchem.excitations``."""
    import pennylane as qml

    check_untapered(problem, "uccsd")  # excitations are not tapered (qvopt.chem.tapering)
    if problem.n_electrons >= problem.n_qubits or problem.n_electrons == 0:
        raise InputError(f"problem {problem.name!r} has {problem.n_electrons} electrons in "
                         f"{problem.n_qubits} spin orbitals: UCCSD needs occupied and virtual "
                         "orbitals (no excitations exist)" + (
                             "; for a Hamiltonian given as an operator, name its electrons: "
                             "qvopt.problem_from_operator(op, n_electrons=…), or give a "
                             "circuit as the ansatz" if problem.spec is None else ""))
    singles, doubles = qml.qchem.excitations(problem.n_electrons, problem.n_qubits, delta_sz=0)
    return [list(map(int, s)) for s in singles], [list(map(int, d)) for d in doubles]


def hartree_fock_circuit(problem: Problem) -> QuantumCircuit:
    """X gates preparing the Hartree–Fock basis state from |0…0⟩."""
    circuit = QuantumCircuit(problem.n_qubits, name="hf")
    for qubit, occupied in enumerate(problem.hf_occupation):
        if occupied:
            circuit.x(qubit)
    return circuit


def uccsd(problem: Problem) -> QuantumCircuit:
    """All singles and doubles (Givens form) on top of the Hartree–Fock state."""
    singles, doubles = excitation_lists(problem)
    n_params = len(doubles) + len(singles)
    if n_params == 0:
        raise InputError(f"problem {problem.name!r} has no single or double excitations")
    theta = ParameterVector("θ", n_params)
    circuit = hartree_fock_circuit(problem)
    circuit.name = f"uccsd_{problem.name}"
    for k, wires in enumerate(doubles):
        circuit.append(GivensDouble(theta[k]), wires)
    for k, wires in enumerate(singles):
        circuit.append(GivensSingle(theta[len(doubles) + k]), wires)
    circuit.metadata = {"ansatz": "uccsd", "singles": singles, "doubles": doubles}
    return circuit
