"""Ctrl-C, SIGTERM and SIGKILL of a running `qvopt compare`: prompt stop, no orphan workers,
every run already recorded kept, the store readable."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

psutil = pytest.importorskip("psutil")

SEEDS = 8
WORKERS = 2


def start_compare(store, workers: int = WORKERS):
    """A compare on H2 whose runs take several seconds each."""
    argv = [sys.executable, "-m", "qvopt.cli", "compare", "h2", "--optimizers", "adam",
            "--shots", "1000", "--seeds", str(SEEDS), "--maxiter", "1500",
            "--store", str(store), "--workers", str(workers), "--no-progress"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def recorded(store) -> list[tuple]:
    """(run_id, finished_at) of every recorded run; [] while the store is not readable."""
    try:
        conn = sqlite3.connect(store, timeout=1)
        try:
            return sorted(conn.execute("SELECT run_id, finished_at FROM runs").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def spawned_workers(parent) -> list[int] | None:
    """The pids of the pool's worker processes once all WORKERS exist, else None (the
    resource tracker, also a child, is not a worker; a child may exit while we look)."""
    pids = []
    for child in parent.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:
            continue
    return pids if len(pids) >= WORKERS else None


def alive(pids) -> list[int]:
    """The pids that still run (a zombie waiting to be reaped counts as gone)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.parametrize("signum, group", [
    (signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False),
    (signal.SIGKILL, False)], ids=["SIGINT", "Ctrl-C-group", "SIGTERM", "SIGKILL"])
def test_signal_stops_compare_without_orphans(tmp_path, signum, group):
    """``group``: the signal goes to every process, as a terminal's Ctrl-C does (workers
    ignore it; the driver decides); otherwise to the main process only."""
    store = tmp_path / "study.sqlite"
    proc = start_compare(store)
    try:
        parent = psutil.Process(proc.pid)
        workers = wait_for(lambda: spawned_workers(parent), 120, "the worker processes")
        before = wait_for(lambda: recorded(store), 240, "a first recorded run")
        children = [c.pid for c in parent.children(recursive=True)]
        assert len(workers) == WORKERS
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        start = time.monotonic()
        proc.wait(timeout=30)
        stopped_after = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (-signal.SIGKILL if signum == signal.SIGKILL else 130)
    assert stopped_after < 15, f"compare took {stopped_after:.1f} s to stop"
    wait_for(lambda: not alive(children), 10, f"orphans {alive(children)} to exit")
    after = recorded(store)
    assert set(before) <= set(after), "runs recorded before the signal were lost"
    assert len(after) < SEEDS, "the grid ran to the end instead of stopping"
    conn = sqlite3.connect(store)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_a_single_process_compare(tmp_path, signum):
    """``--workers 1`` runs in the driver itself: the run in flight is dropped, not
    recorded as finished, and the CLI exits 130."""
    store = tmp_path / "study.sqlite"
    proc = start_compare(store, workers=1)
    try:
        before = wait_for(lambda: recorded(store), 240, "a first recorded run")
        proc.send_signal(signum)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    after = recorded(store)
    assert set(before) <= set(after) and len(after) < SEEDS
