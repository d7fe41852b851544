"""Inputs with no natural upper bound are refused before any work, with one line that says
the limit and how to change it (issue 19)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import qvopt
from qvopt.checkpoint import MAX_ARCHIVE_BYTES
from qvopt.cli import main
from qvopt.config import default_shots
from qvopt.errors import CheckpointError, MoleculeFileError


def test_a_problem_above_the_qubit_limit_is_refused_before_any_scf(tmp_path, monkeypatch):
    water = tmp_path / "water_tz.toml"
    water.write_text('basis = "cc-pvtz"\n[geometry]\nsymbols = ["O", "H", "H"]\n'
                     'coordinates = [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]]\n')
    with pytest.raises(MoleculeFileError, match=r"above the limit of 20.*QVOPT_MAX_QUBITS"):
        qvopt.load_problem(water)
    monkeypatch.setenv("QVOPT_MAX_QUBITS", "3")
    with pytest.raises(MoleculeFileError, match="4 qubits, above the limit of 3"):
        qvopt.load_problem("h2")


@pytest.mark.parametrize("scales", ["1,3,99999999999999999999", "1,3,5,1001",
                                    "1,3,5,7,9,11,13,15,17"])
def test_zne_scale_factors_are_bounded_before_anything_runs(scales, capsys):
    assert main(["run", "h2", "--backend", "fake_manila", "--mitigation", "zne",
                 "--zne-scales", scales, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "from 1 to 21" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_final_precision_that_needs_impossible_shots_is_refused():
    with pytest.raises(qvopt.InputError, match="at least 1e-05 Ha"):
        qvopt.RunConfig("h2", final_precision=1e-12)
    assert qvopt.RunConfig("h2", final_precision=1e-5).final_precision == 1e-5


def test_an_oversized_checkpoint_is_refused_before_loading(tmp_path):
    ck = tmp_path / "run.npz"
    qvopt.vqe("h2", maxiter=1, seed=1, checkpoint=ck)
    # a member whose declared size is huge: the zip directory is read, nothing unpacked
    with zipfile.ZipFile(ck, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("padding.npy", b"\0" * (MAX_ARCHIVE_BYTES + 1))
    with pytest.raises(CheckpointError, match="refused before loading"):
        qvopt.resume(ck)


def test_default_shots_cover_every_group():
    assert default_shots(5) == 1000 and default_shots(500) == 1000
    assert default_shots(567) == 1200  # NH3, frozen core: 2 per group, rounded up
    assert qvopt.RunConfig("h2").shots == 1000  # resolved later per problem
    with pytest.raises(qvopt.InputError, match="use at least"):
        qvopt.vqe("h2", shots=3, maxiter=0)  # explicit shots are kept: too few is an error


def test_shots_auto_round_trips_through_results(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--maxiter", "1", "--seed", "0", "--no-progress",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["shots"] == 1000
    assert np.isfinite(json.loads(out.read_text())["energy"])


@pytest.mark.parametrize("text, message", [
    ('basis = ""\n', "field 'basis'"),
    ('basis = "sto-3g"\ncharge = -10\n', "do not fit"),
])
def test_molecule_files_pyscf_cannot_build_are_one_line_errors(tmp_path, capsys, text,
                                                                 message):
    molecule = tmp_path / "m.toml"
    molecule.write_text(text + '[geometry]\nsymbols = ["H", "H"]\n'
                               'coordinates = [[0, 0, 0], [0, 0, 0.74]]\n')
    assert main(["run", str(molecule), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "h2", "--shots", "abc"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "--shots" in err and "usage:" not in err


def test_an_optimizer_that_is_neither_a_name_nor_an_optimizer_is_named():
    with pytest.raises(qvopt.InputError, match="optimizer must be a name"):
        qvopt.vqe("h2", optimizer=42)


def test_adapt_cannot_append_far_more_operators_than_its_pool():
    with pytest.raises(qvopt.InputError, match=r"max_operators \(500\) must be at most 6"):
        qvopt.adapt_vqe("h2", max_operators=500, shots=1000, seed=0)


def test_sigterm_stops_a_run_with_one_line_and_status_143(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    ck = tmp_path / "t.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "qvopt.cli", "run", "h2", "--tol", "none", "--maxiter",
         "100000", "--checkpoint", str(ck), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ck.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    ended = process.poll()
    if ended is not None or not ck.exists():
        # the run ended by itself, or never reached its first iteration: not what this test
        # is about, and a signal sent now would only hide what happened
        process.kill()
        out, err = process.communicate()
        what = (f"ended by itself with status {ended}" if ended is not None
                else "wrote no checkpoint within 120 s")
        pytest.fail(f"the run {what}, before the signal:\n{err}\n{out}")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, f"{err}\n{out}"  # stderr says why when it is not
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert qvopt.resume(ck, maxiter=qvopt.checkpoint.load(ck)[0]["nit"] + 1).success


def test_an_estimator_refuses_a_nan_or_complex_coefficient(h2):
    from qiskit.quantum_info import SparsePauliOp

    circuit = qvopt.ansatz.uccsd(h2)
    bad = SparsePauliOp(h2.hamiltonian.paulis, np.where(np.arange(len(h2.hamiltonian)) == 3,
                                                        np.nan, h2.hamiltonian.coeffs.real))
    with pytest.raises(qvopt.InputError, match="coefficient 3 .* finite"):
        qvopt.Estimator(bad, circuit)
    with pytest.raises(qvopt.InputError, match="Hermitian"):
        qvopt.Estimator(h2.hamiltonian * 1j, circuit)


@pytest.mark.parametrize("options, message", [
    ({"pool": [[0.5, 1.5]]}, "qubit indices"), ({"pool": [["a", "b"]]}, "qubit indices"),
    ({"drain_pool": 3}, "drain_pool must be true or false")])
def test_adapt_options_that_would_be_truncated_are_refused(options, message):
    with pytest.raises(qvopt.InputError, match=message):
        qvopt.adapt_vqe("h2", shots=None, **options)


def test_scan_outputs_that_collide_are_refused(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["scan", "h2", "--bond", "0.7", "--shots", "exact", "--out", str(out),
                 "--store", str(out), "--no-progress"]) == 2
    assert "same file" in capsys.readouterr().err and not out.exists()


def test_run_file_output_cannot_be_the_run_file(tmp_path):
    from qvopt.errors import RunFileError

    run_file = tmp_path / "run.toml"
    run_file.write_text('molecule = "h2"\n[output]\nresult = "run.toml"\n')
    with pytest.raises(RunFileError, match="names this file itself"):
        qvopt.RunConfig.from_toml(run_file)


def test_measured_steps_stay_bounded_on_concave_or_unmeasured_curvature():
    from qvopt.estimation.base import Estimate
    from qvopt.estimation.request import Reply
    from qvopt.optimizers import get_optimizer

    opt = get_optimizer("icans", lipschitz="measured")
    for curvature, stderr in (([-1.0, 0.0], [0.0, 0.0]), ([np.nan, 2.0], [np.nan, 0.1]),
                              ([0.0, 0.0], [0.0, 0.0])):
        state = opt.tell(opt.init(np.zeros(2)), Reply(
            value=Estimate(0.0, 0.0, 0), gradient=Estimate(np.array([0.1, 0.2]),
                                                           np.zeros(2), 0),
            curvature=Estimate(np.array(curvature), np.array(stderr), 0)))
        assert np.all(np.isfinite(state.x)) and np.max(np.abs(state.x)) <= 0.5 / 0.02 * 0.2


def test_a_budget_is_kept_when_the_reported_point_is_measured_again(h2):
    r = qvopt.vqe("h2", optimizer="sgd", optimizer_options={"lr": 4.0}, guard=False,
                  tol=None, shot_budget=50_000, seed=0)
    assert r.shots_used <= 50_000
