"""MP2 starting point for UCCSD: the sign/angle convention checked against exact energies."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import jordan_wigner_sign, mp2_initial_point
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
    # H2 minimal basis: one double (0,1 → 2,3), t = (ia|jb)/(2ε_1 − 2ε_2) with i=j=0, a=b=0
    # (αβ → αβ, no exchange term); the JW sign of a†_2 a†_3 a_1 a_0 |1100⟩ is +1.
    circuit = build_ansatz("uccsd", h2)
    theta = mp2_initial_point(h2, circuit)
    assert circuit.metadata["doubles"] == [[0, 1, 2, 3]]
    assert jordan_wigner_sign([1, 1, 0, 0], [0, 1], [2, 3]) == 1
    assert -0.2 < theta[0] < 0  # 2t, with t < 0 (numerator > 0, denominator < 0)


def test_jordan_wigner_sign():
    # a†_1 a_0 |10⟩ = |01⟩ (no occupied qubit below 1 after a_0), a†_2 a_0 |110⟩ = −|011⟩
    assert jordan_wigner_sign([1, 0], [0], [1]) == 1
    assert jordan_wigner_sign([1, 1, 0], [0], [2]) == -1


def test_mp2_needs_the_uccsd_ansatz(h2):
    with pytest.raises(InputError, match="uccsd"):
        mp2_initial_point(h2, build_ansatz("hardware_efficient", h2))
