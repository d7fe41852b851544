"""Problems users bring: FCIDUMP integrals, qiskit/PennyLane/OpenFermion qubit Hamiltonians."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

import qvopt
from qvopt.chem.fcidump import read_fcidump
from qvopt.chem.operators import operator_digest, problem_from_operator
from qvopt.errors import CheckpointError, InputError, MoleculeFileError

H3_PLUS = "H 0 0 0; H 0.9 0 0; H 0.45 0.78 0"  # not shipped: a triangle, charge +1


def _scf(atom: str, charge: int = 0):
    from pyscf import gto, scf

    mol = gto.M(atom=atom, basis="sto-3g", charge=charge, verbose=0)
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-12
    mf.kernel()
    return mf


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """FCIDUMPs written by PySCF: H3+ (not shipped) and LiH at the shipped geometry."""
    from pyscf.tools import fcidump

    folder = tmp_path_factory.mktemp("fcidump")
    fcidump.from_scf(_scf(H3_PLUS, charge=1), str(folder / "h3plus.fcidump"), tol=1e-15)
    fcidump.from_scf(_scf("Li 0 0 0; H 0 0 1.5949"), str(folder / "FCIDUMP_lih"), tol=1e-15)
    (folder / "h3plus.toml").write_text(
        'name = "h3plus"\nbasis = "sto-3g"\ncharge = 1\n[geometry]\nunits = "angstrom"\n'
        'symbols = ["H", "H", "H"]\n'
        'coordinates = [[0, 0, 0], [0.9, 0, 0], [0.45, 0.78, 0]]\n')
    (folder / "lih_fc_dump.toml").write_text(
        'name = "lih_fc_dump"\nfcidump = "FCIDUMP_lih"\n'
        '[active_space]\nelectrons = 2\norbitals = 5\n')
    return folder


def _spectrum(problem) -> np.ndarray:
    return np.linalg.eigvalsh(problem.hamiltonian.to_matrix())


def test_fcidump_of_a_new_molecule_has_the_toml_spectrum(dumps):
    dumped = qvopt.load_problem(dumps / "h3plus.fcidump", cache=False)
    built = qvopt.load_problem(dumps / "h3plus.toml", cache=False)
    assert dumped.name == "h3plus" and dumped.n_qubits == built.n_qubits == 6
    assert np.max(np.abs(_spectrum(dumped) - _spectrum(built))) < 1e-8
    assert abs(dumped.e_hf - built.e_hf) < 1e-8 and abs(dumped.e_fci - built.e_fci) < 1e-8
    assert "FCIDUMP" in dumped.reference_source


def test_fcidump_with_a_frozen_core_matches_the_shipped_active_space(dumps):
    dumped = qvopt.load_problem(dumps / "lih_fc_dump.toml", cache=False)
    shipped = qvopt.load_problem("lih_fc", cache=False)
    assert dumped.n_qubits == 10 and dumped.n_electrons == 2
    assert np.max(np.abs(_spectrum(dumped) - _spectrum(shipped))) < 1e-8
    assert abs(dumped.e_hf - shipped.e_hf) < 1e-8  # of the whole file, before freezing


def test_our_parser_reads_what_pyscf_reads(dumps):
    from pyscf import ao2mo
    from pyscf.tools import fcidump

    ours = read_fcidump(dumps / "FCIDUMP_lih", max_orbitals=10)
    theirs = fcidump.read(str(dumps / "FCIDUMP_lih"), verbose=False)
    n = theirs["NORB"]
    assert (ours.header.n_orbitals, ours.header.n_electrons) == (n, theirs["NELEC"])
    assert abs(ours.core_energy - theirs["ECORE"]) < 1e-12
    assert np.allclose(ours.one_body, theirs["H1"], atol=1e-14)
    assert np.allclose(ours.two_body, ao2mo.restore(1, theirs["H2"], n), atol=1e-14)


def _write(tmp_path, text: str, name: str = "bad.fcidump"):
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = " &FCI NORB=2,NELEC=2,MS2=0,\n  ORBSYM=1,1,\n  ISYM=1,\n &END\n"
BODY = (" 0.6 1 1 1 1\n 0.2 2 1 1 1\n 0.18 2 1 2 1\n 0.66 1 1 2 2\n 0.7 2 2 2 2\n"
        " -1.2 1 1 0 0\n -0.4 2 2 0 0\n 0.7 0 0 0 0\n")


def test_a_hand_written_fcidump_reads_with_its_symmetries(tmp_path):
    path = _write(tmp_path, HEADER + BODY.replace("0.2 2 1 1 1", "0.2D0 2 1 1 1")
                  + " -0.5 1 0 0 0\n")  # a Fortran exponent; an orbital energy (ignored)
    dump = read_fcidump(path, max_orbitals=4)
    eri = dump.two_body
    assert eri[1, 0, 0, 0] == eri[0, 1, 0, 0] == eri[0, 0, 1, 0] == eri[0, 0, 0, 1] == 0.2
    assert eri[1, 0, 1, 0] == eri[0, 1, 1, 0] == eri[0, 1, 0, 1] == 0.18
    assert eri[0, 0, 1, 1] == eri[1, 1, 0, 0] == 0.66
    assert dump.one_body.tolist() == [[-1.2, 0.0], [0.0, -0.4]] and dump.core_energy == 0.7
    problem = qvopt.load_problem(path, cache=False)
    # E_HF = E_core + 2 h_11 + (11|11) for one doubly occupied orbital
    assert abs(problem.e_hf - (0.7 - 2.4 + 0.6)) < 1e-12


@pytest.mark.parametrize("text, expected", [
    (" &FCI NORB=2,NELEC=2,MS2=0,\n" + BODY, "no '&END'"),
    (HEADER + " 0.6 1 1 1\n", "line 5: expected 'value i j k l'"),
    (HEADER + " 0.6 1 1 3 1\n", "line 5: value must be finite and indices within 0..NORB = 2"),
    (HEADER + " nan 1 1 1 1\n", "line 5: value must be finite"),
    (HEADER + " 0.6 0 1 1 1\n", "is none of"),
    (HEADER.replace("MS2=0", "MS2=2"), "MS2 = 2: only closed-shell"),
    (HEADER.replace("MS2=0", "MS2=0,IUHF=1"), "IUHF = 1: only restricted"),
    (HEADER.replace("NELEC=2", "NELEC=5"), "need 0 < NELEC <= 2 NORB"),
    (HEADER.replace("NELEC=2,", ""), "lacks NELEC"),
    (HEADER.replace("NORB=2", "NORB=two"), "NORB = 'two' is not an integer"),
    ("NORB=2\n" + BODY, "must start with '&FCI'"),
])
def test_malformed_fcidump_is_named_by_line(tmp_path, text, expected):
    with pytest.raises(MoleculeFileError, match=expected.replace("(", r"\(").replace(
            ")", r"\)").replace(".", r"\.")):
        qvopt.load_problem(_write(tmp_path, text), cache=False)


def test_fcidump_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("QVOPT_MAX_QUBITS", "2")
    with pytest.raises(MoleculeFileError, match="2 orbitals .4 qubits., above the limit"):
        qvopt.load_problem(_write(tmp_path, HEADER + BODY), cache=False)


def test_fcidump_molecule_file_fields_are_checked(tmp_path):
    _write(tmp_path, HEADER + BODY, "two.fcidump")
    bad = _write(tmp_path, 'fcidump = "two.fcidump"\nbasis = "sto-3g"\n', "m.toml")
    with pytest.raises(MoleculeFileError, match="unknown field.*basis"):
        qvopt.load_problem(bad, cache=False)
    missing = _write(tmp_path, 'fcidump = "none.fcidump"\n', "n.toml")
    with pytest.raises(MoleculeFileError, match="'fcidump' = .*no such file"):
        qvopt.load_problem(missing, cache=False)
    wrong = _write(tmp_path, 'fcidump = "two.fcidump"\n[reference]\ne_hf = -1.0\n', "r.toml")
    with pytest.raises(MoleculeFileError, match="reference.e_hf"):
        qvopt.load_problem(wrong, cache=False)


def test_a_scan_refuses_an_fcidump(tmp_path):
    path = _write(tmp_path, HEADER + BODY)
    with pytest.raises(InputError, match="FCIDUMP file .integrals, no geometry"):
        qvopt.scan(path, "bond", [1.0, 1.1], atoms=(0, 1))


def test_fcidump_runs_from_the_cli(dumps, tmp_path, capsys):
    from qvopt.cli import main

    out = tmp_path / "r.json"
    code = main(["run", str(dumps / "h3plus.fcidump"), "--shots", "exact", "--maxiter", "20",
                 "--out", str(out)])
    assert code == 0
    import json

    result = json.loads(out.read_text())
    assert result["molecule"] == "h3plus" and result["error_mha"] < 1.6


# ------------------------------------------------------------------ operators
def _h2():
    return qvopt.load_problem("h2")


def _one_parameter_circuit() -> QuantumCircuit:
    """|1100⟩ → cos(θ/2)|0011⟩ − sin(θ/2)|1100⟩ on H2's qubits (a double excitation)."""
    theta = Parameter("θ")
    circuit = QuantumCircuit(4)
    circuit.x([0, 1])
    circuit.ry(theta, 2)
    circuit.cx(2, 3)
    circuit.cx(2, 0)
    circuit.cx(2, 1)
    return circuit


