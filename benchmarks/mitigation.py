"""Bias of the reported energy on noisy fake devices: readout-only vs readout + ZNE.

    python benchmarks/mitigation.py --devices fake_manila,fake_kolkata --seeds 5

At fixed parameters (the noiseless optimum of each ansatz, found on the statevector; no
noisy optimization), each mitigation setting measures the energy once per seed with a fresh
Estimator (fresh readout calibration). Reported per (problem, device, mitigation):
bias = mean over seeds of (reported − noiseless energy of the same parameters), the spread
(standard deviation over seeds), the mean reported stderr (honest when ≈ spread), the shots
of one evaluation, and the depth / two-qubit gates of the scale-1 measurement circuits.
Problems: H2 UCCSD (4 qubits) and H2 tapered to 1 qubit with a 1-layer hardware-efficient
ansatz. Prints a Markdown table and the load average (the machine's cores may be shared).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

import qvopt

SETTINGS = {
    "readout": {"mitigation": "readout"},
    "readout+zne (global, richardson 1,3,5)": {"mitigation": ["readout", "zne"]},
    "readout+zne (global, exponential 1,3,5)": {
        "mitigation": ["readout", "zne"], "zne": {"extrapolation": "exponential"}},
}


def problems() -> dict:
    """name → (hamiltonian, circuit, optimal parameters, noiseless energy there)."""
    out = {}
    h2 = qvopt.load_problem("h2")
    tapered = qvopt.load_problem("h2", taper=True)
    for name, problem, circuit in (
            ("h2 uccsd (4 q)", h2, qvopt.ansatz.uccsd(h2)),
            ("h2 tapered hea (1 q)", tapered, qvopt.ansatz.hardware_efficient(tapered, 1))):
        exact = qvopt.Estimator(problem.hamiltonian, circuit)
        start = np.full(circuit.num_parameters, 0.1)
        best = minimize(lambda x, e=exact: e.energy(x).value, start, method="BFGS")
        out[name] = (problem.hamiltonian, circuit, best.x, float(best.fun))
    return out


def measure(hamiltonian, circuit, theta, device: str, options: dict, shots: int,
            seeds: int) -> dict:
    values, stderrs = [], []
    for seed in range(seeds):
        est = qvopt.Estimator(hamiltonian, circuit, shots=shots, seed=seed, backend=device,
                              backend_options=options)
        e = est.energy(theta)
        values.append(e.value)
        stderrs.append(e.stderr)
    costs = est.sampler.circuit_costs()
    scale1 = [c for c in costs if c["scale"] == 1]
    return {"values": np.array(values), "stderr": float(np.sqrt(np.mean(np.square(stderrs)))),
            "evaluation_shots": est.shots_per_evaluation,
            "depth": max(c["depth"] for c in scale1),
            "two_qubit": max(c["two_qubit_gates"] for c in scale1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="fake_manila,fake_kolkata")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--shots", type=int, default=20_000, help="shots per group")
    args = parser.parse_args()
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().strip()}")
    start = time.perf_counter()
    print("| problem | device | mitigation | bias (mHa) | spread (mHa) | stderr (mHa) | "
          "shots/eval | depth | 2q gates |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (hamiltonian, circuit, theta, exact) in problems().items():
        for device in args.devices.split(","):
            for label, options in SETTINGS.items():
                r = measure(hamiltonian, circuit, theta, device, options, args.shots,
                            args.seeds)
                bias = 1000 * (r["values"].mean() - exact)
                spread = 1000 * r["values"].std(ddof=1)
                print(f"| {name} | {device} | {label} | {bias:+.1f} | {spread:.1f} | "
                      f"{1000 * r['stderr']:.1f} | {r['evaluation_shots']} | {r['depth']} | "
                      f"{r['two_qubit']} |", flush=True)
    with open("/proc/loadavg") as handle:
        print(f"load average after: {handle.read().strip()}; wall "
              f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
