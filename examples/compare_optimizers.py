"""A small optimizer comparison on H2 under shot noise, from Python.

    python examples/compare_optimizers.py [--store study.sqlite] [--seeds 5]

Runs adam, rmsprop, spsa, qng and lbfgs at 100 and 1000 shots per group with every run
stopping at the same shot budget, stores everything in SQLite (re-running resumes), then
prints the summary table and the paths of the plots written next to the store.
"""

import argparse

import qvopt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default="study.sqlite")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--maxiter", type=int, default=100)
    args = parser.parse_args()
    summary = qvopt.compare(["h2"], ["adam", "rmsprop", "spsa", "qng", "lbfgs"], [100, 1000],
                            seeds=args.seeds, maxiter=args.maxiter, shot_budget=5_000_000,
                            store=args.store)
    print(f"{summary.finished} runs finished, {summary.skipped} were already in the store")
    table, plots = qvopt.report(args.store)
    columns = ["optimizer", "shots", "runs", "median_error_mha", "success_rate",
               "median_shots_to_ca"]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    for path in plots:
        print("plot:", path)


if __name__ == "__main__":
    main()
