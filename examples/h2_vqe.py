"""VQE on H2 with UCCSD, Adam and 1000 shots per measurement group.

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

result = qvopt.vqe(problem, ansatz="uccsd", optimizer="adam", shots=1000, seed=7)
print(f"VQE: exact energy of final parameters {result.energy_exact:.6f} Ha, "
      f"error {result.error_mha:.3f} mHa vs FCI, {result.nit} iterations, "
      f"{result.shots_used:,} shots, {result.wall_time:.1f} s")
print("within chemical accuracy:", result.within_chemical_accuracy)
