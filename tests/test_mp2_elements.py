"""The MP2 start's Hamiltonian matrix elements, read off the Pauli terms, equal the ``2^n``
matrix's (the route it replaced); so do the MP2 amplitudes built from them."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import basis_matrix_elements, mp2_amplitudes


def test_matrix_elements_equal_the_matrix_for_phased_terms():
    # every letter, an explicit phase on a term and complex coefficients
    op = SparsePauliOp(["IXYZ", "-iYYXX", "ZZII", "XIIY", "IIII"],
                       coeffs=[0.3, 0.7 + 0.2j, -1.1, 0.4j, 0.25])
    matrix = op.to_matrix()
    for ket in range(16):
        assert np.allclose(basis_matrix_elements(op, ket, np.arange(16)), matrix[:, ket],
                           atol=1e-14)


@pytest.mark.parametrize("molecule", ["lih_fc", "h4"])
def test_mp2_amplitudes_equal_the_matrix_route(molecule):
    problem = qvopt.load_problem(molecule)
    doubles = build_ansatz("uccsd", problem).metadata["doubles"]
    matrix = problem.hamiltonian.to_matrix(sparse=True).tocsc()
    occupation = np.asarray(problem.hf_occupation)
    hf = int(sum(1 << q for q, o in enumerate(occupation) if o))
    diagonal = matrix.diagonal().real
    eps = np.array([diagonal[hf] - diagonal[hf - (1 << q)] if o
                    else diagonal[hf + (1 << q)] - diagonal[hf]
                    for q, o in enumerate(occupation)])
    expected = [matrix[hf - (1 << i) - (1 << j) + (1 << a) + (1 << b), hf].real
                / (eps[i] + eps[j] - eps[a] - eps[b]) for i, j, a, b in doubles]
    assert np.allclose(mp2_amplitudes(problem, doubles), expected, rtol=1e-12, atol=1e-15)
