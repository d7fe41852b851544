"""A potential-energy scan of H2: VQE (UCCSD, the default iCANS, 1000 shots per energy
evaluation split by the variance allocation) from 0.5 to 2.5 Å.

    python examples/scan_h2.py [--out scan_h2.json] [--step 0.25]

Each point starts from the previous point's final parameters (warm start); the store
(scan_h2.sqlite) makes a re-run resume instead of recomputing. Writes the JSON, a CSV and
a PNG (energies with HF and FCI curves, errors with the chemical-accuracy band).
"""

import argparse
from pathlib import Path

from qvopt.scan import scan

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", type=Path, default=Path("scan_h2.json"))
parser.add_argument("--step", type=float, default=0.25)
args = parser.parse_args()

result = scan("h2", "bond", f"0.5:2.5:{args.step}", shots=1000, seed=7,
              store=args.out.with_suffix(".sqlite"))
for p in result.points:
    print(f"r = {p['value']:.2f} Å  E = {p['energy']:.5f} ± {p['stderr']:.5f} Ha  "
          f"FCI {p['e_fci']:.5f}  error of final θ {p['error_mha']:.3f} mHa")
fit = result.equilibrium
print(f"equilibrium bond length {fit['value']:.3f} ± {fit['uncertainty']:.3f} Å "
      f"({fit['method']} fit); largest error {result.max_error_mha:.3f} mHa; "
      f"{result.shots_used:,} shots; {result.reused} points from the store")
for path in result.write(args.out):
    print("written:", path)
