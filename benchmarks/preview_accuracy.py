"""How close the dry run's shot prediction comes to what default runs spend.

For each molecule: the preview's expected-value pilot (``qvopt.preview``, see
``qvopt/pilot.py``) and ``qvopt.vqe(molecule, seed=s)`` with the defaults for each seed;
prints actual/pilot per seed and its median, and whether each actual total lies in the
range the preview states. The tuning set (h2, lih_fc, lih) fixed ``NOISE_FACTOR``; the
held-out files in benchmarks/molecules/ check it.

    python benchmarks/preview_accuracy.py --seeds 5 --json benchmarks/results/preview.json
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from defaults_robustness import (  # shared by the benchmarks
    one_run,
    seed_study_arguments,
)

from qvopt.config import RunConfig
from qvopt.preview import preview


def measure(molecule: str, seeds: int) -> dict:
    cost = preview(RunConfig(molecule=molecule))
    predicted, low, high = (cost["shots_per_run_expected"], *cost["shots_per_run_range"])
    runs = []
    for seed in range(seeds):
        run = one_run(molecule, seed, {})
        shots = int(run["shots_used"])
        runs.append({"seed": seed, "shots": shots, "nit": int(run["nit"]),
                     "ratio": shots / predicted, "in_range": bool(low <= shots <= high),
                     "wall_s": round(run["wall_s"], 2)})
    ratios = [r["ratio"] for r in runs]
    return {"molecule": Path(molecule).stem, "predicted": predicted, "range": [low, high],
            "pilot_iterations": cost["iterations_expected"],
            "median_actual": statistics.median(r["shots"] for r in runs),
            "median_ratio": statistics.median(ratios), "min_ratio": min(ratios),
            "max_ratio": max(ratios), "in_range": sum(r["in_range"] for r in runs),
            "runs": runs}


def main() -> None:
    args = seed_study_arguments(__doc__.split("\n\n")[0])
    load_before = os.getloadavg()
    rows = []
    for molecule in args.molecules.split(","):
        row = measure(molecule, args.seeds)
        rows.append(row)
        print(f"{row['molecule']:>18}  predicted {row['predicted']:.3g} "
              f"[{row['range'][0]:.3g}, {row['range'][1]:.3g}]  actual median "
              f"{row['median_actual']:.3g}  actual/predicted median {row['median_ratio']:.2f} "
              f"(range {row['min_ratio']:.2f}–{row['max_ratio']:.2f})  in range "
              f"{row['in_range']}/{args.seeds}", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps({"load_average_before": load_before,
                                         "load_average_after": os.getloadavg(),
                                         "seeds": args.seeds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
