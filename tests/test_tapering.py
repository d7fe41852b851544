"""Qubit tapering: fewer qubits, same ground energy, the Hartree–Fock reference kept."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.linalg import eigsh

import qvopt
from qvopt.chem.problem import hf_energy_of
from qvopt.errors import InputError


def ground_energy(hamiltonian) -> float:
    """Lowest eigenvalue (dense up to 8 qubits, else sparse Lanczos)."""
    if hamiltonian.num_qubits <= 8:
        return float(np.linalg.eigvalsh(hamiltonian.to_matrix())[0])
    return float(eigsh(hamiltonian.to_matrix(sparse=True), k=1, which="SA")[0][0])


QUBITS = {"h2": (4, 1), "h4": (8, 5), "lih_fc": (10, 6), "lih": (12, 8),
          "beh2": (14, 9), "h2o": (14, 10)}
MOLECULES = ["h2", "h4", "lih_fc", "lih",
             pytest.param("beh2", marks=pytest.mark.slow),
             pytest.param("h2o", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", MOLECULES)
def test_tapered_ground_energy_equals_the_untapered_one(name):
    full = qvopt.load_problem(name)
    tapered = qvopt.load_problem(name, taper=True)
    assert (full.n_qubits, tapered.n_qubits) == QUBITS[name]
    assert tapered.hamiltonian.num_qubits == tapered.n_qubits == len(tapered.hf_occupation)
    assert (tapered.e_hf, tapered.e_fci, tapered.n_electrons) == (full.e_hf, full.e_fci,
                                                                  full.n_electrons)
    assert hf_energy_of(tapered.hamiltonian, tapered.hf_occupation) == pytest.approx(
        full.e_hf, abs=1e-8)
    e_tapered = ground_energy(tapered.hamiltonian)
    assert e_tapered == pytest.approx(ground_energy(full.hamiltonian), abs=1e-8)
    assert e_tapered == pytest.approx(full.e_fci, abs=1e-8)
    info = tapered.tapering
    assert len(info.removed_qubits) == full.n_qubits - tapered.n_qubits
    assert set(info.sector) <= {-1, 1}


def test_hardware_efficient_runs_on_tapered_h2_and_uccsd_refuses():
    problem = qvopt.load_problem("h2", taper=True)
    circuit = qvopt.ansatz.hardware_efficient(problem, layers=1)
    assert circuit.num_qubits == 1
    est = qvopt.Estimator(problem.hamiltonian, circuit)
    assert est.energy(np.zeros(circuit.num_parameters)).value == pytest.approx(problem.e_hf)
    # one qubit: RY alone reaches the ground state
    from scipy.optimize import minimize_scalar

    best = minimize_scalar(lambda a: est.energy(np.array([a, 0.0])).value,
                           bounds=(-np.pi, np.pi), method="bounded")
    assert best.fun == pytest.approx(problem.e_fci, abs=1e-6)
    with pytest.raises(InputError, match="tapered from 4 to 1 qubits"):
        qvopt.ansatz.uccsd(problem)


def test_tapering_twice_is_a_no_op():
    from qvopt.chem.problem import tapered_problem

    once = qvopt.load_problem("h2", taper=True)
    assert tapered_problem(once) is once
