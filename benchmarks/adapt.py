"""ADAPT-VQE against UCCSD: operators, errors and shots to chemical accuracy.

    python benchmarks/adapt.py exact --molecules lih_fc,h4,lih
    python benchmarks/adapt.py shots --seeds 5 --shots 20000
    python benchmarks/adapt.py pennylane --molecules h2,lih_fc

* ``exact``: noiseless ADAPT (singles+doubles pool, L-BFGS re-optimization, gradient
  threshold 1e-3): operators when chemical accuracy is first reached for good, operators
  at the end, final error, vs the UCCSD parameter count.
* ``shots``: lih_fc, ADAPT+adam vs UCCSD+adam, both with ``allocation="variance"`` and the
  same total shots per energy evaluation; median (over seeds) cumulative shots at which
  the noiseless error enters the 1.6 mHa band for good (ADAPT: pool screening included).
* ``pennylane``: PennyLane's ``qml.AdaptiveOptimizer`` in exact mode (default.qubit, same
  Givens gates and pool order) beside qvopt's exact ADAPT: the operators each picks.

Prints Markdown tables and ``/proc/loadavg`` before and after each part.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import qvopt
from qvopt.adapt import adapt_vqe
from qvopt.ansatz.pool import build_pool


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return handle.read().strip()
    except OSError:
        return "n/a"


def first_step_in_band(steps: list[dict]) -> int | None:
    """Number of operators after which every later step stays within 1.6 mHa."""
    inside = [abs(s["error_mha"]) <= qvopt.CHEMICAL_ACCURACY_MHA for s in steps]
    if not inside or not inside[-1]:
        return None
    k = len(inside)
    while k > 0 and inside[k - 1]:
        k -= 1
    return k + 1


def exact(molecules: list[str]) -> None:
    print(f"loadavg before: {loadavg()}")
    print("| molecule | qubits | UCCSD params | pool | ADAPT ops at CA | ADAPT ops (end) | "
          "final error (mHa) | status | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in molecules:
        problem = qvopt.load_problem(name)
        uccsd_params = qvopt.ansatz.uccsd(problem).num_parameters
        start = time.perf_counter()
        result = adapt_vqe(problem, optimizer="lbfgs", shots=None, maxiter_per_step=200,
                           gradient_threshold=1e-3)
        elapsed = time.perf_counter() - start
        print(f"| {name} | {problem.n_qubits} | {uccsd_params} | {len(result.pool)} | "
              f"{first_step_in_band(result.steps)} | {len(result.operators)} | "
              f"{result.error_mha:.4f} | {result.status.name} | {elapsed:.1f} |", flush=True)
        print(f"<!-- {name} sequence: {' '.join(result.operators)} -->", flush=True)
    print(f"loadavg after: {loadavg()}")


def shots(seeds: int, total: int, maxiter_uccsd: int, maxiter_step: int,
          max_operators: int, adapt_options: dict, screening_shots: int | None) -> None:
    problem = qvopt.load_problem("lih_fc")
    print(f"loadavg before: {loadavg()}")
    print(f"lih_fc, adam (VQE defaults: lr 0.05, 2%/step decay), allocation=variance, "
          f"{total} shots per energy evaluation; UCCSD maxiter {maxiter_uccsd}; ADAPT "
          f"maxiter_per_step {maxiter_step}, max_operators {max_operators}, adam options "
          f"{adapt_options or 'VQE defaults'}, screening shots {screening_shots or total}")
    print("| seed | method | shots to CA | shots used | final error (mHa) | operators / "
          "params | screening share | time (s) |")
    print("|---|---|---|---|---|---|---|---|")
    rows: dict[str, list] = {"uccsd+adam": [], "adapt+adam": []}
    for seed in range(seeds):
        start = time.perf_counter()
        u = qvopt.vqe(problem, "uccsd", "adam", shots=total, allocation="variance",
                      seed=seed, maxiter=maxiter_uccsd)
        t_u = time.perf_counter() - start
        start = time.perf_counter()
        a = adapt_vqe(problem, optimizer="adam", shots=total, allocation="variance",
                      seed=seed, maxiter_per_step=maxiter_step, max_operators=max_operators,
                      optimizer_options=adapt_options, screening_shots=screening_shots)
        t_a = time.perf_counter() - start
        for label, r, t, n in (("uccsd+adam", u, t_u, u.n_params),
                               ("adapt+adam", a, t_a, len(a.get("operators", [])))):
            rows[label].append(r.shots_to_chemical_accuracy)
            share = (f"{r.screening_shots / r.shots_used:.2f}" if "screening_shots" in r
                     else "—")
            print(f"| {seed} | {label} | {_fmt(r.shots_to_chemical_accuracy)} | "
                  f"{r.shots_used:.3g} | {r.error_mha:.3f} | {n} | {share} | {t:.1f} |",
                  flush=True)
    print()
    print("| method | median shots to CA | reached |")
    print("|---|---|---|")
    medians = {}
    for label, values in rows.items():
        # a run that never reaches CA counts as infinitely expensive in the median
        filled = [np.inf if v is None else v for v in values]
        medians[label] = float(np.median(filled))
        print(f"| {label} | {_fmt(medians[label])} | "
              f"{sum(v is not None for v in values)}/{len(values)} |")
    print(f"\nUCCSD / ADAPT median ratio: {medians['uccsd+adam'] / medians['adapt+adam']:.2f}")
    print(f"loadavg after: {loadavg()}")


def _fmt(value) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.3g}"


# ---------------------------------------------------------------- PennyLane side by side
def pennylane_adaptive(problem, max_steps: int, threshold: float, param_steps: int = 10
                       ) -> list[tuple[str, float]]:
    """(label, |g|) picked by ``qml.AdaptiveOptimizer`` on the same pool and Hamiltonian."""
    import pennylane as qml

    hamiltonian = _pennylane_hamiltonian(problem.hamiltonian)
    pool_ops = build_pool(problem)
    pool = [(qml.SingleExcitation if op.kind == "single" else qml.DoubleExcitation)(
        0.0, wires=list(op.wires)) for op in pool_ops]
    labels = {(type(g).__name__, tuple(g.wires)): op.label for g, op in zip(pool, pool_ops)}
    device = qml.device("default.qubit", wires=problem.n_qubits)

    @qml.qnode(device)
    def circuit():
        qml.BasisState(np.array(problem.hf_occupation), wires=range(problem.n_qubits))
        return qml.expval(hamiltonian)

    optimizer = qml.AdaptiveOptimizer(param_steps=param_steps, stepsize=0.5)
    picks = []
    for _ in range(max_steps):
        circuit, _, gradient = optimizer.step_and_cost(circuit, pool)
        if gradient < threshold:
            break
        last = qml.workflow.construct_tape(circuit)().operations[-1]
        picks.append((labels[(type(last).__name__, tuple(last.wires))], float(gradient)))
    return picks


def _pennylane_hamiltonian(op):
    """A qiskit SparsePauliOp (qubit i = label character −1−i) as a PennyLane operator."""
    import pennylane as qml

    sentence = qml.pauli.PauliSentence()
    for label, coeff in op.to_list():
        word = qml.pauli.PauliWord({i: c for i, c in enumerate(reversed(label)) if c != "I"})
        sentence[word] = sentence.get(word, 0.0) + float(np.real(coeff))
    return sentence.operation(wire_order=range(op.num_qubits))


def pennylane(molecules: list[str], max_steps: int) -> None:
    print(f"loadavg before: {loadavg()}")
    print("| molecule | step | qvopt ADAPT (|g|) | PennyLane AdaptiveOptimizer (|g|) |")
    print("|---|---|---|---|")
    for name in molecules:
        problem = qvopt.load_problem(name)
        ours = adapt_vqe(problem, optimizer="lbfgs", shots=None, maxiter_per_step=200,
                         gradient_threshold=1e-5, max_operators=max_steps)
        start = time.perf_counter()
        theirs = pennylane_adaptive(problem, max_steps, 1e-5)
        elapsed = time.perf_counter() - start
        for k in range(max(len(ours.steps), len(theirs))):
            mine = (f"{ours.steps[k]['operator']} ({abs(ours.steps[k]['gradient']):.5f})"
                    if k < len(ours.steps) else "—")
            pl = f"{theirs[k][0]} ({theirs[k][1]:.5f})" if k < len(theirs) else "—"
            print(f"| {name} | {k + 1} | {mine} | {pl} |", flush=True)
        print(f"<!-- {name}: PennyLane {elapsed:.1f} s -->")
    print(f"loadavg after: {loadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    p_exact = sub.add_parser("exact")
    p_exact.add_argument("--molecules", default="lih_fc,h4,lih")
    p_shots = sub.add_parser("shots")
    p_shots.add_argument("--seeds", type=int, default=5)
    p_shots.add_argument("--shots", type=int, default=20000)
    p_shots.add_argument("--maxiter-uccsd", type=int, default=120)
    p_shots.add_argument("--maxiter-step", type=int, default=30)
    p_shots.add_argument("--max-operators", type=int, default=8)
    p_shots.add_argument("--adapt-options", type=json.loads, default={},
                         help='adam options for ADAPT as JSON, e.g. \'{"lr": 0.02}\'')
    p_shots.add_argument("--screening-shots", type=int, default=None)
    p_pl = sub.add_parser("pennylane")
    p_pl.add_argument("--molecules", default="h2,lih_fc")
    p_pl.add_argument("--max-steps", type=int, default=8)
    args = parser.parse_args()
    if args.part == "exact":
        exact(args.molecules.split(","))
    elif args.part == "shots":
        shots(args.seeds, args.shots, args.maxiter_uccsd, args.maxiter_step, args.max_operators,
              args.adapt_options, args.screening_shots)
    else:
        pennylane(args.molecules.split(","), args.max_steps)


if __name__ == "__main__":
    main()
