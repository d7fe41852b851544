"""UCCSD in the Givens-rotation form: all spin-conserving singles and doubles from HF.

    |ψ(θ)⟩ = Π_singles G_s(θ_s) · Π_doubles G_d(θ_d) |HF⟩

(doubles applied first, then singles; product, not the exponential of a sum), with the
particle-conserving Givens gates of :mod:`qvopt.ansatz.gates` and the spin-conserving
excitations in the order of PennyLane's ``qchem.excitations(…, delta_sz=0)`` (enumerated
here: importing PennyLane took 3 of the 6 s of a cold ``qvopt run lih``; a test checks the
lists equal PennyLane's). This is the "all singles and doubles"
ansatz of Arrazola et al., Quantum 6, 742 (2022); ``θ = 0`` gives the Hartree–Fock state.
Parameters are ordered doubles first, then singles, as ``circuit.parameters`` lists them.
"""

from __future__ import annotations

from qiskit.circuit import ParameterVector, QuantumCircuit

from ..chem.problem import Problem
from ..chem.tapering import check_untapered
from ..errors import InputError
from .gates import GivensDouble, GivensSingle


def spin_conserving_excitations(n_electrons: int, n_spin_orbitals: int
                                ) -> tuple[list[list[int]], list[list[int]]]:
    """``(singles, doubles)`` out of the lowest ``n_electrons`` spin orbitals (interleaved
    α, β: even qubits α, odd β) that keep S_z: singles ``[i, a]`` with ``i < n_electrons ≤
    a`` and ``i ≡ a (mod 2)``; doubles ``[i, j, a, b]`` with ``i < j < n_electrons ≤ a < b``
    and as many α among ``i, j`` as among ``a, b``; each in lexicographic order (PennyLane's
    ``qchem.excitations`` with ``delta_sz=0`` lists the same, in the same order)."""
    occupied, virtual = range(n_electrons), range(n_electrons, n_spin_orbitals)
    singles = [[i, a] for i in occupied for a in virtual if i % 2 == a % 2]
    doubles = [[i, j, a, b] for i in occupied for j in occupied if i < j
               for a in virtual for b in virtual if a < b
               and (i % 2) + (j % 2) == (a % 2) + (b % 2)]
    return singles, doubles


def excitation_lists(problem: Problem) -> tuple[list[list[int]], list[list[int]]]:
    """(singles, doubles) of ``problem`` as lists of qubit indices
    (:func:`spin_conserving_excitations`)."""
    check_untapered(problem, "uccsd")  # excitations are not tapered (qvopt.chem.tapering)
    if problem.n_electrons >= problem.n_qubits or problem.n_electrons == 0:
        raise InputError(f"problem {problem.name!r} has {problem.n_electrons} electrons in "
                         f"{problem.n_qubits} spin orbitals: UCCSD needs occupied and virtual "
                         "orbitals (no excitations exist)" + (
                             "; for a Hamiltonian given as an operator, name its electrons: "
                             "qvopt.problem_from_operator(op, n_electrons=…), or give a "
                             "circuit as the ansatz" if problem.spec is None else ""))
    return spin_conserving_excitations(problem.n_electrons, problem.n_qubits)


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
