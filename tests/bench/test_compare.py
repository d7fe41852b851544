"""Study grids: reproducible, resumable after SIGKILL, same on 1/2 workers and on Dask."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import qvopt
from qvopt.bench import Store, StoreError, make_study
from qvopt.bench.study import derived_seed, run_id

GRID = dict(molecules=["h2"], optimizers={"adam": {}, "spsa": {}}, shots=[200, 1000],
            seeds=2, maxiter=8)


def store_rows(path, volatile=("finished_at", "wall_time")):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    runs = [{k: r[k] for k in r.keys() if k not in volatile}
            for r in conn.execute("SELECT * FROM runs ORDER BY run_id")]
    trace = [tuple(r)[:-1] for r in conn.execute(
        "SELECT * FROM trace ORDER BY run_id, step")]  # last column is elapsed time
    conn.close()
    return runs, trace


def test_same_study_twice_gives_identical_store_contents(tmp_path):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    qvopt.compare(**GRID, store=a, workers=1)
    qvopt.compare(**GRID, store=b, workers=1)
    runs_a, trace_a = store_rows(a)
    runs_b, trace_b = store_rows(b)
    assert len(runs_a) == 8 and runs_a == runs_b and trace_a == trace_b


def test_one_and_two_workers_give_identical_metrics(tmp_path):
    one, two = tmp_path / "1.sqlite", tmp_path / "2.sqlite"
    qvopt.compare(**GRID, store=one, workers=1)
    summary = qvopt.compare(**GRID, store=two, workers=2)
    assert summary.finished == 8
    assert store_rows(one) == store_rows(two)


def test_rerun_skips_finished_runs(tmp_path):
    path = tmp_path / "s.sqlite"
    first = qvopt.compare(**GRID, store=path, workers=1)
    assert (first.finished, first.skipped) == (8, 0)
    again = qvopt.compare(**GRID, store=path, workers=1)
    assert (again.finished, again.skipped) == (0, 8)


def test_sigkill_midway_then_resume(tmp_path):
    path = tmp_path / "killed.sqlite"
    argv = [sys.executable, "-m", "qvopt.cli", "compare", "h2", "--optimizers", "adam,sgd",
            "--shots", "500,1000", "--seeds", "3", "--maxiter", "40", "--store", str(path),
            "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    finished_before = {}
    deadline = time.time() + 240
    while time.time() < deadline:
        time.sleep(0.2)
        if path.exists():
            try:
                conn = sqlite3.connect(path, timeout=1)
                rows = conn.execute("SELECT run_id, finished_at, energy FROM runs").fetchall()
                conn.close()
            except sqlite3.Error:
                continue
            if len(rows) >= 3:
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(path)
    finished_before = {r[0]: r[1:] for r in conn.execute(
        "SELECT run_id, finished_at, energy FROM runs")}
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert 3 <= len(finished_before) < 12, "kill should land midway"

    subprocess.run(argv, check=True, capture_output=True, timeout=600)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT run_id, finished_at, energy FROM runs").fetchall()
    counts = conn.execute("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM runs").fetchone()
    traces = conn.execute("SELECT COUNT(DISTINCT run_id) FROM trace").fetchone()[0]
    conn.close()
    assert counts == (12, 12) and traces == 12
    after = {r[0]: r[1:] for r in rows}
    for rid, values in finished_before.items():
        assert after[rid] == values  # not recomputed


def test_dask_local_cluster_matches_process_pool(tmp_path):
    pytest.importorskip("distributed")
    pool, dask = tmp_path / "pool.sqlite", tmp_path / "dask.sqlite"
    qvopt.compare(**GRID, store=pool, workers=2)
    qvopt.compare(**GRID, store=dask, executor="dask-local")
    assert store_rows(pool) == store_rows(dask)


def test_seeds_depend_only_on_grid_coordinates():
    study = make_study(**GRID)
    configs = study.runs()
    assert len({c["seed"] for c in configs}) == len(configs)
    again = make_study(**GRID).runs()
    assert [c["seed"] for c in configs] == [c["seed"] for c in again]
    assert [c["run_id"] for c in configs] == [run_id(c) for c in configs]
    changed = dict(configs[0], maxiter=9)
    assert run_id(changed) != configs[0]["run_id"]
    assert derived_seed(changed) == configs[0]["seed"]  # budget is not a grid coordinate
    # the start is part of a run's identity (UCCSD runs start at MP2 by default)
    assert {c["initial_point"] for c in configs} == {"mp2"}
    assert run_id(dict(configs[0], initial_point=None)) != configs[0]["run_id"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(GRID, optimizers={"adamm": {}}), "unknown optimizer 'adamm'"),
    (dict(GRID, molecules=["h3po"]), "unknown molecule 'h3po'"),
    (dict(GRID, shots=[]), "empty grid"),
    (dict(GRID, optimizers={"adam": {"lrr": 1}}), r"unknown option\(s\) \['lrr'\]"),
    (dict(GRID, shots=[0]), "shot settings must be positive"),
])
def test_bad_grid_fails_before_any_run(tmp_path, kwargs, message):
    path = tmp_path / "never.sqlite"
    with pytest.raises(ValueError, match=message):
        qvopt.compare(**kwargs, store=path)
    assert not path.exists()


def test_foreign_and_unreadable_stores_are_refused(tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a qvopt study store"):
        qvopt.compare(**GRID, store=foreign)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a qvopt study store"):
        qvopt.compare(**GRID, store=garbage)
    with pytest.raises(StoreError, match="does not exist"):
        qvopt.report(tmp_path / "missing.sqlite")
    Store(tmp_path / "empty.sqlite").close()
    with pytest.raises(ValueError, match="holds no runs"):
        qvopt.report(tmp_path / "empty.sqlite")


def test_study_file_and_cli(tmp_path, capsys):
    from qvopt.cli import main

    config = tmp_path / "study.toml"
    config.write_text('molecules = ["h2"]\nshots = [500]\nseeds = 2\nmaxiter = 5\n'
                      '[optimizers.adam]\nlr = 0.1\n[optimizers.qng]\n')
    store = tmp_path / "cli.sqlite"
    assert main(["compare", "--config", str(config), "--store", str(store),
                 "--no-progress"]) == 0
    assert "4 runs: 0 already in the store, 4 finished" in capsys.readouterr().out
    assert main(["report", str(store), "--csv", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    assert "adam" in out and "qng" in out and (tmp_path / "t.csv").exists()
    assert len(list(tmp_path.glob("cli_h2_*.png"))) == 4
    bad = tmp_path / "bad.toml"
    bad.write_text('molecules = ["h2"]\nshots = [5]\noptimizers = {adam = {}}\ncolour = 1\n')
    assert main(["compare", "--config", str(bad), "--store", str(store)]) == 2
    assert "unknown key(s) ['colour']" in capsys.readouterr().err


def test_grouping_is_in_the_identity_of_every_run_with_an_allocation():
    """Runs with shots per group (QWC in every version) keep their identities, so old
    stores resume; a run with an allocation names the grouping it measures (resolved for
    the molecule's size), so stored runs of unknown grouping are redone, and an explicit
    QWC run with an allocation is never taken for an fc_split one; unknown groupings are
    refused."""
    qwc = make_study(**GRID).runs()  # shots per group: auto is QWC
    assert all("grouping" not in c for c in qwc)
    explicit = make_study(**GRID, grouping="sorted_insertion").runs()
    assert [c["run_id"] for c in explicit] == [c["run_id"] for c in qwc]
    split = make_study(**GRID, allocation="variance").runs()
    assert {c["grouping"] for c in split} == {"fc_split"}
    old_style = {k: v for k, v in split[0].items() if k != "grouping"}
    assert run_id(old_style) != split[0]["run_id"]
    allocated_qwc = make_study(**GRID, allocation="variance", grouping="sorted_insertion")
    assert {c["grouping"] for c in allocated_qwc.runs()} == {"sorted_insertion"}
    assert run_id(old_style) not in {c["run_id"] for c in allocated_qwc.runs()}
    big = make_study(["n2_fc"], {"adam": {}}, [1000], seeds=1, allocation="variance").runs()
    assert big[0]["grouping"] == "sorted_insertion"  # what auto runs above 14 qubits
    assert make_study(["n2_fc"], {"adam": {}}, [1000], seeds=1, allocation="variance",
                      grouping="fc_split").runs()[0]["grouping"] == "fc_split"
    with pytest.raises(ValueError, match="grouping"):
        make_study(**GRID, grouping="cliques")


def test_store_and_report_name_the_grouping_each_run_used(tmp_path, capsys):
    from qvopt.cli import main

    store = tmp_path / "g.sqlite"
    assert main(["compare", "h2", "--optimizers", "icans", "--shots", "400", "--seeds", "1",
                 "--maxiter", "3", "--allocation", "variance", "--store", str(store),
                 "--no-progress"]) == 0
    assert main(["compare", "h2", "--optimizers", "icans", "--shots", "400", "--seeds", "1",
                 "--maxiter", "3", "--allocation", "variance", "--grouping",
                 "sorted_insertion", "--store", str(store), "--no-progress"]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(store)
    used = sorted(json.loads(c)["grouping_used"] for (c,) in conn.execute(
        "SELECT config FROM runs"))
    conn.close()
    assert used == ["fc_split", "sorted_insertion"]
    assert main(["report", str(store), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "icans:fc_split" in out  # never in one row with the QWC run


def test_report_labels_old_runs_with_an_allocation_as_of_unknown_grouping():
    import pandas as pd

    from qvopt.bench.report import with_method_labels

    base = {"ansatz": "uccsd", "initial_point": "mp2", "shots": 1000}
    rows = pd.DataFrame({"optimizer": ["icans"] * 3, "config": [
        json.dumps({**base, "allocation": "variance"}),  # before groupings were recorded
        json.dumps({**base, "allocation": None}),  # shots per group: QWC in every version
        json.dumps({**base, "allocation": "variance", "grouping_used": "fc_split"})]})
    labels = list(with_method_labels(rows)["optimizer"])
    assert labels == ["icans:unknown-grouping", "icans", "icans:fc_split"]
