"""Time and memory of one default-shot parameter-shift gradient at the run's start point.

    python benchmarks/gradient_time.py n2_fc --grouping fc --repeats 3

Builds the run as ``qvopt run MOLECULE`` would (defaults, MP2 start) with the grouping
given, then times ``Estimator.gradient`` ``--repeats`` times after one warm-up call, and
prints the set-up time, the gradient times (wall clock and process CPU: on a shared
machine the CPU seconds are the steadier figure), their medians, the process's peak resident
memory (overall, up to the end of the warm-up, and of the timed gradients alone: the
set-up's own peaks — MP2 start, outcome classes — are not the gradient's) and the load
average. Also prints what the dry run's model (``qvopt.capacity``)
predicted for the same gradient.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

from qvopt.capacity import gradient_cost
from qvopt.config import RunConfig
from qvopt.vqe import _Run


def _peak_rss_gb() -> float:
    """The process's resident high-water mark (``VmHWM``; ``ru_maxrss`` elsewhere), GB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); False if unavailable."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("molecule")
    parser.add_argument("--grouping", default="sorted_insertion")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    run = _Run(RunConfig(molecule=args.molecule, grouping=args.grouping))
    setup = time.perf_counter() - started
    estimator, points = run.estimator, run.points_per_gradient()
    predicted = gradient_cost(estimator, run.x0, points)
    estimator.gradient(run.x0)  # warm-up: tables built once
    setup_peak_gb = _peak_rss_gb()
    reset = _reset_peak_rss()
    times, cpu = [], []
    for _ in range(args.repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        estimator.gradient(run.x0)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    gradients_gb = f"{_peak_rss_gb():.2f} GB" if reset else "n/a"
    print(f"{args.molecule} ({args.grouping}): {run.circuit.num_parameters} parameters, "
          f"{points} points, {estimator.grouped.n_groups} groups; set-up {setup:.1f} s; "
          f"gradient {[round(t, 2) for t in times]} s, median {statistics.median(times):.2f} "
          f"s (CPU {[round(t, 2) for t in cpu]} s, median {statistics.median(cpu):.2f} s); "
          f"peak RSS {peak_gb:.2f} GB (set-up and warm-up {setup_peak_gb:.2f} GB, the timed "
          f"gradients {gradients_gb}); predicted {predicted.seconds:.2f} s, "
          f"{predicted.peak_gb:.2f} GB (traced); load {os.getloadavg()}")


if __name__ == "__main__":
    main()