def test_sparse_pauli_op_with_a_circuit_runs_like_a_molecule():
    h2 = _h2()
    result = qvopt.vqe(h2.hamiltonian, ansatz=_one_parameter_circuit(), shots=None,
                       maxiter=40, initial_point=[0.1], seed=3)
    assert result.molecule == "operator"
    assert abs(result.e_fci - h2.e_fci) < 1e-10  # whole-space ground state = H2's FCI
    assert result.error_mha < 1.6 and result.success
    assert result.config["molecule"].startswith("operator:")


def test_pennylane_hamiltonian_matches_ours():
    import pennylane as qml

    h2 = _h2()
    sentence = qml.pauli.PauliSentence({
        qml.pauli.PauliWord({k: c for k, c in enumerate(reversed(label)) if c != "I"}): coeff
        for label, coeff in zip(h2.hamiltonian.paulis.to_labels(), h2.hamiltonian.coeffs.real,
                                strict=True)})
    operator = sentence.operation()
    problem = problem_from_operator(operator, n_electrons=2, name="h2_pl")
    assert problem.operator_sha256 == operator_digest(h2.hamiltonian, 2)
    assert abs(problem.e_fci - h2.e_fci) < 1e-10 and abs(problem.e_hf - h2.e_hf) < 1e-10
    bohr = 1 / 0.529177210903
    built, n = qml.qchem.molecular_hamiltonian(qml.qchem.Molecule(
        ["H", "H"], np.array([0, 0, 0, 0, 0, 0.7414 * bohr])))
    assert n == 4
    assert abs(problem_from_operator(built, n_electrons=2).e_fci - h2.e_fci) < 1e-8


