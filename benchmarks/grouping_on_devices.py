"""Does the fully commuting (FC) grouping's shot gain survive its extra gates on a noisy
device? Energy error at a fixed point, QWC vs FC, same shots, same backend, one process.

At the exact UCCSD optimum of the molecule (a noiseless run), each grouping estimates the
energy ``--repeats`` times with ``--shots`` per evaluation (variance allocation) on a
fake IBM device (its noise model, coupling map and basis gates, simulated by Aer). Prints
per grouping: the groups, the two-qubit gates of the measured circuits, the mean error
against the exact energy (the device's bias), the spread (shot noise) and the root mean
square error, which is what a user pays for.

    python benchmarks/grouping_on_devices.py --molecule h2 --backend fake_manila
    python benchmarks/grouping_on_devices.py --molecule h2 --backend fake_manila \
        --mitigation readout
    python benchmarks/grouping_on_devices.py --molecule h2 --backend aer
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import qvopt
from qvopt.ansatz import build_ansatz


def measure(problem, circuit, x, backend: str, grouping: str, shots: int, repeats: int,
            exact: float, options: dict) -> dict:
    started = time.perf_counter()
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=shots, allocation="variance",
                          grouping=grouping, backend=backend, seed=11,
                          backend_options=options or None)
    values = np.array([est.energy(x).value for _ in range(repeats)])
    costs = getattr(est.sampler, "circuit_costs", lambda: [])()
    errors = (values - exact) * 1000
    return {"grouping": grouping, "groups": est.grouped.n_groups,
            "two_qubit_gates": [c["two_qubit_gates"] for c in costs],
            "bias_mha": float(errors.mean()), "spread_mha": float(errors.std(ddof=1)),
            "rmse_mha": float(np.sqrt(np.mean(errors**2))),
            "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--molecule", default="h2")
    parser.add_argument("--backend", default="fake_manila")
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--mitigation", default=None, help="e.g. readout")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    options = {"mitigation": args.mitigation} if args.mitigation else {}
    problem = qvopt.load_problem(args.molecule)
    circuit = build_ansatz("uccsd", problem)
    optimum = qvopt.vqe(problem, shots=None, tol=1e-7, maxiter=200)
    x, exact = np.asarray(optimum.x), float(optimum.energy_exact)
    rows = [measure(problem, circuit, x, args.backend, g, args.shots, args.repeats, exact,
                    options) for g in ("sorted_insertion", "fc")]
    for row in rows:
        gates = row["two_qubit_gates"]
        print(f"{args.molecule} on {args.backend} ({args.mitigation or 'no mitigation'}), "
              f"{args.shots} shots: {row['grouping']:>16} "
              f"{row['groups']:>3} groups, two-qubit gates "
              f"{min(gates) if gates else '-'}–{max(gates) if gates else '-'}; bias "
              f"{row['bias_mha']:+.2f} mHa, spread {row['spread_mha']:.2f}, RMSE "
              f"{row['rmse_mha']:.2f} mHa ({row['seconds']:.0f} s)", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)},
                                         "load_average": os.getloadavg(), "rows": rows},
                                        indent=1))


if __name__ == "__main__":
    main()
