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