def test_operator_problem_runs_uccsd_with_its_electrons():
    h2 = _h2()
    problem = problem_from_operator(h2.hamiltonian, n_electrons=2, name="mine")
    result = qvopt.vqe(problem, shots=None, maxiter=20, seed=0)
    reference = qvopt.vqe("h2", shots=None, maxiter=20, seed=0)
    assert result.molecule == "mine"
    assert result.fun == pytest.approx(reference.fun, abs=1e-12)
    with pytest.raises(InputError, match="n_electrons=…"):
        qvopt.vqe(h2.hamiltonian, shots=None, maxiter=2)


def test_openfermion_operators_convert():
    of = pytest.importorskip("openfermion")
    h2 = _h2()
    qubit_op = of.QubitOperator()
    for label, coeff in zip(h2.hamiltonian.paulis.to_labels(), h2.hamiltonian.coeffs.real,
                            strict=True):
        qubit_op += of.QubitOperator(
            tuple((k, c) for k, c in enumerate(reversed(label)) if c != "I"), coeff)
    problem = problem_from_operator(qubit_op, n_electrons=2)
    assert problem.operator_sha256 == operator_digest(h2.hamiltonian, 2)
    number = problem_from_operator(of.FermionOperator("1^ 1"), n_qubits=3)
    assert number.hamiltonian.equiv(SparsePauliOp(["III", "IZI"], [0.5, -0.5]))


@pytest.mark.parametrize("operator, kwargs, expected", [
    (SparsePauliOp(["XY"], [1.0]) + SparsePauliOp(["YX"], [1j]), {}, "not Hermitian"),
    (SparsePauliOp(["ZZ"], [1.0]), {"n_electrons": 1}, "even integer"),
    (SparsePauliOp(["ZZ"], [1.0]), {"n_electrons": 4}, "even integer"),
    (SparsePauliOp(["ZZ"], [np.nan]), {}, "NaN"),
    (SparsePauliOp(["ZZ"], [1.0]), {"e_fci": -3.0}, "e_fci = -3.0 Ha does not match"),
    (SparsePauliOp(["ZZ"], [1.0]), {"name": "a/b"}, "name must be"),
    ("H 0 0 0", {}, "cannot use a str as a Hamiltonian"),
])
def test_bad_operators_are_refused(operator, kwargs, expected):
    with pytest.raises(InputError, match=expected):
        problem_from_operator(operator, **kwargs)


def test_operator_checkpoints_resume_only_with_the_same_operator(tmp_path):
    h2 = _h2()
    problem = problem_from_operator(h2.hamiltonian, n_electrons=2)
    checkpoint = tmp_path / "run.ckpt"
    full = qvopt.vqe(problem, seed=2, maxiter=6, tol=None)
    qvopt.vqe(problem, seed=2, maxiter=3, tol=None, checkpoint=str(checkpoint))
    with pytest.raises(CheckpointError, match="given as an operator"):
        qvopt.resume(checkpoint, maxiter=6)
    other = problem_from_operator(2.0 * h2.hamiltonian, n_electrons=2)
    with pytest.raises(CheckpointError, match="not the operator"):
        qvopt.resume(checkpoint, maxiter=6, problem=other)
    resumed = qvopt.resume(checkpoint, maxiter=6, problem=problem)
    assert resumed.fun == full.fun and resumed.shots_used == full.shots_used


def test_a_stationary_start_stops_and_says_so():
    h2 = _h2()
    circuit = QuantumCircuit(4)
    for q, name in enumerate("abcd"):
        circuit.ry(Parameter(name), q)  # at zeros: |0000⟩, where every derivative vanishes
    result = qvopt.vqe(h2.hamiltonian, ansatz=circuit, shots=None, maxiter=30)
    assert result.nit == 1
    assert "gradient is zero" in result.message and "NOT a minimum" in result.message
