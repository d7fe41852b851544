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
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .store import Store
from .study import Study, make_study


def package_versions() -> dict[str, str]:
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

    from ..vqe import vqe

    start = time.perf_counter()
    try:
        result = vqe(config["molecule"], ansatz=config["ansatz"], optimizer=config["optimizer"],
                     optimizer_options=config["optimizer_options"], shots=config["shots"],
                     seed=config["seed"], maxiter=config["maxiter"],
                     shot_budget=config["shot_budget"], allocation=config["allocation"],
                     threads=threads)
    except Exception as exc:  # recorded, not fatal for the study
        return {"status": "failed", "message": f"{type(exc).__name__}: {exc}",
                "wall_time": time.perf_counter() - start, "versions": package_versions()}
    return {"status": "finished", "message": result.message, "energy": result.fun,
            "energy_exact": result.energy_exact, "e_fci": result.e_fci,
            "error_mha": result.error_mha, "shots_used": result.shots_used, "nit": result.nit,
            "wall_time": result.wall_time, "history": result.history,
            "versions": package_versions()}


@dataclass
class CompareSummary:
    """What a :func:`compare` call did."""

    store: Path
    total: int
    skipped: int
    finished: int
    failed: int


def _dask_client(executor):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("the Dask executor needs the optional extra: pip install "
                           "'qvopt[dask]'") from None
    if isinstance(executor, Client):
        return executor, False
    if executor == "dask-local":
        return Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True)), True
    address = executor.removeprefix("dask://")
    return Client(f"tcp://{address}", timeout=30), True


def compare(molecules=None, optimizers=None, shots=None, seeds: int = 5, store="study.sqlite",
            workers: int | None = None, executor=None, study: Study | None = None,
            maxiter: int = 100, shot_budget: int | None = None, study_seed: int = 0,
            ansatz: str = "uccsd", allocation: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> CompareSummary:
    """Run the grid (or ``study``) and record it in ``store``; see the module docstring.

    ``progress(done, total)`` is called after each run is written.
    """
    if study is None:
        study = make_study(molecules or [], optimizers or {}, shots or [], seeds=seeds,
                           study_seed=study_seed, shot_budget=shot_budget, maxiter=maxiter,
                           ansatz=ansatz, allocation=allocation)
    configs = study.runs()
    with Store(store) as db:  # foreign/unreadable store: error before any run starts
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

        if not todo:
            return summary
        if executor is not None:
            client, owned = _dask_client(executor)
            try:
                futures = {client.submit(execute_run, c, pure=False): c for c in todo}
                from distributed import as_completed

                for future in as_completed(futures):
                    record(futures[future], future.result())
            finally:
                if owned:
                    client.close()
            return summary
        n_workers = workers or min(len(todo), os.cpu_count() or 1)
        if n_workers <= 1:
            for config in todo:
                record(config, execute_run(config))
            return summary
        # "spawn": forking a parent that already runs threads (Aer's OpenMP, the sampling
        # thread pool) can deadlock the children.
        context = multiprocessing.get_context("spawn")
        share = max(1, (os.cpu_count() or 1) // n_workers)
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
            pending = {pool.submit(execute_run, c, share): c for c in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    record(pending.pop(future), future.result())
        return summary
