"""Does the fully commuting (FC) grouping's shot gain survive its extra gates on a noisy
device? Energy error at a fixed point, QWC vs FC, same shots, same backend, one process.

At the exact UCCSD optimum of the molecule (a noiseless run), each grouping estimates the
energy ``--repeats`` times with ``--shots`` per evaluation (variance allocation) on a
fake IBM device (its noise model, coupling map and basis gates, simulated by Aer). Prints
per grouping (``--groupings``: QWC ``sorted_insertion``, ``fc``, ``fc_split``): the
groups, the two-qubit gates of the measured circuits, the mean error against the exact
energy (the device's bias), the spread (shot noise) and the root mean square error, which
is what a user pays for. Every grouping uses the same ``--seed``, the same shots and
the same transpiler seed.

A noisy 10-qubit simulation is slow: ``--time-limit`` caps each grouping's repeats (the
row records how many ran; at least 2), and ``--json`` is rewritten after every grouping,
so a run stopped early keeps what it finished.

``--density-matrix`` simulates the same noise model (same transpiled circuits) as density
matrices instead of Aer's default per-shot trajectories: the outcome distribution is the
same, but it is computed once per circuit, so an evaluation costs the same whatever its
shots. One evaluation with ``--bias-shots`` shots then gives the bias to a fraction of a
mHa, and the spread at ``--shots`` follows from its standard error (× √(bias_shots /
shots)): RMSE = √(bias² + spread²). A 10-qubit circuit takes ~10 s this way (lih_fc).

    python benchmarks/grouping_on_devices.py --molecule h2 --backend fake_manila
    python benchmarks/grouping_on_devices.py --molecule h2 --backend fake_manila \
        --mitigation readout
    python benchmarks/grouping_on_devices.py --molecule h2 --backend aer
    python benchmarks/grouping_on_devices.py --molecule lih_fc --backend fake_kolkata \
        --shots 4000 --repeats 20 --time-limit 400 --json kolkata_lih_fc.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

import qvopt
from qvopt.ansatz import build_ansatz


def measure(problem, circuit, x, backend: str, grouping: str, shots: int, repeats: int,
            exact: float, options: dict, seed: int = 11,
            time_limit: float | None = None) -> dict:
    """``repeats`` energies at ``x`` (fewer, at least 2, once ``time_limit`` seconds have
    passed since the estimator was built); bias, spread and RMSE in mHa against
    ``exact``."""
    started = time.perf_counter()
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=shots, allocation="variance",
                          grouping=grouping, backend=backend, seed=seed,
                          backend_options=options or None)
    setup = time.perf_counter() - started
    values, stderrs, spent = [], [], []
    for _ in range(repeats):
        estimate = est.energy(x)
        values.append(estimate.value)
        stderrs.append(estimate.stderr)
        spent.append(estimate.shots)
        if (time_limit is not None and len(values) >= 2
                and time.perf_counter() - started > time_limit):
            break
    costs = getattr(est.sampler, "circuit_costs", lambda: [])()
    errors = (np.array(values) - exact) * 1000
    return {"grouping": grouping, "groups": est.grouped.n_groups,
            "two_qubit_gates": [c["two_qubit_gates"] for c in costs],
            "depths": [c["depth"] for c in costs],
            "repeats": len(values), "shots_per_evaluation": [int(s) for s in spent],
            "energies": [float(v) for v in values],
            "bias_mha": float(errors.mean()), "spread_mha": float(errors.std(ddof=1)),
            "bias_stderr_mha": float(errors.std(ddof=1) / np.sqrt(len(errors))),
            "reported_stderr_mha": float(np.mean(stderrs) * 1000),
            "rmse_mha": float(np.sqrt(np.mean(errors**2))),
            "setup_seconds": setup, "seconds": time.perf_counter() - started}


class DensityMatrixDevice:
    """A fake device's noise model and target on Aer's ``density_matrix`` method, as a
    SamplerV2-like object (``target_backend`` is what qvopt transpiles for); every job gets
    a fresh seed from ``seed``."""

    def __init__(self, name: str, seed: int):
        from qiskit_aer import AerSimulator

        from qvopt.estimation.backends import fake_backend

        self.name = f"{name} (density matrix)"
        self.target_backend = AerSimulator.from_backend(fake_backend(name),
                                                        method="density_matrix")
        self._rng = np.random.default_rng(seed)

    def run(self, pubs, shots: int):
        from qiskit_aer.primitives import SamplerV2

        sampler = SamplerV2.from_backend(self.target_backend,
                                         seed=int(self._rng.integers(2**31)))
        return sampler.run(pubs, shots=shots)


def measure_bias(problem, circuit, x, backend: str, grouping: str, shots: int,
                 bias_shots: int, exact: float, options: dict, seed: int = 11) -> dict:
    """One evaluation with ``bias_shots`` on density matrices: bias ± its standard error,
    and the spread and RMSE an evaluation of ``shots`` would have."""
    started = time.perf_counter()
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=bias_shots,
                          allocation="variance", grouping=grouping,
                          backend=DensityMatrixDevice(backend, seed), seed=seed,
                          backend_options=options or None)
    setup = time.perf_counter() - started
    estimate = est.energy(x)
    costs = est.sampler.circuit_costs()
    bias = (estimate.value - exact) * 1000
    spread = estimate.stderr * 1000 * np.sqrt(estimate.shots / shots)
    return {"grouping": grouping, "groups": est.grouped.n_groups, "method": "density_matrix",
            "two_qubit_gates": [c["two_qubit_gates"] for c in costs],
            "depths": [c["depth"] for c in costs], "repeats": 1,
            "bias_shots": int(estimate.shots), "energies": [float(estimate.value)],
            "bias_mha": float(bias), "bias_stderr_mha": float(estimate.stderr * 1000),
            "spread_mha": float(spread), "reported_stderr_mha": float(spread),
            "rmse_mha": float(np.sqrt(bias**2 + spread**2)),
            "setup_seconds": setup, "seconds": time.perf_counter() - started}


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--molecule", default="h2")
    parser.add_argument("--backend", default="fake_manila")
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--mitigation", default=None, help="e.g. readout")
    parser.add_argument("--groupings", default="sorted_insertion,fc,fc_split",
                        help="comma-separated groupings, measured in this order")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per grouping after which no new repeat starts")
    parser.add_argument("--density-matrix", action="store_true",
                        help="one --bias-shots evaluation on density matrices per grouping")
    parser.add_argument("--bias-shots", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    options = {"mitigation": args.mitigation} if args.mitigation else {}
    problem = qvopt.load_problem(args.molecule)
    circuit = build_ansatz("uccsd", problem)
    optimum = qvopt.vqe(problem, shots=None, tol=1e-7, maxiter=200)
    x, exact = np.asarray(optimum.x), float(optimum.energy_exact)
    load_start = os.getloadavg()
    rows = []
    for grouping in args.groupings.split(","):
        if args.density_matrix:
            row = measure_bias(problem, circuit, x, args.backend, grouping, args.shots,
                               args.bias_shots, exact, options, seed=args.seed)
        else:
            row = measure(problem, circuit, x, args.backend, grouping, args.shots,
                          args.repeats, exact, options, seed=args.seed,
                          time_limit=args.time_limit)
        rows.append(row)
        gates = row["two_qubit_gates"]
        how = (f"{args.shots} shots (bias from {row['bias_shots']} on density matrices)"
               if args.density_matrix else f"{args.shots} shots × {row['repeats']}")
        print(f"{args.molecule} on {args.backend} ({args.mitigation or 'no mitigation'}), "
              f"{how}: {row['grouping']:>16} "
              f"{row['groups']:>3} groups, two-qubit gates "
              f"{min(gates) if gates else '-'}–{max(gates) if gates else '-'}"
              f" (mean {np.mean(gates) if gates else 0:.0f}); bias "
              f"{row['bias_mha']:+.2f} ± {row['bias_stderr_mha']:.2f} mHa, spread "
              f"{row['spread_mha']:.2f} (reported {row['reported_stderr_mha']:.2f}), RMSE "
              f"{row['rmse_mha']:.2f} mHa ({row['seconds']:.0f} s)", flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps({
                "settings": vars(args) | {"json": str(args.json)}, "commit": _commit(),
                "exact_energy": exact, "e_fci": float(problem.e_fci),
                "load_average_start": load_start, "load_average": os.getloadavg(),
                "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
