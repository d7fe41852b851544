"""Ansätze: gate definitions, HF at zero, exact parameter-shift gradients."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Statevector
from scipy.linalg import expm

import qvopt
from qvopt.ansatz.gates import GivensDouble, GivensSingle


@pytest.mark.parametrize("gate_cls", [GivensSingle, GivensDouble])
@pytest.mark.parametrize("theta", [0.0, 0.37, -2.1, 3.5])
def test_givens_gate_is_exp_of_generator(gate_cls, theta):
    gate = gate_cls(theta)
    circuit = QuantumCircuit(gate.num_qubits)
    circuit.append(gate, range(gate.num_qubits))
    generator = gate.generator().to_matrix()
    assert np.allclose(Operator(circuit).data, expm(-0.5j * theta * generator), atol=1e-12)
    # generator spectrum {-1, 0, ..., 0, 1}: the four-term rule is exact
    assert np.allclose(sorted(np.linalg.eigvalsh(generator))[::len(generator) - 1], [-1, 1])


def test_givens_single_rotates_from_into_to():
    circuit = QuantumCircuit(2)
    circuit.x(0)  # |i=1, a=0>
    circuit.append(GivensSingle(0.8), [0, 1])
    state = Statevector(circuit).data
    assert state[0b01] == pytest.approx(np.cos(0.4))
    assert state[0b10] == pytest.approx(np.sin(0.4))


def test_uccsd_parameter_counts(h2, lih_fc, lih):
    assert qvopt.ansatz.uccsd(h2).num_parameters == 3
    assert qvopt.ansatz.uccsd(lih_fc).num_parameters == 24
    assert qvopt.ansatz.uccsd(lih).num_parameters == 92


@pytest.mark.parametrize("make", [qvopt.ansatz.uccsd,
                                  lambda p: qvopt.ansatz.hardware_efficient(p, layers=2)])
def test_zero_parameters_give_hartree_fock(make, lih_fc):
    circuit = make(lih_fc)
    est = qvopt.Estimator(lih_fc.hamiltonian, circuit)
    assert est.energy(np.zeros(circuit.num_parameters)).value == pytest.approx(lih_fc.e_hf,
                                                                               abs=1e-8)


def central_differences(est, theta, h=1e-5):
    eye = np.eye(len(theta))
    plus = est.energy(theta + h * eye).value
    minus = est.energy(theta - h * eye).value
    return (plus - minus) / (2 * h)


@pytest.mark.parametrize("ansatz", ["uccsd", "hardware_efficient"])
@pytest.mark.parametrize("name", ["h2", "lih_fc"])
def test_exact_parameter_shift_equals_finite_differences(ansatz, name, request):
    problem = request.getfixturevalue(name)
    circuit = qvopt.ansatz.build_ansatz(ansatz, problem)
    est = qvopt.Estimator(problem.hamiltonian, circuit)
    theta = np.random.default_rng(11).uniform(-np.pi, np.pi, circuit.num_parameters)
    grad = est.gradient(theta)
    assert grad.shots == 0
    assert np.all(grad.stderr == 0)
    assert np.allclose(grad.value, central_differences(est, theta), atol=1e-6)


def test_hardware_efficient_layers_validated(h2):
    with pytest.raises(ValueError, match="layers must be a positive integer"):
        qvopt.ansatz.hardware_efficient(h2, layers=0)
    assert qvopt.ansatz.hardware_efficient(h2, layers=3).num_parameters == 24


def test_unknown_ansatz(h2):
    with pytest.raises(ValueError, match="unknown ansatz 'ucc'"):
        qvopt.ansatz.build_ansatz("ucc", h2)


def test_excitations_equal_pennylane_in_content_and_order():
    """The enumerated excitations are PennyLane's ``qchem.excitations(…, delta_sz=0)``,
    element for element, for even and odd electron counts (the UCCSD parameter order and
    every seeded run depend on it)."""
    qml = pytest.importorskip("pennylane")
    from qvopt.ansatz.uccsd import spin_conserving_excitations

    for n_qubits in range(2, 21, 2):
        for n_electrons in range(1, n_qubits):
            ours = spin_conserving_excitations(n_electrons, n_qubits)
            singles, doubles = qml.qchem.excitations(n_electrons, n_qubits, delta_sz=0)
            assert ours[0] == [list(map(int, s)) for s in singles], (n_electrons, n_qubits)
            assert ours[1] == [list(map(int, d)) for d in doubles], (n_electrons, n_qubits)
