"""Wall time of a default VQE run (``qvopt run <molecule> --maxiter N``) per engine.

    python benchmarks/vqe_speed.py --molecule lih --maxiter 120 --engines sector
    python benchmarks/vqe_speed.py --molecule lih --maxiter 10 --engines sector,aer

Runs ``qvopt.run(RunConfig(molecule, maxiter))`` with the other settings at their defaults
(iCANS, 1000 shots per evaluation split by the variance allocation, UCCSD from the MP2
start, the guard and the convergence test, which usually ends the run before ``maxiter``:
pass ``--maxiter`` with ``tol`` in mind), once per engine, in this process, and prints the load
average, wall seconds, iterations, shots and the final error; the engine is
``RunConfig(engine=...)`` (``qvopt run --engine``).
"""

from __future__ import annotations

import argparse
import time

import qvopt


def run_once(molecule: str, maxiter: int, engine: str):
    config = qvopt.RunConfig(molecule=molecule, maxiter=maxiter, engine=engine)
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
