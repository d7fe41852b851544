"""Command line: run, molecules, optimizers, error exits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qvopt.cli import main


def test_run_h2_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["run", "h2", "--maxiter", "30", "--tol", "none", "--seed", "1", "--out", str(out),
                 "-O", "lr=0.1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "error vs FCI" in printed and "shots used" in printed
    data = json.loads(out.read_text())
    for key in ("energy", "energy_exact", "e_fci", "error_mha", "shots_used", "nit", "history"):
        assert key in data
    assert data["nit"] == 30 and data["optimizer_options"]["lr"] == 0.1
    assert len(data["history"]) == 31


def test_run_with_schedule_option_and_exact_shots(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["run", "h2", "--shots", "exact", "--maxiter", "5", "--optimizer", "sgd",
                 "-O", 'schedule={name="step", step_size=2, gamma=0.5}', "--out", str(out),
                 "--no-progress"])
    assert code == 0
    assert json.loads(out.read_text())["shots_used"] == 0


@pytest.mark.parametrize("argv, message", [
    (["run", "h3x"], "unknown molecule 'h3x'"),
    (["run", "h2", "--optimizer", "adamm"], "unknown optimizer 'adamm'"),
    (["run", "h2", "-O", "lrr=0.1"], "unknown option"),
])
def test_errors_exit_2_with_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_negative_shots_rejected_by_parser(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "h2", "--shots", "-5"])
    assert info.value.code == 2
    assert "--shots must be a positive integer" in capsys.readouterr().err


def test_molecules_and_optimizers_lists(capsys):
    assert main(["molecules"]) == 0
    out = capsys.readouterr().out
    assert "lih_fc" in out and "-7.882176" in out
    assert main(["optimizers"]) == 0
    assert "adamw" in capsys.readouterr().out


def test_console_script_entry_point():
    result = subprocess.run([sys.executable, "-m", "qvopt.cli", "molecules"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "h2" in result.stdout


def test_run_with_allocation_spends_total_per_evaluation(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--shots", "3000", "--allocation", "variance", "--maxiter", "3",
                 "--optimizer", "adam", "--final-precision", "none", "--out", str(out),
                 "--no-progress"]) == 0
    data = json.loads(out.read_text())
    # per iteration: E(θ) + 12 shifted points; plus the final energy; 3000 shots each
    assert data["shots_used"] == 3000 * (3 * 13 + 1)
    assert data["allocation"] == "variance"


def test_cache_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QVOPT_CACHE_DIR", str(tmp_path))
    import qvopt

    qvopt.load_problem("h2")
    assert main(["cache", "info"]) == 0
    assert "1 cached Hamiltonian" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "removed 1" in capsys.readouterr().out


def test_run_help_states_the_defaults_the_code_uses():
    """``qvopt run --help`` names the defaults of the options whose default is not spelled
    in their value (ZNE folding and extrapolation, IBM mode, layers), read from the code."""
    import inspect

    from qvopt.ansatz.hardware_efficient import hardware_efficient
    from qvopt.cli import build_parser
    from qvopt.estimation.backends import ibm_device
    from qvopt.estimation.mitigation import ZNESettings

    run = build_parser()._subparsers._group_actions[0].choices["run"]
    helps = {a.dest: " ".join(a.help.split()) for a in run._actions if a.help}
    layers = inspect.signature(hardware_efficient).parameters["layers"].default
    mode = inspect.signature(ibm_device).parameters["mode"].default
    assert f"(default: {ZNESettings().folding})" in helps["zne_folding"]
    assert f"(default: {ZNESettings().extrapolation})" in helps["zne_extrapolation"]
    assert f"(default: {mode})" in helps["ibm_mode"]
    assert f"(default: {layers})" in helps["layers"]
    assert "default" in helps["seed"]
