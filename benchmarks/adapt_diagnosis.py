"""Why did a sampled ADAPT run end where it did? Exact diagnostics of a finished run.

Reads the result JSON of ``qvopt run MOLECULE --ansatz adapt --out run.json`` and, with
noiseless energies (a diagnosis: nothing here is charged or used by a run), reports

* **the operators**: the exact optimum of the chosen operator set (L-BFGS from the run's
  final angles) and of its first ``k`` operators from zero angles — is the set able to
  reach chemical accuracy, i.e. did the growth stop too early?
* **the landscape at the final angles**: the Hessian's eigenvalues (central differences of
  exact energies), the gain the diagonal model ``Σ g_i²/(2H_ii)`` predicts (what the
  run's stop test assumes) beside ``½ gᵀH⁻¹g`` — does coupling hide what is left?
* **polishing the final angles with exact gradients**: the diagonal-Newton step of iCANS
  (``x ← x − ½ g/h``), the same with heavy-ball momentum, and the quantum natural gradient
  with the exact Fubini–Study metric — how many iterations each needs from there.

    python benchmarks/adapt_diagnosis.py run.json --molecule benchmarks/molecules/h4_long.toml
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.optimize import minimize

from qvopt.adapt import adapt_circuit
from qvopt.ansatz.pool import build_pool
from qvopt.chem.problem import load_problem
from qvopt.estimation.estimator import Estimator
from qvopt.estimation.metric import CircuitStructure, exact_metric

STEP = 1e-3  # central-difference step (rad)
REPORT_AT = (10, 30, 100, 199)


def energy_function(problem, operators):
    estimator = Estimator(problem.hamiltonian, adapt_circuit(problem, operators), shots=None)
    return lambda x: float(estimator.exact_energy(np.asarray(x, dtype=float)))


def gradient_and_diagonal(f, x):
    basis = np.eye(len(x)) * STEP
    plus = np.array([f(x + e) for e in basis])
    minus = np.array([f(x - e) for e in basis])
    return (plus - minus) / (2 * STEP), (plus - 2 * f(x) + minus) / STEP**2


def hessian(f, x):
    n = len(x)
    basis = np.eye(n) * STEP
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            h[i, j] = h[j, i] = (f(x + basis[i] + basis[j]) - f(x + basis[i] - basis[j])
                                 - f(x - basis[i] + basis[j])
                                 + f(x - basis[i] - basis[j])) / (4 * STEP**2)
    return h


def polish(f, x, step, iterations=200):
    """Errors (mHa above ``f``'s reference, filled in by the caller) along a polish."""
    trace, previous = {}, x.copy()
    for k in range(iterations):
        x, previous = step(x, previous), x
        if k in REPORT_AT:
            trace[k + 1] = f(x)
    return trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="result JSON of qvopt run --ansatz adapt --out")
    parser.add_argument("--molecule", required=True, help="the run's molecule (name or file)")
    args = parser.parse_args()
    with open(args.result) as handle:
        run = json.load(handle)
    problem = load_problem(args.molecule)
    by_label = {op.label: op for op in build_pool(problem, "singles_doubles")}
    operators = [by_label[label] for label in run["operators"]]
    x = np.array(run["x"], dtype=float)
    f = energy_function(problem, operators)

    def mha(e):
        return round((e - problem.e_fci) * 1e3, 3)

    best = minimize(f, x, method="L-BFGS-B", options={"maxiter": 4000, "gtol": 1e-10})
    print(f"{len(operators)} operators; error at the final angles {mha(f(x))} mHa; "
          f"optimum of the set {mha(best.fun)} mHa")
    for k in range(4, len(operators), 4):
        sub = energy_function(problem, operators[:k])
        print(f"  first {k} operators, optimum from zero angles: "
              f"{mha(minimize(sub, np.zeros(k), method='L-BFGS-B').fun)} mHa")
    g, diagonal = gradient_and_diagonal(f, x)
    h = hessian(f, x)
    eigenvalues = np.linalg.eigvalsh(h)
    print("Hessian eigenvalues (Ha/rad²):", np.array2string(eigenvalues, precision=4))
    diagonal_gain = np.sum(g**2 / (2 * np.maximum(diagonal, 0.02 * diagonal.max())))
    print(f"gain the diagonal model predicts {1e3 * diagonal_gain:.3f} mHa; "
          f"½ gᵀH⁻¹g {1e3 * 0.5 * g @ np.linalg.solve(h, g):.3f} mHa "
          f"(meaningless where H has negative eigenvalues); left to the set's optimum "
          f"{(f(x) - best.fun) * 1e3:.3f} mHa")

    def diagonal_newton(beta):
        def step(y, previous):
            gy, hy = gradient_and_diagonal(f, y)
            return y - 0.5 * gy / np.maximum(hy, 0.02 * hy.max()) + beta * (y - previous)
        return step

    structure = CircuitStructure(adapt_circuit(problem, operators))

    def natural(lr, lam):
        def step(y, previous):
            gy, _ = gradient_and_diagonal(f, y)
            metric = exact_metric(structure, y)
            return y - lr * np.linalg.solve(metric + lam * np.eye(len(y)), gy)
        return step

    for name, step in (("diagonal Newton ½ (iCANS' step)", diagonal_newton(0.0)),
                       ("  with momentum 0.8", diagonal_newton(0.8)),
                       ("QNG lr 0.2, λ 1e-3 (exact metric)", natural(0.2, 1e-3))):
        trace = polish(f, x, step)
        print(f"{name}: " + ", ".join(f"{k} it. {mha(e)}" for k, e in trace.items()), flush=True)


if __name__ == "__main__":
    main()
