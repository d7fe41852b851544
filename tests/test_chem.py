"""Hamiltonians: ground energy in the right particle sector equals a fresh PySCF FCI."""

from __future__ import annotations

import numpy as np
import pytest
from pyscf import fci, gto, mcscf, scf

from qvopt.chem import load_problem
from qvopt.chem.hamiltonian import sector_ground_energy
from qvopt.chem.problem import hf_energy_of

EXPECTED = {  # qubits, Pauli terms (ARCHITECTURE.md reference table)
    "h2": (4, 15), "lih_fc": (10, 276), "lih": (12, 631), "h4": (8, 185),
    "beh2": (14, 666), "h2o": (14, 1086),
}


def fresh_pyscf_fci(spec):
    mol = gto.M(atom=list(zip(spec.symbols, spec.coordinates, strict=True)), basis=spec.basis,
                unit="Angstrom", charge=spec.charge, spin=spec.multiplicity - 1, verbose=0)
    mf = scf.RHF(mol).run(conv_tol=1e-12)
    if spec.active_orbitals is None:
        return mf.e_tot, fci.FCI(mf).kernel()[0]
    return mf.e_tot, mcscf.CASCI(mf, spec.active_orbitals, spec.active_electrons).kernel()[0]


@pytest.mark.parametrize("name", ["h2", "lih_fc", "lih", "h4", "beh2", "h2o"])
def test_hamiltonian_sector_ground_state_equals_fresh_fci(name):
    problem = load_problem(name)
    qubits, terms = EXPECTED[name]
    assert problem.n_qubits == qubits
    assert len(problem.hamiltonian) == terms
    e_hf, e_fci = fresh_pyscf_fci(problem.spec)
    n_half = problem.n_electrons // 2
    e_sector = sector_ground_energy(problem.hamiltonian, n_half, n_half)
    assert e_sector == pytest.approx(e_fci, abs=1e-6)
    # stored references agree with the fresh computation
    assert problem.e_fci == pytest.approx(e_fci, abs=1e-6)
    assert problem.e_hf == pytest.approx(e_hf, abs=1e-6)
    # the HF basis state has the HF energy
    assert hf_energy_of(problem.hamiltonian, problem.hf_occupation) == pytest.approx(e_hf,
                                                                                   abs=1e-8)


def test_wrong_sector_is_not_the_answer(h2):
    """Lowest eigenvalue over all sectors differs from FCI for some sector: we pick N=2."""
    all_eigs = np.linalg.eigvalsh(h2.hamiltonian.to_matrix())
    one_electron = sector_ground_energy(h2.hamiltonian, 1, 0)
    assert one_electron > h2.e_fci
    assert all_eigs[0] <= h2.e_fci + 1e-9


def test_problem_fields(lih_fc):
    assert lih_fc.n_electrons == 2
    assert lih_fc.hf_occupation == (1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    assert lih_fc.hf_bitstring == "0000000011"
    assert lih_fc.hf_index == 3
    assert np.allclose(lih_fc.hamiltonian.coeffs.imag, 0)
