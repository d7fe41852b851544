"""A floor under any honest sampled gradient on the sector engine: one pass over each
(group, point) state (issue 22's 20-qubit target).

Whatever the method, every measurement group must read the state of every parameter point
at least once. This times that pass on random states of a given sector size (CPU seconds
per column, batches of 64 columns): a sum (one read), squared magnitudes, and a gather by a
permutation (the least a basis rotation does), and multiplies by the pairs of a gradient.

    python benchmarks/state_pass_floor.py --states 63504 --points 1751 --groups 2363,141
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def per_column(operation, columns: np.ndarray, repeats: int = 20) -> float:
    start = time.process_time()
    for _ in range(repeats):
        operation(columns)
    return (time.process_time() - start) / repeats / columns.shape[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=63504, help="sector dimension")
    parser.add_argument("--points", type=int, default=1751, help="points of one gradient")
    parser.add_argument("--groups", default="2363,141", help="measurement groups to price")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    columns = rng.normal(size=(args.states, 64)) + 1j * rng.normal(size=(args.states, 64))
    permutation = rng.permutation(args.states)
    read = per_column(lambda a: a.sum(axis=0), columns)
    square = per_column(lambda a: a.real**2 + a.imag**2, columns)
    gather = per_column(lambda a: a[permutation], columns)
    with open("/proc/loadavg") as handle:
        print(f"load average: {handle.read().strip()}")
    print(f"per column of {args.states} amplitudes: read {read * 1e6:.0f} µs, squared "
          f"magnitudes {square * 1e6:.0f} µs, gather {gather * 1e6:.0f} µs")
    for groups in (int(g) for g in args.groups.split(",")):
        pairs = groups * args.points
        print(f"{groups} groups × {args.points} points = {pairs:,} pairs: one read "
              f"{pairs * read:.0f} s, gather + squares {pairs * (gather + square):.0f} s")


if __name__ == "__main__":
    main()
