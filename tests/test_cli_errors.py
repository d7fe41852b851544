"""The CLI: every bad input is one line naming it (exit 2); Ctrl-C is one line (exit 130)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import qvopt
from qvopt.cli import main


@pytest.mark.parametrize("argv, message", [
    (["run", "h2", "-O", "lr=-1"], "lr"),
    (["run", "h2", "-O", "lr=nan"], "lr"),
    (["run", "h2", "-O", "lr=inf"], "lr"),
    (["run", "h2", "-O", "lr=abc"], "lr"),
    (["run", "h2", "--seed", "-1"], "--seed"),
    (["run", "h2", "--maxiter", "-3"], "--maxiter"),
    (["run", "h2", "--shot-budget", "0"], "--shot-budget"),
    (["run", "h2", "--gtol", "-1"], "--gtol"),
    (["run", "h2", "--ansatz", "ucc"], "unknown ansatz 'ucc'"),
    (["run", "h2", "--backend", "nowhere"], "unknown backend 'nowhere'"),
    (["run", "h2", "--backend", "aer", "--shots", "exact"], "shots"),
    (["run", "h2", "--allocation", "variance", "--shots", "exact"], "allocation"),
    (["run", "--resume", "missing.ckpt"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().startswith("error:")


def test_out_and_checkpoint_directories_are_rejected_before_running(tmp_path, capsys):
    for flag in ("--out", "--checkpoint"):
        assert main(["run", "h2", flag, str(tmp_path), "--no-progress"]) == 2
        captured = capsys.readouterr()
        assert flag in captured.err and "directory" in captured.err
        assert "VQE" not in captured.out  # nothing ran


@pytest.mark.parametrize("shots", ["1e20", "0", "-5", "abc", "100000000000000000000"])
def test_absurd_shots_are_a_usage_error(shots, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "h2", "--shots", shots])
    assert info.value.code == 2 and "--shots" in capsys.readouterr().err


def test_shots_in_scientific_notation_are_accepted(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--shots", "1e3", "--maxiter", "1", "--out", str(out),
                 "--no-progress"]) == 0
    assert json.loads(out.read_text())["shots"] == 1000


def test_resume_or_config_with_other_flags_is_an_error(h2, tmp_path, capsys):
    ck = tmp_path / "run.ckpt"
    assert main(["run", "h2", "--maxiter", "1", "--checkpoint", str(ck), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(ck), "--shots", "10"]) == 2
    assert "--shots" in capsys.readouterr().err
    assert main(["run", "--resume", str(ck), "--maxiter", "2", "--no-progress"]) == 0
    run_file = tmp_path / "run.toml"
    run_file.write_text('molecule = "h2"\nmaxiter = 1\n')
    assert main(["run", "--config", str(run_file), "--optimizer", "sgd"]) == 2
    assert "--optimizer" in capsys.readouterr().err


def test_version_and_user_help(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert qvopt.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Thin" not in text and "auto: 1000" in text and "auto: icans" in text
    assert "--allocation variance" in text and "MP2 start for --ansatz uccsd" in text


def test_brackets_in_messages_are_printed(capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise qvopt.MissingExtraError("needs pip install 'qvopt[gpu]'")

    monkeypatch.setattr(sys.modules["qvopt.api"], "run", fail)
    assert main(["run", "h2"]) == 2
    assert "qvopt[gpu]" in capsys.readouterr().err


def test_a_bug_keeps_its_traceback(monkeypatch):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(sys.modules["qvopt.api"], "run", bug)
    with pytest.raises(ZeroDivisionError):
        main(["run", "h2", "--no-progress"])


def _ctrl_c_delivered() -> None:
    """In the child before it starts: SIGINT acts as in a terminal. Where the tests run as a
    background job of a shell without job control (``nohup bash .ci/run &``) SIGINT is
    inherited ignored and Python keeps ignoring it: the run below kept iterating 60 s after
    Ctrl-C (its stack, from faulthandler, was in the next checkpoint write)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_with_the_checkpoint_intact(tmp_path):
    ck = tmp_path / "run.ckpt"
    process = subprocess.Popen(
        [sys.executable, "-m", "qvopt.cli", "run", "h2", "--maxiter", "100000", "--tol", "none",
         "--shots", "100", "--checkpoint", str(ck), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"}, preexec_fn=_ctrl_c_delivered)
    deadline = time.monotonic() + 120
    while not ck.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(0.5)
    os.kill(process.pid, signal.SIGINT)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say where it is stuck (faulthandler on SIGABRT)
        process.send_signal(signal.SIGABRT)
        out, err = process.communicate()
        pytest.fail(f"still running 60 s after SIGINT; its threads:\n{err[-6000:]}")
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    resumed = qvopt.resume(ck, maxiter=qvopt.checkpoint.load(ck)[0]["nit"] + 1)
    assert resumed.nit >= 2


def test_compare_takes_allocation_and_per_optimizer_options(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    assert main(["compare", "h2", "--optimizers", "adam,sgd", "--shots", "2000", "--seeds", "1",
                 "--maxiter", "2", "--allocation", "variance", "-O", "adam.lr=0.02",
                 "-O", "sgd.lr=0.3", "--store", str(store), "--workers", "1",
                 "--no-progress"]) == 0
    from qvopt.bench.store import Store

    with Store(store, create=False) as db:
        runs = db.runs_frame()
    configs = {row.optimizer: json.loads(row.config) for row in runs.itertuples()}
    assert set(configs) == {"adam", "sgd"} and set(runs["status"]) == {"finished"}
    assert configs["adam"]["optimizer_options"] == {"lr": 0.02}
    assert configs["sgd"]["optimizer_options"] == {"lr": 0.3}
    assert {c["allocation"] for c in configs.values()} == {"variance"}
    assert main(["compare", "h2", "--optimizers", "adam,sgd", "--shots", "100", "-O", "lr=1",
                 "--store", str(tmp_path / "t.sqlite")]) == 2
    assert "OPTIMIZER.lr" in capsys.readouterr().err


def test_resume_refuses_any_typed_flag_even_at_its_default(tmp_path, capsys):
    ck = tmp_path / "run.ckpt"
    assert main(["run", "h2", "--shots", "100", "--maxiter", "1", "--checkpoint", str(ck),
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(ck), "--shots", "1000", "--optimizer", "adam"]) == 2
    err = capsys.readouterr().err
    assert "--shots" in err and "--optimizer" in err


def test_resume_writes_only_where_the_command_line_says(tmp_path, capsys):
    run_file = tmp_path / "run.toml"
    run_file.write_text('molecule = "h2"\nmaxiter = 1\ntol = "none"\n[output]\n'
                        'result = "r.json"\ncheckpoint = "r.ckpt"\n')
    assert main(["run", "--config", str(run_file), "--no-progress"]) == 0
    (tmp_path / "r.json").unlink()
    # the checkpoint holds result = r.json: a shared checkpoint must not choose where
    # its result is written
    assert main(["run", "--resume", str(tmp_path / "r.ckpt"), "--maxiter", "2",
                 "--no-progress"]) == 0
    assert not (tmp_path / "r.json").exists()
    out = tmp_path / "mine.json"
    assert main(["run", "--resume", str(tmp_path / "r.ckpt"), "--maxiter", "3",
                 "--no-progress", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["nit"] == 3
    capsys.readouterr()
    assert main(["run", "--resume", str(tmp_path / "r.ckpt"), "--out", str(tmp_path)]) == 2
    assert "directory" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ('molecule = "h2"\n[output]\nresult = 5\n', "output.result"),
    ('molecule = "h2"\n[ansatz]\nname = "hardware_efficient"\nlayers = 0\n', "layers"),
    ('molecule = "h2"\nshots = "many"\n', "shots"),
    ('molecule = "h2"\ninitial_point = [1, "a", 0]\n', "initial_point"),
])
def test_run_file_values_are_named(tmp_path, capsys, text, message):
    run_file = tmp_path / "run.toml"
    run_file.write_text(text)
    assert main(["run", "--config", str(run_file)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unwritable_output_is_refused_before_running(capsys):
    import os

    if os.access("/proc", os.W_OK):
        pytest.skip("running with permissions that can write /proc")
    assert main(["run", "h2", "--out", "/proc/x.json"]) == 2
    assert "writ" in capsys.readouterr().err


def test_markup_in_paths_is_printed_as_is(tmp_path, capsys):
    ck = tmp_path / "[red]x" / "c.ckpt"
    assert main(["run", "h2", "--maxiter", "1", "--checkpoint", str(ck), "--no-progress"]) == 0
    assert "[red]x" in capsys.readouterr().out


def test_a_folder_named_like_a_shipped_molecule_does_not_hide_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h2").mkdir()
    (tmp_path / "lih").write_text("not a molecule")
    assert qvopt.RunConfig("h2").molecule == "h2"
    assert qvopt.load_problem("lih").n_qubits == 12


def test_engine_is_a_run_setting(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--engine", "aer", "--maxiter", "1", "--out", str(out),
                 "--no-progress"]) == 0
    assert json.loads(out.read_text())["config"]["engine"] == "aer"
    assert main(["run", "h2", "--ansatz", "hardware_efficient", "--engine", "sector"]) == 2
    assert "sector" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["run", "h2", "--shots", "0"], ["run", "h2", "--seed", "-1"],
                                  ["run", "h2", "-O", "lr=-1"], ["run", "h2", "--gtol", "-1"]])
def test_messages_speak_command_line_not_python(argv, capsys):
    with pytest.raises(SystemExit) if argv[2] == "--shots" else contextlib.nullcontext():
        assert main(argv) == 2  # argparse's own errors exit with 2 as well
    err = capsys.readouterr().err
    assert "None" not in err and "usage:" not in err and err.count("\n") == 1


def test_an_error_while_setting_up_draws_no_progress_bar(capsys, monkeypatch):
    assert main(["run", "h2", "--device", "GPU"]) == 2  # no GPU build of Aer here
    captured = capsys.readouterr()
    assert "0/120" not in captured.out and "iterations" not in captured.out
    assert "uninstall -y qiskit-aer" in captured.err
    assert main(["scan", "h2", "--bond", "2:1:0.1"]) == 2
    assert "scan h2" not in capsys.readouterr().out


def test_help_states_each_default_once(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: auto) (default" not in text and text.count("auto: 0.0016") == 2
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "adapt" in capsys.readouterr().out
