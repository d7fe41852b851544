"""Run a study's grid in parallel and record every run in the store.

Workers compute; only this (driver) process writes to the SQLite store, one transaction
per finished run. Runs already finished in the store are skipped, so re-running the same
command resumes an interrupted study. Executors: a local process pool (default), or a Dask
cluster (``executor="dask://HOST:PORT"``, a ``distributed.Client``, or ``"dask-local"``
for a throw-away local cluster; needs ``qvopt[dask]``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..config import DEFAULT_MAXITER
from ..errors import BackendError, InputError, missing_extra
from .store import Store
from .study import Study, make_study


def package_versions() -> dict[str, str]:
    """Installed versions of qvopt and the packages its numbers depend on."""
    out = {}
    for name in ("qvopt", "qiskit", "qiskit-aer", "pennylane", "pyscf", "numpy", "scipy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def execute_run(config: dict, threads: int | None = None) -> dict:
    """Run one grid point (in a worker). Never raises: failures come back as a status.

    ``threads`` caps the CPU threads of this run (its share of the machine)."""
    import numpy as np  # noqa: F401  (imported in the worker process)

    from ..api import run
    from .study import to_run_config

    start = time.perf_counter()
    try:
        result = run(to_run_config(config), threads=threads)
    except Exception as exc:  # noqa: BLE001  (recorded, not fatal for the study)
        return {"status": "failed", "message": f"{type(exc).__name__}: {exc}",
                "wall_time": time.perf_counter() - start, "versions": package_versions()}
    return {"status": "finished", "message": result.message, "energy": result.fun,
            "energy_exact": result.energy_exact, "e_fci": result.e_fci,
            "error_mha": result.error_mha, "shots_used": result.shots_used, "nit": result.nit,
            "wall_time": result.wall_time, "history": result.history,
            "grouping": (result.config or {}).get("grouping"), "versions": package_versions()}


@dataclass
class CompareSummary:
    """What a :func:`compare` call did."""

    store: Path
    total: int
    skipped: int
    finished: int
    failed: int


DASK_CONNECT_TIMEOUT_S = 5
PARENT_POLL_S = 0.5
#: how often the pool loop looks for a noted signal (the longest wait for a stop)
SIGNAL_POLL_S = 0.2
#: how long a stop waits for the pool's manager thread to finish
MANAGER_JOIN_S = 10


def _check_workers(workers) -> None:
    """``workers`` is None (one per run, up to the CPU count) or a positive integer."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise InputError(f"workers must be an integer >= 1 (or None for one per CPU), "
                         f"got {workers!r}")


def _check_executor(executor) -> None:
    """A Dask executor is well formed and Dask is installed, before anything runs."""
    if executor is None:
        return
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise missing_extra("the Dask executor", "dask") from None
    if not isinstance(executor, str):
        if not hasattr(executor, "submit"):
            raise InputError(f"executor must be 'dask://HOST:PORT', 'dask-local' or a "
                             f"distributed.Client, got {executor!r}")
        return
    host, _, port = executor.removeprefix("dask://").rpartition(":")
    if executor != "dask-local" and not (executor.startswith("dask://") and host
                                         and port.isdigit()):
        raise InputError(f"executor must be 'dask://HOST:PORT' or 'dask-local', got "
                         f"{executor!r}")


def _dask_client(executor):
    """(client, owned): connect to the scheduler, fast; an unreachable one → BackendError."""
    from distributed import Client

    if not isinstance(executor, str):
        return executor, False
    if executor == "dask-local":  # the client owns (and closes) the cluster it starts
        return Client(n_workers=2, threads_per_worker=1, processes=True), True
    address = executor.removeprefix("dask://")
    try:
        return Client(f"tcp://{address}", timeout=DASK_CONNECT_TIMEOUT_S), True
    except (OSError, TimeoutError) as exc:
        raise BackendError(f"cannot reach the Dask scheduler at {address} within "
                           f"{DASK_CONNECT_TIMEOUT_S} s ({type(exc).__name__}: {exc})") from exc


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker as soon as its parent (the driver) is gone: no orphans."""
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent_pid:
            os._exit(1)


def _worker_init(parent_pid: int) -> None:
    """Pool initializer: ignore Ctrl-C (the driver decides) and die with the driver."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="qvopt-parent-watch").start()


@contextmanager
def _sigterm_as_interrupt():
    """While the grid runs, SIGTERM stops it like Ctrl-C (raises KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (their runs are redone later).

    A worker ended while it sends its result (a run's result is larger than a pipe's
    buffer, so the send waits for the pool's manager thread to read) leaves part of a
    message in the result pipe; the manager thread would wait for the rest forever, and
    interpreter exit joins that thread: the process never ends. With every worker gone,
    closing the driver's own write end of that pipe (the driver never writes to it) ends the
    read; the manager thread then finds the pool broken and exits."""
    # the executor's internals (no public API ends workers or unblocks the manager thread)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()
    if manager is not None:
        manager.join(timeout=MANAGER_JOIN_S)


