"""Report statistics checked by hand on a small synthetic store."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.bench import Store

E_FCI = -1.0


def synthetic_run(store, run, optimizer, seed_index, errors_mha, shots_step=1000,
                  initial_point="mp2"):
    """A finished run whose exact energy follows ``errors_mha`` (one point per 1000 shots)."""
    history = [{"iteration": i, "energy": E_FCI + e / 1000, "stderr": 0.001,
                "energy_exact": E_FCI + e / 1000, "shots": (i + 1) * shots_step,
                "time": 0.5 * (i + 1)} for i, e in enumerate(errors_mha)]
    config = {"run_id": run, "molecule": "toy", "optimizer": optimizer, "shots": 100,
              "seed_index": seed_index}
    if initial_point is not None:  # None: a store written before runs recorded their start
        config["initial_point"] = initial_point
    store.write_run(config, {"status": "finished", "message": "ok",
                             "energy": history[-1]["energy"],
                             "energy_exact": history[-1]["energy_exact"], "e_fci": E_FCI,
                             "error_mha": errors_mha[-1], "shots_used": len(errors_mha) * 1000,
                             "nit": len(errors_mha) - 1, "wall_time": 1.0, "history": history})


@pytest.fixture
def toy_store(tmp_path):
    path = tmp_path / "toy.sqlite"
    with Store(path) as store:
        # optimizer A: final errors 0.5, 1.0, 3.0, 10.0; first within 1.6 mHa at
        # points 2, 1, never, never → shots 3000, 2000; times 1.5, 1.0
        synthetic_run(store, "a0", "A", 0, [20.0, 5.0, 1.2, 0.5])
        synthetic_run(store, "a1", "A", 1, [20.0, 1.0, 1.0, 1.0])
        synthetic_run(store, "a2", "A", 2, [20.0, 8.0, 4.0, 3.0])
        synthetic_run(store, "a3", "A", 3, [20.0, 15.0, 12.0, 10.0])
        # optimizer B: a single seed that fails
        synthetic_run(store, "b0", "B", 0, [20.0, 2.0])
    return path


def test_summary_numbers_by_hand(toy_store):
    table, paths = qvopt.report(toy_store, plots=False)
    a = table[table.optimizer == "A"].iloc[0]
    assert a.runs == 4
    assert a.median_error_mha == pytest.approx(np.median([0.5, 1.0, 3.0, 10.0]))  # 2.0
    assert a.q25_error_mha == pytest.approx(0.875) and a.q75_error_mha == pytest.approx(4.75)
    assert a.success_rate == pytest.approx(0.5)
    assert a.reached == 2
    # two of four seeds never get there: they count as ∞, so the median is ∞ (the
    # seeds that did get there alone would say 2500)
    assert np.isinf(a.median_shots_to_ca) and np.isinf(a.median_time_to_ca)
    assert a.success_ci_low <= 0.5 <= a.success_ci_high
    assert a.median_error_ci_low <= 2.0 <= a.median_error_ci_high
    b = table[table.optimizer == "B"].iloc[0]
    assert b.success_rate == 0 and b.reached == 0 and np.isinf(b.median_shots_to_ca)
    assert paths == []


def test_plots_and_csv_are_written(toy_store, tmp_path):
    table, paths = qvopt.report(toy_store, csv=tmp_path / "t.csv")
    assert sorted(p.name for p in paths) == ["toy_toy_error_vs_shots.png",
                                             "toy_toy_final_errors.png",
                                             "toy_toy_shots_to_ca.png",
                                             "toy_toy_success_vs_budget.png"]
    assert all(p.stat().st_size > 5000 for p in paths)
    import pandas as pd

    csv = pd.read_csv(tmp_path / "t.csv")
    assert list(csv.optimizer) == ["A", "B"]
    assert csv.median_error_mha[0] == pytest.approx(2.0)


def test_shots_to_ca_of_every_seed_by_hand(toy_store):
    from qvopt.bench.report import seed_shots_to_ca

    with Store(toy_store) as store:
        runs, traces = store.runs_frame(), store.trace_frame()
    by_run = {rid: t for rid, t in traces.groupby("run_id")}
    rows = dict(seed_shots_to_ca(runs, by_run))
    # A: seeds 0 and 1 settle at 3000 and 2000 shots, seeds 2 and 3 never; B never
    assert np.array_equal(rows["A, 100 shots"], [3000.0, 2000.0, np.nan, np.nan],
                          equal_nan=True)
    assert np.isnan(rows["B, 100 shots"]).all()


def test_success_vs_budget_counts_seeds_that_settled():
    from qvopt.bench.report import reached_within

    # three seeds: settled at 2000 and 5000 shots, one never (it may have passed through
    # the band earlier: round 2's curve then went 1.0 -> 0.5 -> 1.0)
    shares = reached_within(np.array([2000.0, 5000.0, np.nan]), np.array([1e3, 3e3, 1e4]))
    assert np.allclose(shares, [0.0, 1 / 3, 2 / 3]) and np.all(np.diff(shares) >= 0)


def test_report_is_reproducible(toy_store):
    t1, _ = qvopt.report(toy_store, plots=False)
    t2, _ = qvopt.report(toy_store, plots=False)
    assert t1.equals(t2)


def test_runs_from_before_mp2_starts_get_their_own_row(tmp_path):
    path = tmp_path / "mixed.sqlite"
    with Store(path) as store:
        synthetic_run(store, "old", "A", 0, [20.0, 1.0], initial_point=None)
        synthetic_run(store, "new", "A", 0, [20.0, 5.0, 1.0])
    table, _ = qvopt.report(path, plots=False)
    assert sorted(table.optimizer) == ["A", "A@hf"] and list(table.runs) == [1, 1]


@pytest.mark.parametrize("columns", ["80", "200"])
def test_report_table_never_cuts_a_number(toy_store, columns, monkeypatch, capsys):
    from qvopt.cli import main

    monkeypatch.setenv("COLUMNS", columns)
    assert main(["report", str(toy_store), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out and "median shots to CA" in " ".join(out.split())
    assert max(len(line) for line in out.splitlines()) <= int(columns)
