"""Do `qvopt run NAME` defaults hold beyond the molecules they were tuned on? (issue 18)

For every molecule (a shipped name or a molecule file) and seed, runs ``qvopt.vqe(molecule,
seed=seed, **settings)`` — the library's defaults unless ``--settings`` overrides some — and
records the final noiseless error, whether the run ended above its starting energy, why it
stopped, its iterations, whole-run shots (final energy included), shots to chemical
accuracy (S_CA) and wall time. A summary row per molecule gives the medians with their
ranges; ``--exact`` adds UCCSD's own exact optimum (a noiseless run with a tiny tol), which
says whether the ansatz can reach chemical accuracy at all, and how each stop compares with
it: ``early`` (final point more than ``tol`` above the optimum) and ``late_by`` (iterations
run after the first iterate within ``tol`` of it).

Tuning set (round 2 chose its defaults there): h2, lih_fc, lih. Held out (never tuned on):
h4, beh2, h2o and the files in benchmarks/molecules/ (stretched H2, LiH, H4; HF; NH3).

    python benchmarks/defaults_robustness.py --molecules h2 lih_fc lih --seeds 5
    python benchmarks/defaults_robustness.py --molecules benchmarks/molecules/h4_stretched.toml \
        --seeds 5 --exact --json out.json
    python benchmarks/defaults_robustness.py --molecules h2 --settings '{"optimizer": "adam"}'
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import qvopt
from qvopt.accuracy import CHEMICAL_ACCURACY_MHA

HERE = Path(__file__).parent
#: The tuning set (round 2 chose its defaults there) and the held-out files that the
#: benchmarks comparing settings run beside it.
TUNING = ["h2", "lih_fc", "lih"]
HELD_OUT = [str(HERE / "molecules" / f"{name}.toml")
            for name in ("h2_stretched", "lih_fc_stretched", "hf_fc")]


def seed_study_arguments(description: str) -> argparse.Namespace:
    """The command line of a benchmark that runs seeds on molecules: ``--seeds`` (5),
    ``--molecules`` (comma-separated; default :data:`TUNING` and :data:`HELD_OUT`) and
    ``--json`` (where to write the results)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--molecules", default=",".join(TUNING + HELD_OUT))
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def stop_timing(result, optimum: float | None) -> dict[str, Any]:
    """How the stop compares with the run's own optimum (UCCSD's exact one): ``early`` when
    the final point is more than ``tol`` above it; ``late_by``: iterations run after the
    first iterate within ``tol`` of it (None if none was)."""
    tol = result.config.get("tol")
    if optimum is None or tol is None:
        return {"early": None, "late_by": None}
    gaps = [h["energy_exact"] - optimum for h in result.history]
    first = next((h["iteration"] for h, gap in zip(result.history, gaps, strict=True)
                  if gap <= tol), None)
    return {"early": bool(gaps[-1] > tol),
            "late_by": None if first is None else result.nit - first}


def one_run(molecule: str, seed: int, settings: dict[str, Any],
            optimum: float | None = None) -> dict[str, Any]:
    started, cpu_started = time.perf_counter(), time.process_time()
    result = qvopt.vqe(molecule, seed=seed, **settings)
    start = result.history[0]["energy_exact"]
    s_ca = result.shots_to_chemical_accuracy
    return {**stop_timing(result, optimum),
        "molecule": molecule, "seed": seed, "error_mha": result.error_mha,
        "start_error_mha": (start - result.e_fci) * 1e3,
        "above_start": bool(result.energy_exact > start),
        "status": int(result.status), "message": result.message, "nit": result.nit,
        "shots_used": result.shots_used, "s_ca": s_ca,
        "ratio": None if not s_ca else result.shots_used / s_ca,
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,  # all threads: load-independent
    }


def exact_optimum(molecule: str, settings: dict[str, Any]) -> tuple[float, float]:
    """UCCSD's own exact optimum: ``(energy, error from FCI in mHa)``."""
    exact = {**settings, "shots": None, "tol": 1e-9, "maxiter": 400}
    exact.pop("allocation", None)
    exact.pop("final_precision", None)
    result = qvopt.vqe(molecule, seed=0, **exact)
    return result.energy_exact, result.error_mha


def _median_range(values: list[float]) -> str:
    if not values:
        return "—"
    return (f"{statistics.median(values):.2g} [{min(values):.2g}–{max(values):.2g}]")


def summary(molecule: str, runs: list[dict], optimum: float | None) -> dict[str, Any]:
    reached = [r for r in runs if abs(r["error_mha"]) <= CHEMICAL_ACCURACY_MHA]
    # a seed that never reached chemical accuracy counts as ∞ in the S_CA median
    s_ca = sorted(r["s_ca"] if r["s_ca"] else float("inf") for r in runs)
    return {
        "molecule": Path(molecule).stem, "seeds": len(runs),
        "reached": f"{len(reached)}/{len(runs)}",
        "above_start": sum(r["above_start"] for r in runs),
        "converged": sum(r["message"].startswith("converged") for r in runs),
        "median_error_mha": statistics.median(r["error_mha"] for r in runs),
        "max_error_mha": max(r["error_mha"] for r in runs),
        "nit": _median_range([r["nit"] for r in runs]),
        "shots_used": _median_range([r["shots_used"] for r in runs]),
        "s_ca_median": statistics.median(s_ca),
        "ratio": _median_range([r["ratio"] for r in runs if r["ratio"]]),
        "wall_s": _median_range([r["wall_s"] for r in runs]),
        "cpu_s": _median_range([r["cpu_s"] for r in runs]),
        "uccsd_exact_optimum_mha": optimum,
        "early_stops": sum(bool(r["early"]) for r in runs),
        "late_by": _median_range([r["late_by"] for r in runs if r["late_by"] is not None]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", nargs="+", default=TUNING)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--settings", default="{}", help="JSON: qvopt.vqe settings")
    parser.add_argument("--exact", action="store_true", help="also UCCSD's exact optimum")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = json.loads(args.settings)
    load_before = os.getloadavg()
    rows, runs = [], []
    for molecule in args.molecules:
        energy, optimum = exact_optimum(molecule, settings) if args.exact else (None, None)
        these = [one_run(molecule, seed, settings, energy)
                 for seed in range(args.first_seed, args.first_seed + args.seeds)]
        for r in these:
            print(json.dumps({k: r[k] for k in ("molecule", "seed", "error_mha", "status",
                                                 "nit", "shots_used", "s_ca", "wall_s", "cpu_s")}),
                  flush=True)
        rows.append(summary(molecule, these, optimum))
        runs.extend(these)
        print(json.dumps(rows[-1]), flush=True)
    report = {"settings": settings, "load_average_before": load_before,
              "load_average_after": os.getloadavg(), "summary": rows, "runs": runs}
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1))
    header = ("molecule", "reached", "above_start", "converged", "median_error_mha",
              "shots_used", "s_ca_median", "ratio", "nit", "wall_s", "cpu_s", "early_stops",
              "late_by")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(f"{row[h]:.3g}" if isinstance(row[h], float) else str(row[h])
                         for h in header))
    print(f"load average before {load_before}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