@contextmanager
def _signals_noted() -> Iterator[list[int]]:
    """While the pool runs, SIGTERM and Ctrl-C (SIGINT, unless it is ignored or has a
    handler of the caller's) only append their number to the list yielded; the pool loop
    looks at it between waits and stops there. A ``KeyboardInterrupt`` raised wherever the
    driver happens to be could land inside ``concurrent.futures``' own code, between taking
    the futures' locks and letting them go: the pool's manager thread would then wait for
    those locks forever, and the driver with it when it exits."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def note(signum, frame):
        noted.append(signum)

    wanted = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        wanted.append(signal.SIGINT)
    previous = {sig: signal.signal(sig, note) for sig in wanted}
    try:
        yield noted
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _run_pool(todo: list[dict], n_workers: int, record: Callable[[dict, dict], None]) -> None:
    """Run ``todo`` on local worker processes; on a signal (see :func:`_signals_noted`) or
    any error stop them, then raise (``KeyboardInterrupt`` for a signal)."""
    # "spawn": forking a parent that already runs threads (Aer's OpenMP, the sampling
    # thread pool) can deadlock the children.
    context = multiprocessing.get_context("spawn")
    share = max(1, (os.cpu_count() or 1) // n_workers)
    with _signals_noted() as signals:
        pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=context,
                                   initializer=_worker_init, initargs=(os.getpid(),))
        try:
            pending = {pool.submit(execute_run, c, share): c for c in todo}
            while pending:
                if signals:
                    raise KeyboardInterrupt(f"signal {signals[0]}")
                finished, _ = wait(pending, timeout=SIGNAL_POLL_S,
                                   return_when=FIRST_COMPLETED)
                for future in finished:
                    record(pending.pop(future), future.result())
        except BaseException:
            _stop_pool(pool)
            raise
        pool.shutdown(wait=True)
        if signals:  # noted while the last results were recorded: still a stop
            raise KeyboardInterrupt(f"signal {signals[0]}")


def _run_dask(client, todo: list[dict], record: Callable[[dict, dict], None]) -> None:
    """Run ``todo`` on a Dask cluster; on any interruption cancel what is left."""
    from distributed import as_completed

    futures = {}
    try:
        futures = {client.submit(execute_run, c, pure=False): c for c in todo}
        for future in as_completed(futures):
            record(futures[future], future.result())
    except BaseException:
        client.cancel(list(futures))
        raise


def compare(molecules=None, optimizers=None, shots=None, seeds: int = 5, store="study.sqlite",
            workers: int | None = None, executor=None, study: Study | None = None,
            maxiter: int = DEFAULT_MAXITER, shot_budget: int | None = None, study_seed: int = 0,
            ansatz: str = "uccsd", allocation: str | None = None, grouping: str = "auto",
            progress: Callable[[int, int], None] | None = None) -> CompareSummary:
    """Run the grid (or ``study``) and record it in ``store``; see the module docstring.

    ``progress(done, total)`` is called after each run is written. Everything is validated
    before the store is touched (:class:`~qvopt.errors.InputError`,
    :class:`~qvopt.errors.MissingExtraError`). Ctrl-C or SIGTERM stops the grid promptly:
    pending runs are cancelled, workers ended, every run already recorded is kept, and
    ``KeyboardInterrupt`` is re-raised. Workers exit by themselves if the driver dies.
    """
    _check_workers(workers)
    _check_executor(executor)
    if study is None:
        study = make_study(molecules or [], optimizers or {}, shots or [], seeds=seeds,
                           study_seed=study_seed, shot_budget=shot_budget, maxiter=maxiter,
                           ansatz=ansatz, allocation=allocation, grouping=grouping)
    configs = study.runs()
    if executor is None:
        return _record_study(configs, store, workers, None, progress)
    # connect first: an unreachable scheduler must not leave a new empty store behind
    client, owned = _dask_client(executor)
    try:
        return _record_study(configs, store, workers, client, progress)
    finally:
        if owned:
            client.close()


def _record_study(configs: list[dict], store, workers: int | None, client,
                  progress: Callable[[int, int], None] | None) -> CompareSummary:
    """Run what the store lacks (on ``client`` if given, else locally) and record it."""
    with Store(store) as db, _sigterm_as_interrupt():  # foreign store: refused before runs
        done = db.finished_ids()
        todo = [c for c in configs if c["run_id"] not in done]
        summary = CompareSummary(Path(store), len(configs), len(configs) - len(todo), 0, 0)
        if progress:
            progress(summary.skipped, summary.total)

        def record(config, outcome):
            db.write_run(config, outcome)
            if outcome["status"] == "finished":
                summary.finished += 1
            else:
                summary.failed += 1
            if progress:
                progress(summary.skipped + summary.finished + summary.failed, summary.total)

        n_workers = workers or min(len(todo), os.cpu_count() or 1)
        if not todo:
            pass
        elif client is not None:
            _run_dask(client, todo, record)
        elif n_workers <= 1:
            for config in todo:
                record(config, execute_run(config))
        else:
            _run_pool(todo, n_workers, record)
        return summary
