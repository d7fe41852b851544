"""Time per 1000-shot parameter-shift gradient and peak memory, 4 to 14 qubits.

    python benchmarks/scaling.py [--molecules h2,h4,lih_fc,lih,beh2,h2o] [--shots 1000]
                                 [--engine auto|sector|aer]

Each molecule runs in its own process, so "peak RSS" is that process's maximum resident
memory (Python, Aer and numpy together) while building the estimator and taking two
gradients (the second is timed). UCCSD (Givens form), shots per QWC group. "state floor"
is the time of the states alone (sector amplitudes or Aer statevectors of the shifted
points).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time
import numpy as np
import qvopt
from qvopt.estimation.parameter_shift import shift_rules, shifted_points
name, shots, engine = sys.argv[1], int(sys.argv[2]), sys.argv[3]
problem = qvopt.load_problem(name)
circuit = qvopt.ansatz.uccsd(problem)
est = qvopt.Estimator(problem.hamiltonian, circuit, shots=shots, seed=1, engine=engine)
theta = np.random.default_rng(0).normal(scale=0.05, size=circuit.num_parameters)
points, _ = shifted_points(theta, shift_rules(circuit))
est.gradient(theta)
start = time.perf_counter(); est.gradient(theta); gradient = time.perf_counter() - start
states = est.engine.sector_states if est.engine_name == "sector" else est.engine.statevectors
start = time.perf_counter(); states(points); floor = time.perf_counter() - start
print(json.dumps({"engine": est.engine_name, "qubits": problem.n_qubits,
                  "params": circuit.num_parameters,
                  "points": len(points), "groups": est.grouped.n_groups, "gradient": gradient,
                  "floor": floor,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", default="h2,h4,lih_fc,lih,beh2,h2o")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--engine", default="auto", choices=["auto", "sector", "aer"])
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().strip()}")
    print("| molecule | engine | qubits | params | points | groups | s / gradient | "
          "state floor (s) | gradient / floor | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.molecules.split(","):
        out = subprocess.run([sys.executable, "-c", WORKER, name, str(args.shots),
                              args.engine],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {name} | {r['engine']} | {r['qubits']} | {r['params']} | {r['points']} | "
              f"{r['groups']} | {r['gradient']:.3f} | {r['floor']:.3f} | "
              f"{r['gradient'] / r['floor']:.1f} | "
              f"{r['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
