"""Shots to chemical accuracy (S_CA) of qvopt's optimizers, and of PennyLane's, on H2 and LiH.

S_CA: the cumulative shots at the first recorded iteration after which the noiseless error
of the current parameters, ``energy_exact − e_fci``, stays ≤ 1.6 mHa for the rest of the
run (None if never). Computed here from ``result.history``, the same definition as
``VQEResult.shots_to_chemical_accuracy``.

    python benchmarks/shots_to_accuracy.py                       # defaults + new, 5 seeds
    python benchmarks/shots_to_accuracy.py --molecules h2 --seeds 3 --methods icans gcans
    python benchmarks/shots_to_accuracy.py --molecules h2 --pennylane --pl-seeds 3
    python benchmarks/shots_to_accuracy.py --method-json '{"label": "x", "optimizer":
        "icans", "options": {"lr": 0.3}, "shots": 200, "allocation": "variance"}'

Every qvopt method runs through ``qvopt.vqe`` (the shot ledger of the library); the
optimizer's problem-derived options (:func:`qvopt.optimizers.registry.problem_options`:
Lipschitz bound, minimum shots) are applied the way the driver applies them. PennyLane
(0.45) runs ``qml.AllSinglesDoubles`` on the HF state on ``default.qubit`` with finite
shots; its shots are counted by ``qml.Tracker`` (``totals["shots"]``), and the noiseless
error of its parameters after every step by an analytic device.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import mp2_initial_point
from qvopt.optimizers.registry import VQE_DEFAULTS, available, problem_options

CHEMICAL_ACCURACY_HA = 1.6e-3


def shots_to_chemical_accuracy(history: list[dict], e_fci: float,
                               tol: float = CHEMICAL_ACCURACY_HA) -> tuple[int | None,
                                                                          int | None]:
    """``(shots, iteration)`` of the first entry after which ``energy_exact − e_fci ≤ tol``
    holds for every later entry; ``(None, None)`` if the last entry is outside."""
    first = None
    for index in range(len(history) - 1, -1, -1):
        if history[index]["energy_exact"] - e_fci <= tol:
            first = index
        else:
            break
    if first is None:
        return None, None
    return int(history[first]["shots"]), int(history[first]["iteration"])


@dataclass(frozen=True)
class Method:
    """One qvopt configuration: optimizer (options on top of VQE_DEFAULTS) + run settings."""

    label: str
    optimizer: str
    options: dict = field(default_factory=dict)
    shots: int = 1000
    allocation: str | None = None
    initial_point: str = "hf"  # "hf" or "mp2"
    maxiter: int = 120


# `qvopt run` today: every optimizer with its VQE_DEFAULTS, 1000 shots per group, HF start.
SKIP_AT_DEFAULTS = {"nelder-mead", "powell"}  # gradient-free simplex/line searches: slow


def default_methods() -> list[Method]:
    return [Method(f"{name}@defaults", name) for name in available()
            if name not in SKIP_AT_DEFAULTS]


# The shot-frugal settings (VQE_DEFAULTS of the optimizer + these run settings).
def frugal_methods() -> list[Method]:
    return [
        Method("icans+var+mp2", "icans", shots=200, allocation="variance",
               initial_point="mp2", maxiter=150),
        Method("gcans+var+mp2", "gcans", shots=200, allocation="variance",
               initial_point="mp2", maxiter=150),
        Method("rmsprop+var+mp2", "rmsprop", shots=2000, allocation="variance",
               initial_point="mp2"),
        Method("adam+var+mp2", "adam", shots=2000, allocation="variance",
               initial_point="mp2"),
        Method("momentum-qng+mp2", "momentum-qng", shots=100, initial_point="mp2"),
        Method("rotosolve+var+mp2", "rotosolve", shots=20000, allocation="variance",
               initial_point="mp2"),
        Method("nft+var+mp2", "nft", shots=20000, allocation="variance",
               initial_point="mp2"),
    ]


def run_qvopt(method: Method, problem, circuit, seed: int) -> dict[str, Any]:
    x0 = mp2_initial_point(problem, circuit) if method.initial_point == "mp2" else None
    probe = qvopt.Estimator(problem.hamiltonian, circuit, shots=method.shots,
                            allocation=method.allocation)
    derived = problem_options(method.optimizer, probe)
    tuned = VQE_DEFAULTS.get(method.optimizer, {})
    options = {**{k: v for k, v in derived.items() if k not in tuned}, **method.options}
    start = time.perf_counter()
    result = qvopt.vqe(problem, ansatz=circuit, optimizer=method.optimizer,
                       shots=method.shots, allocation=method.allocation, seed=seed,
                       maxiter=method.maxiter, initial_point=x0, optimizer_options=options)
    shots, iteration = shots_to_chemical_accuracy(result.history, problem.e_fci)
    return {"seed": seed, "s_ca": shots, "it_ca": iteration,
            "error_mha": float(result.error_mha), "shots_used": int(result.shots_used),
            "nit": int(result.nit), "time_s": time.perf_counter() - start}


def summarize(label: str, molecule: str, runs: list[dict]) -> dict[str, Any]:
    reached = [r["s_ca"] for r in runs if r["s_ca"] is not None]
    errors = [r["error_mha"] for r in runs]
    return {"molecule": molecule, "method": label, "seeds": len(runs),
            "reached": len(reached),
            "s_ca_median": statistics.median(reached) if len(reached) * 2 > len(runs)
            else None,
            "s_ca_min": min(reached) if reached else None,
            "s_ca_max": max(reached) if reached else None,
            "error_median_mha": statistics.median(errors),
            "error_max_mha": max(errors),
            "time_s": sum(r["time_s"] for r in runs), "runs": runs}


def fmt(value) -> str:
    return "—" if value is None else f"{value:.2g}"


def print_row(row: dict) -> None:
    print(f"{row['molecule']:7s} {row['method']:24s} {row['reached']}/{row['seeds']}  "
          f"S_CA median {fmt(row['s_ca_median']):>7s} [{fmt(row['s_ca_min'])}–"
          f"{fmt(row['s_ca_max'])}]  final error median {row['error_median_mha']:.2f} mHa "
          f"(max {row['error_max_mha']:.2f})  {row['time_s']:.0f} s", flush=True)


# ---------------------------------------------------------------- PennyLane side
def run_pennylane(kind: str, problem, seed: int, shots: int, steps: int) -> dict[str, Any]:
    """``kind``: "adam", "rosalin", "icans1" or "rotosolve" on H2 (AllSinglesDoubles)."""
    import pennylane as qml
    from pennylane import numpy as pnp

    from qvopt.ansatz.uccsd import excitation_lists

    n = problem.n_qubits
    coeffs = problem.hamiltonian.coeffs.real
    ops = [qml.pauli.string_to_pauli_word(label[::-1]) for label in
           problem.hamiltonian.paulis.to_labels()]  # qiskit labels are little-endian
    hamiltonian = qml.Hamiltonian(coeffs, ops)
    singles, doubles = excitation_lists(problem)
    hf = np.array(problem.hf_occupation)

    def circuit(weights):
        qml.AllSinglesDoubles(weights, wires=range(n), hf_state=hf, singles=singles,
                              doubles=doubles)

    dev_shots = qml.device("default.qubit", wires=n, seed=seed)
    dev_exact = qml.device("default.qubit", wires=n)

    @qml.qnode(dev_exact)
    def exact(weights):
        circuit(weights)
        return qml.expval(hamiltonian)

    if kind in ("rosalin", "icans1"):
        @qml.qnode(dev_shots, diff_method="parameter-shift")
        def cost(weights):
            circuit(weights)
            return qml.expval(hamiltonian)
        opt = qml.ShotAdaptiveOptimizer(min_shots=10, term_sampling=(
            "weighted_random_sampling" if kind == "rosalin" else None))
    else:
        @qml.set_shots(shots)
        @qml.qnode(dev_shots, diff_method="parameter-shift")
        def cost(weights):
            circuit(weights)
            return qml.expval(hamiltonian)
        opt = (qml.AdamOptimizer(stepsize=0.05) if kind == "adam"
               else qml.RotosolveOptimizer())

    weights = pnp.zeros(len(singles) + len(doubles), requires_grad=True)
    history = []
    start = time.perf_counter()
    with qml.Tracker(dev_shots) as tracker:
        for step in range(steps):
            if kind == "rotosolve":
                weights = opt.step(cost, weights, nums_frequency={"weights": {
                    (i,): 2 for i in range(len(weights))}})
            else:
                weights = opt.step(cost, weights)
            history.append({"iteration": step, "energy_exact": float(exact(weights)),
                            "shots": int(tracker.totals.get("shots", 0))})
    s_ca, it_ca = shots_to_chemical_accuracy(history, problem.e_fci)
    return {"seed": seed, "s_ca": s_ca, "it_ca": it_ca,
            "error_mha": (history[-1]["energy_exact"] - problem.e_fci) * 1e3,
            "shots_used": history[-1]["shots"], "nit": steps,
            "time_s": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--molecules", nargs="+", default=["h2", "lih_fc"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", nargs="*", default=None,
                        help="labels or optimizer names (default: all defaults + frugal)")
    parser.add_argument("--no-defaults", action="store_true",
                        help="skip the optimizers-at-defaults rows")
    parser.add_argument("--method-json", action="append", default=[],
                        help="extra Method as JSON (fields of Method)")
    parser.add_argument("--pennylane", action="store_true", help="PennyLane rows (H2 only)")
    parser.add_argument("--pl-seeds", type=int, default=3)
    parser.add_argument("--pl-steps", type=int, default=60)
    parser.add_argument("--json", default=None, help="write all rows to this file")
    args = parser.parse_args(argv)

    methods = ([] if args.no_defaults else default_methods()) + frugal_methods()
    methods += [Method(**json.loads(text)) for text in args.method_json]
    if args.methods:
        methods = [m for m in methods if m.label in args.methods
                   or m.optimizer in args.methods] + \
                  [Method(**json.loads(t)) for t in args.method_json]
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(f"# {platform.node()} load average {' '.join(load)}; seeds 0..{args.seeds - 1}")
    rows = []
    for molecule in args.molecules:
        problem = qvopt.load_problem(molecule)
        circuit = build_ansatz("uccsd", problem)
        for method in methods:
            runs = [run_qvopt(method, problem, circuit, seed) for seed in range(args.seeds)]
            rows.append(summarize(method.label, molecule, runs))
            print_row(rows[-1])
        if args.pennylane and molecule == "h2":
            for kind, shots in (("adam", 100), ("rosalin", None), ("icans1", None),
                                ("rotosolve", 100)):
                runs = [run_pennylane(kind, problem, seed, shots, args.pl_steps)
                        for seed in range(args.pl_seeds)]
                rows.append(summarize(f"pennylane-{kind}", molecule, runs))
                print_row(rows[-1])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    return rows


if __name__ == "__main__":
    main()
