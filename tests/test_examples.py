"""The examples run as scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_h2_example_runs():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "h2_vqe.py")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    runs = [line for line in result.stdout.splitlines() if line.startswith("VQE (")]
    assert len(runs) == 2
    for line in runs:  # both reach chemical accuracy and stay there
        error = float(line.split("error ")[1].split(" mHa")[0])
        assert error < 1.6 and "for good after never" not in line, line


def test_compare_optimizers_example_prints_a_table():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "compare_optimizers_h2.py"),
                             "--maxiter", "15"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[0] == "optimizer" and len(lines) == 14
    assert {line.split()[0] for line in lines[1:]} >= {"icans", "adam", "qng", "spsa", "lbfgs"}


def test_hardware_example_runs_offline(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "hardware_run.py")],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "backend fake_manila" in result.stdout
    assert (tmp_path / "hardware_run.ckpt").exists()


def test_fake_manila_run_file(tmp_path):
    import shutil

    shutil.copy(ROOT / "examples" / "run_fake_manila.toml", tmp_path / "run.toml")
    result = subprocess.run([sys.executable, "-m", "qvopt.cli", "run", "--config", "run.toml",
                             "--maxiter", "2", "--no-progress"], capture_output=True,
                            text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fake_manila_result.json").exists()
    assert (tmp_path / "fake_manila.ckpt").exists()


def test_compare_example(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "compare_optimizers.py"),
                             "--seeds", "2", "--maxiter", "10", "--store",
                             str(tmp_path / "s.sqlite")], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert "20 runs finished" in result.stdout and "plot:" in result.stdout
