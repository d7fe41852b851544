"""The habits of a maintained project, checked with the tests (issue 23): imports run
downward only (import-linter's layers contract in pyproject.toml: no circles, no upward
import), ruff is clean, and the package type-checks with mypy (less the modules still pending)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# mypy runs over the whole package except the modules below, whose type errors are still
# being fixed by the work that owns them (issue 23). Remove an entry as soon as
# `.venv/bin/mypy <entry>` reports nothing for it; never add one to silence a new error.
MYPY_PENDING = [
    "qvopt/cli/__init__.py",
    "qvopt/bench/runner.py",
]


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_imports_run_downward_only():
    lint = Path(sys.executable).parent / "lint-imports"
    result = _run(str(lint), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


def test_ruff_is_clean():
    result = _run(sys.executable, "-m", "ruff", "check", "qvopt", "tests", "benchmarks",
                  "examples")
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks():
    """mypy over ``qvopt`` (settings in pyproject.toml), :data:`MYPY_PENDING` excluded:
    they are still analysed where imported (``follow_imports = "silent"``), only their own
    errors are not reported."""
    pending = "|".join(re.escape(path) for path in MYPY_PENDING)
    result = _run(sys.executable, "-m", "mypy", "qvopt", "--exclude", f"^({pending})")
    assert result.returncode == 0, result.stdout + result.stderr
