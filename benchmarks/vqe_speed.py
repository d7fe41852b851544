"""Wall time of a default VQE run (``qvopt run <molecule> --maxiter N``) per engine.

    python benchmarks/vqe_speed.py --molecule lih --maxiter 120 --engines sector
    python benchmarks/vqe_speed.py --molecule lih --maxiter 10 --engines sector,aer

Runs ``qvopt.run(RunConfig(molecule, maxiter))`` with the defaults (Adam, 1000 shots per
group, UCCSD from Hartree–Fock), once per engine, in this process, and prints the load
average, wall seconds, iterations, shots and the final error. The engine is passed as
``RunConfig(engine=...)`` when the configuration has that field; otherwise the estimator's
engine choice is forced for the duration of the run (a benchmark-only override).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time

import qvopt
from qvopt.estimation import estimator as estimator_module


@contextlib.contextmanager
def forced_engine(engine: str):
    """Make every Estimator built inside use ``engine`` (for configs without the field)."""
    original = estimator_module.choose_engine
    estimator_module.choose_engine = lambda _engine, *args: original(engine, *args)
    try:
        yield
    finally:
        estimator_module.choose_engine = original


def run_once(molecule: str, maxiter: int, engine: str):
    fields = {f.name for f in dataclasses.fields(qvopt.RunConfig)}
    if "engine" in fields:
        config = qvopt.RunConfig(molecule=molecule, maxiter=maxiter, engine=engine)
        context = contextlib.nullcontext()
    else:
        config = qvopt.RunConfig(molecule=molecule, maxiter=maxiter)
        context = forced_engine(engine)
    with context:
        start = time.perf_counter()
        result = qvopt.run(config)
        return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecule", default="lih")
    parser.add_argument("--maxiter", type=int, default=120)
    parser.add_argument("--engines", default="sector,aer")
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().strip()}")
    print("| molecule | engine | maxiter | wall (s) | iterations | shots | error (mHa) |")
    print("|---|---|---|---|---|---|---|")
    for engine in args.engines.split(","):
        seconds, result = run_once(args.molecule, args.maxiter, engine)
        print(f"| {args.molecule} | {engine} | {args.maxiter} | {seconds:.1f} | {result.nit} | "
              f"{result.shots_used:.3e} | {result.error_mha:.2f} |", flush=True)
    with open("/proc/loadavg") as handle:
        print(f"load average after: {handle.read().strip()}")


if __name__ == "__main__":
    main()
