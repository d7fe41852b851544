"""Default runs with fully commuting (FC) groups, split or not, against qubit-wise commuting
(QWC) ones.

For each molecule and seed: ``qvopt.vqe(molecule, seed=s, grouping=g)`` with every other
setting at its default, for g in ``fc_split``, ``fc`` and ``sorted_insertion``, in one
process; prints the medians (and ranges) of shots to chemical accuracy (S_CA, for good; a
seed that never gets there counts as infinity), whole-run shots, final error and wall time,
and the ratios of the QWC medians to each FC grouping's.

    python benchmarks/grouping_defaults.py --seeds 5 --json benchmarks/results/grouping.json
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from defaults_robustness import (  # shared by the benchmarks
    one_run,
    seed_study_arguments,
)

import qvopt

GROUPINGS = ("fc_split", "fc", "sorted_insertion")


def _median(values):
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    low, high = ordered[n // 2 - 1], ordered[n // 2]
    return high if math.isinf(high) else (low + high) / 2


def measure(molecule: str, grouping: str, seeds: int) -> dict:
    runs = []
    for seed in range(seeds):
        run = one_run(molecule, seed, {"grouping": grouping})
        runs.append({"seed": seed, "shots": int(run["shots_used"]),
                     "s_ca": math.inf if run["s_ca"] is None else int(run["s_ca"]),
                     "error_mha": float(run["error_mha"]), "nit": int(run["nit"]),
                     "status": qvopt.Status(run["status"]).name, "wall_s": run["wall_s"]})
    summary = {key: _median([run[key] for run in runs])
               for key in ("shots", "s_ca", "error_mha", "wall_s")}
    return {"molecule": Path(molecule).stem, "grouping": grouping, "median": summary,
            "within_ca": sum(run["error_mha"] <= 1.6 for run in runs), "runs": runs}


def main() -> None:
    args = seed_study_arguments(__doc__.split("\n\n")[0])
    load = os.getloadavg()
    rows = []
    for molecule in args.molecules.split(","):
        pair = {g: measure(molecule, g, args.seeds) for g in GROUPINGS}
        rows.extend(pair.values())
        qwc = pair["sorted_insertion"]["median"]
        for g, row in pair.items():
            m = row["median"]
            runs = row["runs"]
            print(f"{row['molecule']:>18} {g:>16}: S_CA {m['s_ca']:.3g} "
                  f"[{min(r['s_ca'] for r in runs):.3g}, {max(r['s_ca'] for r in runs):.3g}]"
                  f"  whole run {m['shots']:.3g} [{min(r['shots'] for r in runs):.3g}, "
                  f"{max(r['shots'] for r in runs):.3g}]  error {m['error_mha']:.2f} mHa  "
                  f"{row['within_ca']}/{args.seeds} within CA  {m['wall_s']:.1f} s", flush=True)
        for g in GROUPINGS[:-1]:
            other = pair[g]["median"]
            print(f"{'':>18} QWC/{g}: S_CA {qwc['s_ca'] / other['s_ca']:.2f}x, whole run "
                  f"{qwc['shots'] / other['shots']:.2f}x", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps({"load_average_before": load,
                                         "load_average_after": os.getloadavg(),
                                         "seeds": args.seeds, "rows": rows}, indent=1,
                                        default=str))


if __name__ == "__main__":
    main()
