"""A hardware-style VQE run, developed offline on a fake IBM device, with checkpoints.

    python examples/hardware_run.py                 # fake_manila (noisy Aer), offline
    python examples/hardware_run.py ibm:ibm_brisbane  # real hardware (needs credentials)

The run writes its state after every iteration; if it is interrupted (queue timeout, lost
connection), `qvopt.resume(CHECKPOINT)` continues the same trajectory.
"""

import sys
from pathlib import Path

import qvopt

backend = sys.argv[1] if len(sys.argv) > 1 else "fake_manila"
checkpoint = Path("hardware_run.ckpt")

problem = qvopt.load_problem("h2")
if checkpoint.exists():
    result = qvopt.resume(checkpoint)
else:
    result = qvopt.vqe(problem, optimizer="spsa", optimizer_options={"blocking": True},
                       shots=2000, seed=7, maxiter=15, backend=backend,
                       backend_options={"mitigation": "readout", "max_retries": 3},
                       checkpoint=checkpoint)
print(f"backend {result.backend}: measured {result.fun:.4f} ± {result.stderr:.4f} Ha, "
      f"noiseless energy of the final parameters {result.energy_exact:.4f} Ha "
      f"(FCI {problem.e_fci:.4f}), {result.shots_used:,} shots, {result.message}")
