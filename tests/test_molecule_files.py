"""Molecule files: parsing, validation errors naming the file and field."""

from __future__ import annotations

import pytest

import qvopt
from qvopt.chem.molecule import MoleculeFileError, read_molecule_file

VALID = """
name = "h2_custom"
basis = "sto-3g"
[geometry]
units = "angstrom"
symbols = ["H", "H"]
coordinates = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.7414]]
"""


def write(tmp_path, text, name="mol.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_molecules_are_listed():
    assert {"h2", "lih", "lih_fc"} <= set(qvopt.known_molecules())


def test_shipped_files_carry_references_with_program():
    for name in ("h2", "lih", "lih_fc"):
        spec = read_molecule_file(name)
        assert spec.e_hf is not None and spec.e_fci is not None
        assert spec.reference_program.startswith("PySCF")
        assert spec.e_fci < spec.e_hf


def test_unknown_molecule_names_the_input_and_choices():
    with pytest.raises(MoleculeFileError, match=r"unknown molecule 'h3po'.*h2"):
        qvopt.load_problem("h3po")


def test_missing_file_path():
    with pytest.raises(MoleculeFileError, match="does not exist"):
        read_molecule_file("no/such/file.toml")


@pytest.mark.parametrize("text, message", [
    ("name = 'x'\nbasis = 'sto-3g'\n", r"missing field 'geometry'"),
    (VALID.replace('basis = "sto-3g"\n', ""), r"missing field 'basis'"),
    (VALID.replace('symbols = ["H", "H"]', 'symbols = ["H"]'),
     r"'geometry.coordinates' has 2 rows but 'geometry.symbols' has 1"),
    (VALID.replace("[0.0, 0.0, 0.7414]", "[0.0, 0.7414]"), r"geometry.coordinates\[1\]"),
    (VALID.replace('units = "angstrom"', 'units = "furlong"'), r"geometry.units"),
    ("colour = 'blue'\n" + VALID, r"unknown field\(s\) \['colour'\]"),
    (VALID + "size = 3\n", r"unknown field\(s\) \['geometry.size'\]"),
    (VALID.replace('basis = "sto-3g"', "basis = 3"), r"field 'basis' must be of type str"),
    (VALID + "[active_space]\nelectrons = 2\n", r"missing field 'active_space.orbitals'"),
    (VALID + "[reference]\ne_fci = 'low'\n", r"reference.e_fci"),
    ("this is = = not toml", r"not valid TOML"),
])
def test_malformed_files_name_file_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(MoleculeFileError, match=message) as info:
        read_molecule_file(path)
    assert str(path) in str(info.value)


def test_active_space_that_does_not_fit(tmp_path):
    path = write(tmp_path, VALID + "[active_space]\nelectrons = 2\norbitals = 7\n")
    with pytest.raises(MoleculeFileError, match="active_space.orbitals"):
        qvopt.load_problem(path)


def test_user_file_without_references_gets_them_computed(tmp_path, h2):
    path = write(tmp_path, VALID)
    problem = qvopt.load_problem(path)
    assert problem.name == "h2_custom"
    assert "computed" in problem.reference_source
    assert problem.e_fci == pytest.approx(h2.e_fci, abs=1e-8)
    assert problem.e_hf == pytest.approx(h2.e_hf, abs=1e-8)


def test_molecules_folder_can_be_overridden(tmp_path, monkeypatch):
    from qvopt.chem.molecule import molecules_dir

    (tmp_path / "only.toml").write_text(VALID)
    monkeypatch.setenv("QVOPT_MOLECULES_DIR", str(tmp_path))
    assert molecules_dir() == tmp_path
    assert qvopt.known_molecules() == ["only"]
    assert read_molecule_file("only").name == "h2_custom"
