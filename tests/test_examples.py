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
    assert "within chemical accuracy: True" in result.stdout


def test_compare_optimizers_example_prints_a_table():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "compare_optimizers_h2.py"),
                             "--maxiter", "15"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[0] == "optimizer" and len(lines) == 13
    assert {line.split()[0] for line in lines[1:]} >= {"adam", "qng", "spsa", "lbfgs"}
