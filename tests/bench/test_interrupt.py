"""Ctrl-C, SIGTERM and SIGKILL of a running `qvopt compare`: prompt stop, no orphan workers,
every run already recorded kept, the store readable."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

SEEDS = 8
WORKERS = 2


def start_compare(store, workers: int = WORKERS):
    """A compare on H2 whose runs take several seconds each; its stderr goes to
    ``stderr.txt`` beside the store (with the stacks of its threads, see :func:`stuck`)."""
    argv = [sys.executable, "-m", "qvopt.cli", "compare", "h2", "--optimizers", "adam",
            "--shots", "1000", "--seeds", str(SEEDS), "--maxiter", "1500",
            "--store", str(store), "--workers", str(workers), "--no-progress"]
    with open(Path(store).parent / "stderr.txt", "w") as stderr:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True, preexec_fn=_ctrl_c_delivered,
                                env={**os.environ, "PYTHONFAULTHANDLER": "1"})


def _ctrl_c_delivered() -> None:
    """In the child before it starts: SIGINT acts as in a terminal, even where the tests run
    with it ignored (a background job of a shell without job control inherits SIGINT
    ignored, and Python then keeps ignoring it: Ctrl-C could never reach compare)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stuck(proc, store) -> str:
    """What a compare that does not exit is doing: the stack of every thread (Python's
    faulthandler writes them on SIGABRT), then the process is killed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGABRT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    return (Path(store).parent / "stderr.txt").read_text()[-6000:]


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
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"compare did not exit within 30 s:\n{stuck(proc, store)}")
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
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"compare did not exit within 15 s:\n{stuck(proc, store)}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    after = recorded(store)
    assert set(before) <= set(after) and len(after) < SEEDS


#: A pool whose one worker writes the start of a result message (its header announces
#: far more bytes than follow), as a worker ended while sending a run's result does (a
#: result is larger than a pipe's buffer, so its send waits for the reader), then waits.
HALF_SENT_RESULT = """
import multiprocessing, os, struct, sys, time
from concurrent.futures import ProcessPoolExecutor

def send_half_a_result(ready):
    frame = sys._getframe()
    while frame.f_code.co_name != "_process_worker":
        frame = frame.f_back
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"the first bytes")
    open(ready, "w").close()
    time.sleep(600)

if __name__ == "__main__":
    from qvopt.bench.runner import _stop_pool

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(send_half_a_result, sys.argv[1])
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.05)
    _stop_pool(pool)
"""


def test_a_stop_while_a_worker_sends_its_result_does_not_hang_the_exit(tmp_path):
    """The pool's manager thread, waiting for the rest of a message its ended worker never
    sends, is released by the stop; before, interpreter exit joined it forever (a compare
    interrupted at that moment never exited)."""
    script = tmp_path / "half_sent.py"
    script.write_text(HALF_SENT_RESULT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "ready")],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the process did not exit after stopping its pool")
    assert proc.returncode == 0, err
    assert Path(tmp_path / "ready").exists()
