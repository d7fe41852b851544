"""Shots to chemical accuracy (S_CA) of qvopt's optimizers, and of PennyLane's, on H2 and LiH.

S_CA: the cumulative shots at the first recorded iteration after which the noiseless error
of the current parameters, ``energy_exact − e_fci``, stays ≤ 1.6 mHa for the rest of the
run (None if never): :mod:`qvopt.accuracy`, applied to ``result.history`` (and to the
PennyLane runs' histories), the definition of ``VQEResult.shots_to_chemical_accuracy``.

    python benchmarks/shots_to_accuracy.py                       # defaults + new, 5 seeds
    python benchmarks/shots_to_accuracy.py --molecules h2 --seeds 3 --methods icans gcans
    python benchmarks/shots_to_accuracy.py --molecules h2 --pennylane --pl-seeds 3
    python benchmarks/shots_to_accuracy.py --molecules h2 --pl-only --pennylane \
        --pl-kinds adam rotosolve --pl-shots 10 100 1000 --pl-lr 0.05 0.2
    python benchmarks/shots_to_accuracy.py --molecules lih_fc --pl-only --pennylane \
        --pl-molecules lih_fc --pl-seeds 1 --pl-steps 3     # time one PennyLane step
    python benchmarks/shots_to_accuracy.py --method-json '{"label": "x", "optimizer":
        "icans", "options": {"lr": 0.3}, "shots": 200, "allocation": "variance"}'

Every qvopt method runs through ``qvopt.vqe`` (the shot ledger of the library); the
optimizer's problem-derived options (:func:`qvopt.optimizers.registry.problem_options`:
minimum shots and shot cap, gate frequencies) are applied by ``qvopt.vqe`` itself. PennyLane
(0.45) runs ``qml.AllSinglesDoubles`` on the HF state on ``default.qubit`` with finite
shots; its shots are counted by ``qml.Tracker`` (``totals["shots"]``: shots × the
executions of every Hamiltonian measurement, i.e. per qubit-wise-commuting group), and the
noiseless error of its parameters after every step by an analytic device. The PennyLane
settings are swept with ``--pl-shots`` (shots per group evaluation: Adam, Rotosolve),
``--pl-min-shots`` (Rosalin/iCANS1's ``min_shots``), ``--pl-lr`` (Adam's and the
shot-adaptive optimizer's stepsize) and ``--pl-frequencies`` (Rotosolve's spectrum); they
run on ``--pl-molecules`` (H2 by default). A PennyLane step that runs longer than
``--pl-step-limit`` seconds is stopped: that row is recorded as not finished
(``"finished": false``) with the time of the step.

The median S_CA of a row counts a seed that never reaches chemical accuracy as ∞ (the
median is None when half of the seeds or more never reach it).

A method's ``shots`` of the form ``"K/group"`` are K × the problem's qubit-wise-commuting
(sorted insertion) groups, whatever grouping the run measures (H2: 5 groups, lih_fc: 85):
the totals of round 2, so that rows stay comparable when the default grouping changes;
each row records the total it ran with (``shots``) and its ``grouping`` (``"auto"``: the
run's default, fully commuting groups with split coefficients on the statevector backend
with an allocation, QWC without one). ``--json`` holds the rows with the commit, the
command line, the package versions and the load averages before and after.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import qvopt
from qvopt.accuracy import settle_index
from qvopt.ansatz import build_ansatz
from qvopt.chem.mp2 import mp2_initial_point
from qvopt.optimizers.registry import available


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
    grouping: str = "auto"  # RunConfig's grouping ("auto": the run's default)


# Round 1's `qvopt run` settings for every optimizer: its VQE_DEFAULTS, 1000 shots per group,
# HF start (the "@defaults" rows; `qvopt run`'s own defaults are the last frugal row).
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
        Method("rosalin (frugal)", "rosalin", **pooled),
        # what `qvopt run MOLECULE` does (RunConfig's defaults)
        Method("qvopt run defaults", "icans", shots=1000, allocation="variance",
               initial_point="mp2"),
    ]


def run_qvopt(method: Method, problem, circuit, seed: int) -> dict[str, Any]:
    """One seed of ``method`` through ``qvopt.vqe`` (UCCSD by name: the driver applies
    the user options over VQE_DEFAULTS over the problem's options, as ``qvopt run`` does;
    the final energy is one evaluation, outside S_CA either way)."""
    shots = resolved_shots(method, problem, circuit)
    start = time.perf_counter()
    result = qvopt.vqe(problem, ansatz="uccsd", optimizer=method.optimizer,
                       shots=shots, allocation=method.allocation, seed=seed,
                       maxiter=method.maxiter, initial_point=method.initial_point,
                       grouping=method.grouping,
                       optimizer_options=dict(method.options), final_precision=None)
    s_ca, iteration = shots_to_chemical_accuracy(result.history, problem.e_fci)
    config = result.get("config") or {}
    return {"seed": seed, "s_ca": s_ca, "it_ca": iteration,
            "error_mha": float(result.error_mha), "shots_used": int(result.shots_used),
            "nit": int(result.nit), "shots": shots,
            "grouping": config.get("grouping", method.grouping),
            "time_s": time.perf_counter() - start}


def resolved_shots(method: Method, problem, circuit) -> int:
    """``method.shots``, with ``"K/group"`` made K × the QWC sorted-insertion groups."""
    if not isinstance(method.shots, str):
        return method.shots
    groups = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000,
                             grouping="sorted_insertion").grouped.n_groups
    return int(method.shots.split("/")[0]) * groups


def summarize(label: str, molecule: str, runs: list[dict]) -> dict[str, Any]:
    reached = [r["s_ca"] for r in runs if r["s_ca"] is not None]
    errors = [r["error_mha"] for r in runs]
    # a seed that never reaches chemical accuracy counts as ∞
    median = statistics.median([math.inf if r["s_ca"] is None else r["s_ca"] for r in runs])
    return {"molecule": molecule, "method": label, "seeds": len(runs),
            "reached": len(reached),
            "s_ca_median": None if math.isinf(median) else median,
            "s_ca_min": min(reached) if reached else None,
            "s_ca_max": max(reached) if reached else None,
            "error_median_mha": statistics.median(errors),
            "error_max_mha": max(errors),
            "time_s": sum(r["time_s"] for r in runs), "runs": runs}


def fmt(value) -> str:
    return "—" if value is None else f"{value:.2g}"


def print_row(row: dict) -> None:
    if not row.get("finished", True):
        print(f"{row['molecule']:7s} {row['method']:24s} could not finish: one step took "
              f"{row['step_time_s']:.3g} s (limit {row['step_limit_s']:.3g} s)", flush=True)
        return
    print(f"{row['molecule']:7s} {row['method']:24s} {row['reached']}/{row['seeds']}  "
          f"S_CA median {fmt(row['s_ca_median']):>7s} [{fmt(row['s_ca_min'])}–"
          f"{fmt(row['s_ca_max'])}]  final error median {row['error_median_mha']:.2f} mHa "
          f"(max {row['error_max_mha']:.2f})  {row['time_s']:.0f} s", flush=True)


# ---------------------------------------------------------------- PennyLane side
class StepTimeout(Exception):
    """A PennyLane step ran longer than its limit."""


def _alarm(signum, frame):
    raise StepTimeout


def run_pennylane(kind: str, problem, seed: int, shots: int, steps: int,
                  x0: np.ndarray | None = None, *, min_shots: int = 10,
                  lr: float | None = None, frequencies: int = 2,
                  step_limit: float | None = None) -> dict[str, Any]:
    """``kind``: "adam", "rosalin", "icans1" or "rotosolve" on ``AllSinglesDoubles``.

    ``shots``: per evaluation of each measured group (Adam, Rotosolve); ``min_shots``:
    Rosalin/iCANS1's; ``lr``: Adam's stepsize (default 0.05) or the shot-adaptive
    optimizer's (default PennyLane's 0.07; it must be < 2/Σ|c|); ``frequencies``:
    Rotosolve's ``nums_frequency`` per parameter (integer frequencies 1..R; H2's UCCSD
    energy is 2π-periodic in every parameter). ``step_limit``: seconds one step may take
    (SIGALRM); a step past it ends the run, returned with ``"finished": False``.

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
        opt = qml.ShotAdaptiveOptimizer(min_shots=min_shots, term_sampling=(
            "weighted_random_sampling" if kind == "rosalin" else None),
            **({} if lr is None else {"stepsize": lr}))
    elif kind == "adam":
        opt = qml.AdamOptimizer(stepsize=0.05 if lr is None else lr)
    else:
        opt = qml.RotosolveOptimizer()

    weights = pnp.zeros(len(singles) + len(doubles), requires_grad=True)
    if x0 is not None:
        weights = pnp.array(-np.concatenate([x0[len(doubles):], x0[:len(doubles)]]),
                            requires_grad=True)
    history = []
    step_times = []
    start = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm) if step_limit else None
    finished = True
    try:
        with qml.Tracker(dev_shots) as tracker:
            for step in range(steps):
                tick = time.perf_counter()
                if step_limit:
                    signal.setitimer(signal.ITIMER_REAL, step_limit)
                try:
                    if kind == "rotosolve":
                        weights = opt.step(cost, weights, nums_frequency={"weights": {
                            (i,): frequencies for i in range(len(weights))}})
                    else:
                        weights = opt.step(cost, weights)
                except StepTimeout:
                    step_times.append(time.perf_counter() - tick)
                    finished = False
                    break
                finally:
                    if step_limit:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                step_times.append(time.perf_counter() - tick)
                history.append({"iteration": step, "energy_exact": float(exact(weights)),
                                "shots": int(tracker.totals.get("shots", 0))})
    finally:
        if step_limit:
            signal.signal(signal.SIGALRM, previous)
    s_ca, it_ca = shots_to_chemical_accuracy(history, problem.e_fci)
    last = history[-1] if history else {"energy_exact": float(exact(weights)), "shots": 0}
    return {"seed": seed, "s_ca": s_ca, "it_ca": it_ca,
            "error_mha": (last["energy_exact"] - problem.e_fci) * 1e3,
            "shots_used": last["shots"], "nit": len(history),
            "shots_pl": getattr(opt, "total_shots_used", None),
            "finished": finished, "step_time_s": step_times,
            "time_s": time.perf_counter() - start}


