"""The habits of a maintained project, checked with the tests (issue 23): imports run
downward only (import-linter's layers contract in pyproject.toml: no circles, no upward
import), ruff is clean, and the whole package type-checks with mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    """mypy over the whole ``qvopt`` package (settings in pyproject.toml): no error."""
    result = _run(sys.executable, "-m", "mypy", "qvopt")
    assert result.returncode == 0, result.stdout + result.stderr


def test_version_is_one_number():
    """``qvopt.__version__`` (``qvopt --version``, records) is the version pyproject.toml
    installs: a release bumps both or neither."""
    import tomllib

    import qvopt

    with open(ROOT / "pyproject.toml", "rb") as handle:
        assert tomllib.load(handle)["project"]["version"] == qvopt.__version__
