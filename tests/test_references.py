"""Verified references: a molecule file's [reference] energies are checked against ours."""

from __future__ import annotations

import math

import pytest

import qvopt
from qvopt.chem import integrals
from qvopt.chem.molecule import MoleculeFileError

H2 = """
name = "h2_ref"
basis = "sto-3g"
[geometry]
symbols = ["H", "H"]
coordinates = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.7414]]
"""
E_HF, E_FCI = -1.1166843871, -1.1372701747  # molecules/h2.toml (PySCF 2.14)

# The README's example file, with the energies computed for it (H2 at 1.2 Å, STO-3G).
README_EXAMPLE = """
name = "h2_stretched"
basis = "sto-3g"
charge = 0
multiplicity = 1

[geometry]
units = "angstrom"
symbols = ["H", "H"]
coordinates = [[0.0, 0.0, 0.0], [0.0, 0.0, 1.2]]

[active_space]      # optional
electrons = 2
orbitals = 2

[reference]         # optional; checked against PySCF (RHF, FCI) when given
e_hf = -1.0051067066
e_fci = -1.0567407463
program = "PySCF"
version = "2.14.0"
"""


def write(tmp_path, e_hf=None, e_fci=None, text=H2):
    lines = ["[reference]"] + [f"{k} = {v!r}" for k, v in (("e_hf", e_hf), ("e_fci", e_fci))
                               if v is not None]
    path = tmp_path / "mol.toml"
    path.write_text(text + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("cache", [True, False])
def test_e_hf_off_by_one_mha_is_refused_naming_e_hf(tmp_path, cache):
    path = write(tmp_path, e_hf=E_HF + 1e-3, e_fci=E_FCI)
    with pytest.raises(MoleculeFileError, match=r"'reference\.e_hf'.*-1\.1166843871") as info:
        qvopt.load_problem(path, cache=cache)
    assert str(path) in str(info.value) and "e_fci" not in str(info.value)


def test_e_fci_off_by_one_mha_is_refused_naming_e_fci(tmp_path):
    with pytest.raises(MoleculeFileError, match=r"'reference\.e_fci'.*off by -1\.000 mHa"):
        qvopt.load_problem(write(tmp_path, e_hf=E_HF, e_fci=E_FCI - 1e-3))


def test_matching_references_are_marked_verified(tmp_path):
    problem = qvopt.load_problem(write(tmp_path, e_hf=E_HF + 5e-7, e_fci=E_FCI))
    assert problem.reference_verified
    assert problem.reference_source.count("verified") == 2
    assert problem.e_hf == E_HF + 5e-7  # within tolerance: the file's value is kept


def test_shipped_molecules_pass_the_check():
    for name in ("h2", "lih_fc", "lih"):
        problem = qvopt.load_problem(name)
        assert problem.reference_verified, problem.reference_source


def test_readme_example_file_loads_and_reports_a_sensible_error(tmp_path):
    path = tmp_path / "h2_stretched.toml"
    path.write_text(README_EXAMPLE)
    problem = qvopt.load_problem(path)
    assert problem.reference_verified
    result = qvopt.vqe(path, shots=None, maxiter=60, seed=0)
    assert abs(result.error_mha) < 1.6


def test_the_old_readme_placeholders_are_refused(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text(README_EXAMPLE.replace("-1.0051067066", "-1.0").replace("-1.0567407463",
                                                                            "-1.1"))
    with pytest.raises(MoleculeFileError, match=r"reference\.e_hf"):
        qvopt.load_problem(path)


def test_large_fci_is_skipped_or_unverified(tmp_path, monkeypatch):
    monkeypatch.setattr(integrals, "FCI_MAX_DETERMINANTS", 1)  # H2: 4 determinants
    given = qvopt.load_problem(write(tmp_path, e_hf=E_HF, e_fci=E_FCI - 1e-3), cache=False)
    assert not given.reference_verified
    assert given.e_fci == E_FCI - 1e-3 and "UNVERIFIED" in given.reference_source
    absent = qvopt.load_problem(write(tmp_path, e_hf=E_HF), cache=False)
    assert math.isnan(absent.e_fci) and "FCI skipped" in absent.reference_source
    with pytest.raises(MoleculeFileError, match=r"reference\.e_hf"):  # HF is still checked
        qvopt.load_problem(write(tmp_path, e_hf=E_HF - 2e-6), cache=False)


def test_cache_entry_without_fci_is_completed(tmp_path, monkeypatch):
    """An entry cached while FCI was skipped gets FCI once it is cheap again."""
    monkeypatch.setenv("QVOPT_CACHE_DIR", str(tmp_path / "cache"))
    path = write(tmp_path, e_hf=E_HF, e_fci=E_FCI)
    monkeypatch.setattr(integrals, "FCI_MAX_DETERMINANTS", 1)
    assert not qvopt.load_problem(path).reference_verified
    monkeypatch.setattr(integrals, "FCI_MAX_DETERMINANTS", 1000)
    assert qvopt.load_problem(path).reference_verified


def test_the_readme_example_file_loads_as_written(tmp_path):
    """The molecule file printed in README.md (not a copy) loads with verified references."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = re.search(r"```toml\n(name = \"h2_stretched\".*?)```", readme, re.S).group(1)
    path = tmp_path / "h2_stretched.toml"
    path.write_text(block)
    problem = qvopt.load_problem(path, cache=False)
    assert problem.n_qubits == 4 and abs(problem.e_fci - (-1.0567407463)) < 1e-8