def pennylane_label(kind: str, start: str, shots: int, min_shots: int,
                    lr: float | None, frequencies: int) -> str:
    """``pennylane-KIND+START`` with the settings that differ from the defaults."""
    extra = []
    if kind in ("adam", "rotosolve") and shots != 100:
        extra.append(f"s{shots}")
    if kind in ("rosalin", "icans1") and min_shots != 10:
        extra.append(f"min{min_shots}")
    if kind != "rotosolve" and lr is not None:
        extra.append(f"lr{lr:g}")
    if kind == "rotosolve" and frequencies != 2:
        extra.append(f"R{frequencies}")
    return f"pennylane-{kind}+{start}" + (f" ({','.join(extra)})" if extra else "")


def pennylane_rows(problem, circuit, molecule: str, args, on_row=None) -> list[dict]:
    """Every combination of ``--pl-kinds``, ``--pl-starts`` and the swept settings (each
    setting only where the kind uses it)."""
    mp2 = mp2_initial_point(problem, circuit)
    rows = []
    for start in args.pl_starts:
        x0 = mp2 if start == "mp2" else None
        for kind in args.pl_kinds:
            shot_list = args.pl_shots if kind in ("adam", "rotosolve") else [100]
            min_list = args.pl_min_shots if kind in ("rosalin", "icans1") else [10]
            lr_list = args.pl_lr if kind != "rotosolve" else [None]
            freq_list = args.pl_frequencies if kind == "rotosolve" else [2]
            for shots, min_shots, lr, frequencies in itertools.product(
                    shot_list, min_list, lr_list, freq_list):
                label = pennylane_label(kind, start, shots, min_shots, lr, frequencies)
                runs = []
                for seed in range(args.pl_seeds):
                    runs.append(run_pennylane(
                        kind, problem, seed, shots, args.pl_steps, x0, min_shots=min_shots,
                        lr=lr, frequencies=frequencies, step_limit=args.pl_step_limit))
                    if not runs[-1]["finished"]:
                        break
                row = summarize(label, molecule, runs)
                row["finished"] = all(r["finished"] for r in runs)
                row["step_time_s"] = max(t for r in runs for t in r["step_time_s"] or [0.0])
                row["step_limit_s"] = args.pl_step_limit
                rows.append(row)
                print_row(row)
                if on_row is not None:
                    on_row(rows)
    return rows


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
    parser.add_argument("--pennylane", action="store_true",
                        help="PennyLane rows (on --pl-molecules)")
    parser.add_argument("--pl-molecules", nargs="+", default=["h2"],
                        help="molecules (of --molecules) with PennyLane rows")
    parser.add_argument("--pl-kinds", nargs="+",
                        default=["adam", "rosalin", "icans1", "rotosolve"],
                        choices=["adam", "rosalin", "icans1", "rotosolve"])
    parser.add_argument("--pl-starts", nargs="+", default=["hf", "mp2"],
                        choices=["hf", "mp2"])
    parser.add_argument("--pl-shots", nargs="+", type=int, default=[100],
                        help="shots per group evaluation (Adam, Rotosolve)")
    parser.add_argument("--pl-min-shots", nargs="+", type=int, default=[10],
                        help="min_shots of Rosalin/iCANS1")
    parser.add_argument("--pl-lr", nargs="+", type=float, default=[None],
                        help="stepsize of Adam (0.05) and Rosalin/iCANS1 (0.07)")
    parser.add_argument("--pl-frequencies", nargs="+", type=int, default=[2],
                        help="Rotosolve's nums_frequency per parameter")
    parser.add_argument("--pl-step-limit", type=float, default=240.0,
                        help="seconds one PennyLane step may take (0: no limit)")
    parser.add_argument("--pl-seeds", type=int, default=3)
    parser.add_argument("--pl-steps", type=int, default=60)
    parser.add_argument("--pl-only", action="store_true", help="only the PennyLane rows")
    parser.add_argument("--json", default=None, help="write all rows to this file")
    args = parser.parse_args(argv)

    methods = ([] if args.no_defaults else default_methods()) + frugal_methods()
    if args.methods:  # the --method-json ones are always run
        methods = [m for m in methods if m.label in args.methods
                   or m.optimizer in args.methods]
    methods += [Method(**json.loads(text)) for text in args.method_json]
    load = os.getloadavg()
    print(f"# {platform.node()} load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"seeds 0..{args.seeds - 1}"
          + (f" (PennyLane 0..{args.pl_seeds - 1})" if args.pennylane else ""), flush=True)
    meta = {"argv": sys.argv[1:] if argv is None else argv, "commit": _commit(),
            "versions": _versions(args.pennylane), "load_average_start": load}
    rows = []
    for molecule in args.molecules:
        problem = qvopt.load_problem(molecule)
        circuit = build_ansatz("uccsd", problem)
        for method in ([] if args.pl_only else methods):
            runs = [run_qvopt(method, problem, circuit, seed) for seed in range(args.seeds)]
            rows.append(summarize(method.label, molecule, runs))
            rows[-1]["shots"] = runs[0]["shots"]
            rows[-1]["grouping"] = runs[0]["grouping"]
            print_row(rows[-1])
            save(rows, args.json, meta)
        if args.pennylane and molecule in args.pl_molecules:
            rows += pennylane_rows(
                problem, circuit, molecule, args,
                on_row=lambda new, done=rows: save(done + new, args.json, meta))
    save(rows, args.json, meta)
    return rows


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__)),
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions(pennylane: bool) -> dict[str, str]:
    import qiskit

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "qiskit": qiskit.__version__}
    if pennylane:
        import pennylane as qml

        versions["pennylane"] = qml.__version__
    return versions


def save(rows: list[dict], path: str | None, meta: dict | None = None) -> None:
    """Write the rows so far to ``path`` with ``meta`` (after every row: a long run stopped
    early keeps what it finished)."""
    if path:
        with open(path, "w") as handle:
            json.dump({**(meta or {}), "load_average_end": os.getloadavg(), "rows": rows},
                      handle, indent=1)


if __name__ == "__main__":
    main()
