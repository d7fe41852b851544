"""Every optimizer of ``qvopt optimizers`` at its VQE defaults on the same molecules and seed:
whether each run ends above its start (exact energies, which the run never sees) and
within chemical accuracy.

    python benchmarks/every_optimizer.py --molecules h2 lih_fc --seed 0 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from defaults_robustness import one_run  # shared by the benchmarks

from qvopt.optimizers import available


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--molecules", nargs="+", default=["h2", "lih_fc"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load = os.getloadavg()
    rows = []
    for name in available():
        for molecule in args.molecules:
            run = one_run(molecule, args.seed, {"optimizer": name})
            rows.append({"optimizer": name, **run})
            print(f"{name:>13} {molecule:>8}: error {run['error_mha']:8.2f} mHa (start "
                  f"{run['start_error_mha']:.2f}), above start {run['above_start']}, "
                  f"{run['nit']} iterations, {run['shots_used']:.3g} shots, "
                  f"{run['cpu_s']:.1f} s CPU", flush=True)
    reached = {molecule: sorted(r["optimizer"] for r in rows
                                if r["molecule"] == molecule and r["error_mha"] <= 1.6)
               for molecule in args.molecules}
    above = sorted({r["optimizer"] for r in rows if r["above_start"]})
    print("within 1.6 mHa:", json.dumps(reached))
    print("ended above the start:", above or "none")
    if args.json is not None:
        args.json.write_text(json.dumps({"load_average_before": load,
                                         "load_average_after": os.getloadavg(),
                                         "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
