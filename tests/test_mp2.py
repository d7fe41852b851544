"""MP2 starting point for UCCSD: the sign/angle convention checked against exact energies."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import mp2_amplitudes, mp2_initial_point
from qvopt.errors import InputError


def energies(problem):
    circuit = build_ansatz("uccsd", problem)
    theta = mp2_initial_point(problem, circuit)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=None)
    e_hf, e_mp2, e_flipped = est.exact_energy(np.array([0 * theta, theta, -theta]))
    return circuit, theta, e_hf, e_mp2, e_flipped


@pytest.mark.parametrize("molecule", ["h2", "lih_fc", "lih", "h4",
                                      pytest.param("beh2", marks=pytest.mark.slow)])
def test_mp2_start_is_below_hartree_fock(molecule):
    problem = qvopt.load_problem(molecule)
    circuit, theta, e_hf, e_mp2, e_flipped = energies(problem)
    n_doubles = len(circuit.metadata["doubles"])
    assert theta.shape == (circuit.num_parameters,)
    assert np.all(theta[n_doubles:] == 0) and np.any(theta[:n_doubles] != 0)
    assert np.isclose(e_hf, problem.e_hf, atol=1e-8)
    # MP2 recovers most of the correlation energy; the opposite sign makes it worse than HF
    assert e_mp2 < e_hf - 0.5 * (e_hf - problem.e_fci)
    assert e_flipped > e_hf


def test_h2_mp2_angle_by_hand(h2):
    # H2 minimal basis: one double (0,1 → 2,3); θ = 2⟨D|H|HF⟩/(2ε_σg − 2ε_σu) < 0 here
    # (the exchange integral K = ⟨D|H|HF⟩ > 0, the denominator < 0)
    circuit = build_ansatz("uccsd", h2)
    assert circuit.metadata["doubles"] == [[0, 1, 2, 3]]
    theta = mp2_initial_point(h2, circuit)
    matrix = h2.hamiltonian.to_matrix()
    hf, excited = 0b0011, 0b1100
    e_hf = matrix[hf, hf].real
    eps_occ = e_hf - matrix[0b0010, 0b0010].real  # remove the electron on qubit 0
    eps_vir = matrix[0b0111, 0b0111].real - e_hf  # add one on qubit 2
    expected = 2 * matrix[excited, hf].real / (2 * eps_occ - 2 * eps_vir)
    assert np.isclose(theta[0], expected) and -0.2 < theta[0] < 0
    assert np.all(theta[1:] == 0)


@pytest.mark.parametrize("molecule", ["lih_fc", "h4"])
def test_mp2_correlation_energy_equals_pyscf(molecule):
    from pyscf import mp

    from qvopt.chem.integrals import _build_scf

    problem = qvopt.load_problem(molecule)
    circuit = build_ansatz("uccsd", problem)
    doubles = circuit.metadata["doubles"]
    c = mp2_amplitudes(problem, doubles)
    matrix = problem.hamiltonian.to_matrix(sparse=True).tocsc()
    hf = problem.hf_index
    couplings = np.array([matrix[hf - (1 << i) - (1 << j) + (1 << a) + (1 << b), hf].real
                          for i, j, a, b in doubles])
    spec = problem.spec
    mol, mf = _build_scf(spec)
    n_orbitals = mf.mo_coeff.shape[1]
    n_core = (mol.nelectron - (spec.active_electrons or mol.nelectron)) // 2
    n_active = spec.active_orbitals or n_orbitals
    frozen = list(range(n_core)) + list(range(n_core + n_active, n_orbitals))
    reference = mp.MP2(mf, frozen=frozen or None).run(verbose=0).e_corr
    assert np.isclose(np.sum(c * couplings), reference, atol=1e-8)


def test_mp2_needs_the_uccsd_ansatz(h2):
    with pytest.raises(InputError, match="uccsd"):
        mp2_initial_point(h2, build_ansatz("hardware_efficient", h2))
