"""Replay the guard's stop test, and variants of it, on recorded trajectories (issue 18).

A run with ``tol=None`` follows the same trajectory as the default run up to the default's
stop (the stop test only ends a run; it never changes a step), so one long run per seed
gives, for any stop rule, where that rule would have stopped and what the run would have
spent: the shots charged up to that iteration plus the run's final energy, against its
S_CA, and the exact error there against UCCSD's own optimum (``early``: more than ``tol``
above it).

Each accepted reply's gradient, its variance and the diagonal curvature are recorded by a
wrapper around :meth:`qvopt.guard.Guarded.tell` (this script only: the library is not
changed). Rules: ``window W`` is the guard's test (:func:`qvopt.guard.quadratic_gains`
averaged over the last ``W`` accepted gradients, 95% bound ≤ tol); ``decay r`` weights
the iterates of the window by ``r^age`` instead of equally.

    cd benchmarks && python stop_rule_replay.py --seeds 20 --maxiter 60 \
        --molecules lih_fc,molecules/lih_fc_stretched.toml,h4,molecules/h4_long.toml
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

import numpy as np

import qvopt
from qvopt import guard
from qvopt.accuracy import CHEMICAL_ACCURACY_MHA
from qvopt.run_defaults import DEFAULT_TOL

RULES: dict[str, dict[str, float]] = {
    "window 5 (default)": {"window": 5, "decay": 1.0},
    "window 4": {"window": 4, "decay": 1.0},
    "window 3": {"window": 3, "decay": 1.0},
    "window 5, decay 0.7": {"window": 5, "decay": 0.7},
    "window 5, decay 0.5": {"window": 5, "decay": 0.5},
    "window 8, decay 0.7": {"window": 8, "decay": 0.7},
}


def record_run(molecule: str, seed: int, maxiter: int) -> dict[str, Any]:
    """One ``tol=None`` run with every tell's reply (accepted or not) recorded."""
    replies: list[dict[str, Any]] = []
    original = guard.Guarded.tell

    def tell(self, state, reply):
        new = original(self, state, reply)
        accepted = new.n_gradients > state.n_gradients
        replies.append({"accepted": bool(accepted)} if not accepted else {
            "accepted": True, "gradient": np.asarray(reply.gradient.value, float).tolist(),
            "variance": (np.asarray(reply.gradient.stderr, float) ** 2).tolist(),
            "curvature": np.asarray(reply.curvature.value, float).tolist()})
        return new

    guard.Guarded.tell = tell  # type: ignore[method-assign]
    try:
        result = qvopt.vqe(molecule, seed=seed, tol=None, maxiter=maxiter)
    finally:
        guard.Guarded.tell = original  # type: ignore[method-assign]
    return {"seed": seed, "replies": replies, "e_fci": result.e_fci,
            "final_shots": result.final_shots if hasattr(result, "final_shots") else None,
            "history": [{"iteration": h["iteration"], "shots": h["shots"],
                         "energy_exact": h["energy_exact"]} for h in result.history]}


def bound(gradients, variances, curvatures, decay: float) -> float | None:
    """The 95% bound on the window's weighted mean of ``Σ_i (ĝ_i² − s_i²)/(2h_i)``."""
    gains = guard.quadratic_gains(np.asarray(gradients), np.asarray(variances),
                                  np.mean(curvatures, axis=0))
    if gains is None:
        return None
    estimate, variance = gains
    k = len(gradients)
    weights = decay ** np.arange(k - 1, -1, -1, dtype=float)
    weights /= weights.sum()
    mean = max(float(weights @ estimate.sum(axis=1)), 0.0)
    return mean + guard.CONFIDENCE_Z * float(np.sqrt(weights**2 @ variance.sum(axis=1)))


def stop_iteration(run: dict[str, Any], window: int, decay: float, tol: float) -> int | None:
    """The iteration after which the rule stops the run (None: not within the record)."""
    accepted: list[dict[str, Any]] = []
    for iteration, reply in enumerate(run["replies"]):
        if not reply["accepted"]:
            continue
        accepted.append(reply)
        if len(accepted) < window:
            continue
        last = accepted[-window:]
        value = bound([r["gradient"] for r in last], [r["variance"] for r in last],
                      [r["curvature"] for r in last], decay)
        if value is not None and value <= tol:
            return iteration
    return None


def outcome(run: dict[str, Any], stop: int | None, optimum: float, tol: float,
            final_shots: int) -> dict[str, Any]:
    history = run["history"]
    if stop is None:
        return {"stopped": False}
    after = history[min(stop + 1, len(history) - 1)]
    error = (after["energy_exact"] - run["e_fci"]) * 1e3
    reached = next((h["shots"] for h in history
                    if (h["energy_exact"] - run["e_fci"]) * 1e3 <= CHEMICAL_ACCURACY_MHA), None)
    whole = history[stop]["shots"] + final_shots
    return {"stopped": True, "iteration": stop, "error_mha": error,
            "early": bool(after["energy_exact"] - optimum > tol),
            "ratio": None if reached is None else whole / reached}


def summarize(runs, optimum, tol, final_shots) -> dict[str, Any]:
    rows = {}
    for name, rule in RULES.items():
        outs = [outcome(r, stop_iteration(r, int(rule["window"]), rule["decay"], tol),
                        optimum, tol, final_shots) for r in runs]
        done = [o for o in outs if o["stopped"]]
        ratios = [o["ratio"] for o in done if o["ratio"] is not None]
        rows[name] = {
            "stopped": f"{len(done)}/{len(outs)}",
            "within_ca": sum(o["error_mha"] <= CHEMICAL_ACCURACY_MHA for o in done),
            "early": sum(o["early"] for o in done),
            "median_ratio": statistics.median(ratios) if ratios else None,
            "ratio_range": [min(ratios), max(ratios)] if ratios else None,
            "median_iteration": statistics.median(o["iteration"] for o in done) if done else None,
            "median_error_mha": statistics.median(o["error_mha"] for o in done) if done else None,
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", default="lih_fc")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--maxiter", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from defaults_robustness import exact_optimum

    report: dict[str, Any] = {"load_average_before": os.getloadavg(), "tol": DEFAULT_TOL,
                              "maxiter": args.maxiter, "molecules": {}}
    for molecule in args.molecules.split(","):
        optimum, optimum_mha = exact_optimum(molecule, {})
        runs = [record_run(molecule, seed, args.maxiter) for seed in range(args.seeds)]
        final_shots = statistics.median(r["final_shots"] or 0 for r in runs)
        rows = summarize(runs, optimum, DEFAULT_TOL, int(final_shots))
        report["molecules"][molecule] = {"uccsd_optimum_mha": optimum_mha,
                                         "final_shots": final_shots, "rules": rows}
        print(f"## {molecule} (UCCSD optimum {optimum_mha:.2f} mHa, final energy "
              f"{final_shots:.3g} shots, {args.seeds} seeds)", flush=True)
        for name, row in rows.items():
            print(f"  {name:22s} {json.dumps(row)}", flush=True)
    report["load_average_after"] = os.getloadavg()
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
