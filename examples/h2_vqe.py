"""VQE on H2 with UCCSD: an estimator at 1000 shots per measurement group, then a run with
qvopt's shot-frugal defaults (iCANS, 1000 shots per energy evaluation split across the
groups by the variance allocation, MP2 start) and one with Adam at 1000 shots per group.

    python examples/h2_vqe.py
"""

import numpy as np

import qvopt

problem = qvopt.load_problem("h2")
circuit = qvopt.ansatz.uccsd(problem)
theta = np.zeros(circuit.num_parameters)  # the Hartree–Fock state

est = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000, seed=7)
e = est.energy(theta)
g = est.gradient(theta)
print(f"E(HF) estimate: {e.value:.5f} ± {e.stderr:.5f} Ha  (exact {problem.e_hf:.5f}, "
      f"{e.shots} shots)")
print(f"gradient at HF: {np.round(g.value, 4)} ± {np.round(g.stderr, 4)}")

runs = {"defaults": qvopt.vqe(problem, ansatz="uccsd", seed=7),
        "adam, 1000 per group, HF start": qvopt.vqe(problem, ansatz="uccsd", optimizer="adam",
                                                    shots=1000, allocation=None,
                                                    initial_point="hf", seed=7)}
for label, result in runs.items():
    reached = result.shots_to_chemical_accuracy
    print(f"VQE ({label}): error {result.error_mha:.3f} mHa vs FCI after {result.nit} "
          f"iterations and {result.shots_used:,} shots; chemical accuracy for good after "
          f"{'never' if reached is None else f'{reached:,} shots'}")
