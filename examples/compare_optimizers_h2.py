"""Run every main optimizer once on H2 (UCCSD, 1000 shots per group) and print a table.

    python examples/compare_optimizers_h2.py [--seed 3] [--maxiter 120]

Each optimizer uses its VQE defaults (see `qvopt optimizers`). The error is the exact energy
of the final parameters against FCI; shots are counted on one ledger for all of them.
"""

import argparse

import qvopt

OPTIMIZERS = ["sgd", "momentum", "adam", "rmsprop", "adagrad", "nadam", "qng", "spsa", "2spsa",
              "qnspsa", "lbfgs", "cobyla"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--maxiter", type=int, default=120)
    args = parser.parse_args()
    problem = qvopt.load_problem("h2")
    print(f"{'optimizer':<10} {'error (mHa)':>12} {'chem. acc.':>10} {'iterations':>10} "
          f"{'shots':>12} {'time (s)':>9}")
    for name in OPTIMIZERS:
        r = qvopt.vqe(problem, optimizer=name, shots=1000, seed=args.seed, maxiter=args.maxiter)
        print(f"{name:<10} {r.error_mha:>12.3f} "
              f"{'yes' if r.within_chemical_accuracy else 'no':>10} "
              f"{r.nit:>10} {r.shots_used:>12,} {r.wall_time:>9.1f}")


if __name__ == "__main__":
    main()
