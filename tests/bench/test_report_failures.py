"""Failed runs are counted per grid point, listed with their errors, and set the exit code."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.bench import Store
from qvopt.cli import main

from .test_report import synthetic_run


def failed_run(store, run, optimizer, seed_index, message, shots=100):
    config = {"run_id": run, "molecule": "toy", "optimizer": optimizer, "shots": shots,
              "seed_index": seed_index, "initial_point": "mp2"}
    store.write_run(config, {"status": "failed", "message": message, "wall_time": 0.1})


@pytest.fixture
def mixed_store(tmp_path):
    path = tmp_path / "mixed.sqlite"
    with Store(path) as store:
        synthetic_run(store, "a0", "A", 0, [20.0, 1.0])
        failed_run(store, "a1", "A", 1, "FloatingPointError: nan energy")
        failed_run(store, "b0", "B", 0, "ValueError: lr must be positive")
        failed_run(store, "b1", "B", 1, "ValueError: lr must be positive")
    return path


@pytest.fixture
def all_failed_store(tmp_path):
    path = tmp_path / "failed.sqlite"
    with Store(path) as store:
        failed_run(store, "a0", "A", 0, "RuntimeError: backend exploded")
        failed_run(store, "b0", "B", 0, "ValueError: lr must be positive", shots=None)
    return path


def test_failed_runs_are_counted_per_row(mixed_store):
    table, _ = qvopt.report(mixed_store, plots=False)
    a = table[table.optimizer == "A"].iloc[0]
    assert (a.runs, a.failed) == (1, 1)
    assert a.errors == "FloatingPointError: nan energy"
    assert a.median_error_mha == pytest.approx(1.0)
    b = table[table.optimizer == "B"].iloc[0]
    assert (b.runs, b.failed) == (0, 2)
    assert b.errors == "ValueError: lr must be positive"  # distinct messages, once
    assert np.isnan(b.median_error_mha) and np.isnan(b.success_rate)


def test_cli_lists_failures_and_exits_0_when_something_finished(mixed_store, capsys):
    assert main(["report", str(mixed_store), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "failed runs (3)" in out
    assert "nan energy" in out and "lr must be positive" in out


def test_cli_exits_1_when_every_run_failed(all_failed_store, capsys):
    assert main(["report", str(all_failed_store)]) == 1
    out = capsys.readouterr().out
    assert "failed runs (2)" in out
    assert "backend exploded" in out and "lr must be positive" in out
    assert "exact shots" in out  # the exact-energy row is labelled, not "nan"
    assert not list(all_failed_store.parent.glob("*.png"))
