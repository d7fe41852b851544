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


# ------------------------------------------------------------ checked before PySCF runs
def _h2(extra: str = "", symbols: str = '["H", "H"]',
        coordinates: str = "[[0.0, 0.0, 0.0], [0.0, 0.0, 0.7414]]", units: str = "angstrom"):
    return (f'basis = "sto-3g"\n{extra}\n[geometry]\nunits = "{units}"\n'
            f"symbols = {symbols}\ncoordinates = {coordinates}\n")


@pytest.mark.parametrize("multiplicity", [0, -1])
def test_multiplicity_below_one_is_an_error(tmp_path, multiplicity):
    path = write(tmp_path, _h2(f"multiplicity = {multiplicity}"))
    with pytest.raises(MoleculeFileError,
                       match=r"field 'multiplicity' must be an integer >= 1") as info:
        read_molecule_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("extra, electrons", [
    ("multiplicity = 2", 2),  # H2: even electron count, odd 2S
    ("charge = 1\nmultiplicity = 1", 1),  # H2+: one electron cannot be a singlet
    ("multiplicity = 5", 2),  # more unpaired electrons than electrons
])
def test_multiplicity_must_match_electron_parity(tmp_path, extra, electrons):
    path = write(tmp_path, _h2(extra))
    with pytest.raises(MoleculeFileError,
                       match=rf"field 'multiplicity' = \d+ does not fit {electrons} electrons"):
        read_molecule_file(path)


def test_consistent_open_shell_multiplicity_is_read(tmp_path):
    spec = read_molecule_file(write(tmp_path, _h2("charge = 1\nmultiplicity = 2")))
    assert (spec.charge, spec.multiplicity) == (1, 2)


def test_charge_leaving_no_electrons(tmp_path):
    with pytest.raises(MoleculeFileError, match=r"field 'charge' = 2 leaves 0 electrons"):
        read_molecule_file(write(tmp_path, _h2("charge = 2")))


@pytest.mark.parametrize("symbols, index, symbol", [
    ('["H", "Xx"]', 1, "Xx"), ('["Q", "H"]', 0, "Q"), ('["H", "H-"]', 1, "H-"),
])
def test_unknown_element_names_atom_index_and_symbol(tmp_path, symbols, index, symbol):
    path = write(tmp_path, _h2(symbols=symbols))
    with pytest.raises(MoleculeFileError,
                       match=rf"'geometry.symbols\[{index}\]' \(atom {index}\) is '{symbol}'"):
        read_molecule_file(path)


def test_element_symbols_are_case_insensitive_and_may_carry_labels(tmp_path):
    spec = read_molecule_file(write(tmp_path, _h2(symbols='["h", "H1"]')))
    assert spec.symbols == ("h", "H1")


@pytest.mark.parametrize("coordinates, units", [
    ("[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]", "angstrom"),
    ("[[0.0, 0.0, 0.0], [0.0, 0.05, 0.0]]", "angstrom"),
    ("[[1.0, 0.0, 0.0], [1.0, 0.0, 0.15]]", "bohr"),  # 0.079 Å
])
def test_atoms_at_the_same_position_name_both_indices(tmp_path, coordinates, units):
    path = write(tmp_path, _h2(coordinates=coordinates, units=units))
    with pytest.raises(MoleculeFileError, match=r"atoms 0 \(H\) and 1 \(H\) .*"
                                                r"'geometry.coordinates' .*at least 0.1 Å"):
        read_molecule_file(path)


def test_three_atoms_name_the_clashing_pair(tmp_path):
    text = _h2(symbols='["H", "He", "H"]',
               coordinates="[[0.0, 0.0, 0.0], [0.0, 0.0, 1.6], [0.0, 0.0, 1.6]]")
    with pytest.raises(MoleculeFileError, match=r"atoms 1 \(He\) and 2 \(H\)"):
        read_molecule_file(write(tmp_path, text))


def test_non_finite_coordinate(tmp_path):
    path = write(tmp_path, _h2(coordinates="[[0.0, 0.0, 0.0], [0.0, 0.0, nan]]"))
    with pytest.raises(MoleculeFileError, match=r"geometry.coordinates\[1\]' must be three "
                                                r"finite numbers"):
        read_molecule_file(path)


def test_active_space_with_too_many_electrons_is_caught_when_reading(tmp_path):
    path = write(tmp_path, VALID + "[active_space]\nelectrons = 4\norbitals = 2\n")
    with pytest.raises(MoleculeFileError, match=r"'active_space.electrons' = 4 must be at most 2"):
        read_molecule_file(path)


@pytest.mark.parametrize("as_string", [True, False])
def test_directory_is_not_a_molecule_file(tmp_path, as_string):
    folder = tmp_path / "mols"
    folder.mkdir()
    with pytest.raises(MoleculeFileError,
                       match=r"is a directory, expected a molecule \.toml file") as info:
        read_molecule_file(str(folder) if as_string else folder)
    assert str(folder) in str(info.value)


@pytest.mark.filterwarnings("ignore:Basis may be available")
def test_unknown_basis_names_the_basis_field(tmp_path):
    path = write(tmp_path, VALID.replace('"sto-3g"', '"sto-99g"'))
    with pytest.raises(MoleculeFileError, match=r"field 'basis' = 'sto-99g'"):
        qvopt.load_problem(path, cache=False)
