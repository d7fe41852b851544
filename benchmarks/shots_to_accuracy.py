"""Shots to chemical accuracy (S_CA) of qvopt's optimizers, and of PennyLane's, on H2 and LiH.

S_CA: the cumulative shots at the first recorded iteration after which the noiseless error
of the current parameters, ``energy_exact − e_fci``, stays ≤ 1.6 mHa for the rest of the
run (None if never): :mod:`qvopt.accuracy`, applied to ``result.history`` (and to the
PennyLane runs' histories), the definition of ``VQEResult.shots_to_chemical_accuracy``.

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
from qvopt.accuracy import settle_index
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import mp2_initial_point
from qvopt.optimizers.registry import VQE_DEFAULTS, available, problem_options


def shots_to_chemical_accuracy(history: list[dict], e_fci: float) -> tuple[int | None,
                                                                       int | None]:
    """``(shots, iteration)`` of the first entry after which the noiseless error stays
    within 1.6 mHa (:func:`qvopt.accuracy.settle_index`); ``(None, None)`` if never."""
    index = settle_index([(h["energy_exact"] - e_fci) * 1e3 for h in history])
    if index is None:
        return None, None
    return int(history[index]["shots"]), int(history[index]["iteration"])


@dataclass(frozen=True)
class Method:
    """One qvopt configuration: optimizer (options on top of VQE_DEFAULTS) + run settings."""

    label: str
    optimizer: str
    options: dict = field(default_factory=dict)
    shots: int | str = 1000  # an int, or "K/group": K × n_groups (with an allocation)
    allocation: str | None = None
    initial_point: str = "hf"  # "hf" or "mp2"
    maxiter: int = 120


# `qvopt run` today: every optimizer with its VQE_DEFAULTS, 1000 shots per group, HF start.
SKIP_AT_DEFAULTS = {"nelder-mead", "powell"}  # gradient-free simplex/line searches: slow


def default_methods() -> list[Method]:
    return [Method(f"{name}@defaults", name) for name in available()
            if name not in SKIP_AT_DEFAULTS]


# The shot-frugal settings: each optimizer at its VQE_DEFAULTS (and problem options) with
# these run settings. `shots` is per evaluation (allocation="variance"), or per group.
def frugal_methods() -> list[Method]:
    # the energy at θ that the driver records every iteration: 4 shots per group
    pooled = {"shots": "4/group", "allocation": "variance", "initial_point": "mp2"}
    return [
        Method("icans (frugal)", "icans", **pooled),
        Method("icans1 (frugal)", "icans", {"variant": "icans1", "lr": 0.3}, **pooled),
        Method("gcans (frugal)", "gcans", **pooled),
        Method("rmsprop (frugal)", "rmsprop", shots=2000, allocation="variance",
               initial_point="mp2"),
        Method("adam (frugal)", "adam", shots=2000, allocation="variance",
               initial_point="mp2"),
        Method("momentum-qng (frugal)", "momentum-qng", shots=3000, allocation="variance",
               initial_point="mp2"),
        Method("rotosolve (frugal)", "rotosolve", shots="1000/group", allocation="variance",
               initial_point="mp2"),
        Method("nft (frugal)", "nft", shots="1000/group", allocation="variance",
               initial_point="mp2"),
    ]


def run_qvopt(method: Method, problem, circuit, seed: int) -> dict[str, Any]:
    x0 = mp2_initial_point(problem, circuit) if method.initial_point == "mp2" else None
    shots = method.shots
    if isinstance(shots, str):  # "K/group"
        groups = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000).grouped.n_groups
        shots = int(shots.split("/")[0]) * groups
    probe = qvopt.Estimator(problem.hamiltonian, circuit, shots=shots,
                            allocation=method.allocation)
    # what get_optimizer(..., vqe_defaults=True, estimator=...) does in the driver:
    # user options > VQE_DEFAULTS > problem options
    derived = problem_options(method.optimizer, probe)
    tuned = VQE_DEFAULTS.get(method.optimizer.replace("_", "-"), {})
    options = {**{k: v for k, v in derived.items() if k not in tuned}, **method.options}
    start = time.perf_counter()
    result = qvopt.vqe(problem, ansatz=circuit, optimizer=method.optimizer,
                       shots=shots, allocation=method.allocation, seed=seed,
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
def run_pennylane(kind: str, problem, seed: int, shots: int, steps: int,
                  x0: np.ndarray | None = None) -> dict[str, Any]:
    """``kind``: "adam", "rosalin", "icans1" or "rotosolve" on ``AllSinglesDoubles``.

    ``x0``: qvopt UCCSD parameters (doubles then singles) to start from, or None (HF).
    PennyLane's weights are the singles then the doubles, with the opposite sign (its
    excitations rotate ``|HF⟩ → cos(θ/2)|HF⟩ − sin(θ/2)|excited⟩``); checked against the
    exact energies of both. ``shots_pl`` in the result is the optimizer's own count
    (``total_shots_used``) for the shot-adaptive ones.
    """
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

    @qml.set_shots(shots)
    @qml.qnode(dev_shots, diff_method="parameter-shift")
    def cost(weights):
        circuit(weights)
        return qml.expval(hamiltonian)

    if kind in ("rosalin", "icans1"):  # they set the shots of every evaluation themselves
        opt = qml.ShotAdaptiveOptimizer(min_shots=10, term_sampling=(
            "weighted_random_sampling" if kind == "rosalin" else None))
    elif kind == "adam":
        opt = qml.AdamOptimizer(stepsize=0.05)
    else:
        opt = qml.RotosolveOptimizer()

    weights = pnp.zeros(len(singles) + len(doubles), requires_grad=True)
    if x0 is not None:
        weights = pnp.array(-np.concatenate([x0[len(doubles):], x0[:len(doubles)]]),
                            requires_grad=True)
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
            "shots_pl": getattr(opt, "total_shots_used", None),
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
    parser.add_argument("--pl-only", action="store_true", help="only the PennyLane rows")
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
        for method in ([] if args.pl_only else methods):
            runs = [run_qvopt(method, problem, circuit, seed) for seed in range(args.seeds)]
            rows.append(summarize(method.label, molecule, runs))
            print_row(rows[-1])
        if args.pennylane and molecule == "h2":
            mp2 = mp2_initial_point(problem, circuit)
            for start, x0 in (("hf", None), ("mp2", mp2)):
                for kind, shots in (("adam", 100), ("rosalin", 100), ("icans1", 100),
                                    ("rotosolve", 100)):
                    runs = [run_pennylane(kind, problem, seed, shots, args.pl_steps, x0)
                            for seed in range(args.pl_seeds)]
                    rows.append(summarize(f"pennylane-{kind}+{start}", molecule, runs))
                    print_row(rows[-1])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    return rows


if __name__ == "__main__":
    main()
