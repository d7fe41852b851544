"""``qvopt compare`` and ``qvopt report``: optimizer studies into a store, and their tables."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from .common import fitting_table, parse_option


def add_study_parsers(sub, formatter) -> None:
    """The ``compare`` and ``report`` sub-commands."""
    from ..config import DEFAULT_MAXITER
    from ..estimation.partition import GROUPINGS
    from ..run_defaults import AUTO

    comp = sub.add_parser("compare", help="run an optimizer comparison grid into a store",
                          formatter_class=formatter)
    comp.add_argument("molecules", nargs="*", help="molecule names or files")
    comp.add_argument("--optimizers", default=None, help="comma-separated optimizer names")
    comp.add_argument("--shots", default=None,
                      help="comma-separated shot settings per group ('exact' allowed)")
    comp.add_argument("-O", "--option", action="append", type=parse_option, default=[],
                      metavar="OPTIMIZER.KEY=VALUE",
                      help="an optimizer's option, e.g. -O adam.lr=0.05 (repeatable)")
    comp.add_argument("--allocation", choices=["uniform", "weighted", "variance"],
                      default=None, help="treat each --shots value as the total per energy "
                      "evaluation, split across groups this way (without it a study counts "
                      "shots per group, unlike `qvopt run`, whose default is variance)")
    comp.add_argument("--ansatz", default="uccsd",
                      help="uccsd, hardware_efficient or adapt (ADAPT-VQE; reported as "
                           "adapt+<optimizer>)")
    comp.add_argument("--grouping", choices=[AUTO, *GROUPINGS], default=AUTO,
                      help="measurement groups of every run (as qvopt run --grouping); "
                           "the store and report name the grouping each run used")
    comp.add_argument("--seeds", type=int, default=5, help="seeds per grid point")
    comp.add_argument("--store", type=Path, default=Path("study.sqlite"),
                      help="SQLite file the runs are recorded in (re-running resumes)")
    comp.add_argument("--config", type=Path, default=None, help="study TOML file")
    comp.add_argument("--maxiter", type=int, default=DEFAULT_MAXITER,
                      help="maximum optimizer updates per run")
    comp.add_argument("--shot-budget", type=int, default=None,
                      help="every run stops at this total (fair comparisons)")
    comp.add_argument("--tol", type=float, default=None, metavar="HARTREE",
                      help="let each run stop by the convergence test (see qvopt run "
                           "--tol); default: none, runs go to --maxiter or the budget")
    comp.add_argument("--study-seed", type=int, default=0,
                      help="seeds of all runs derive from it and the grid coordinates")
    comp.add_argument("--workers", type=int, default=None, help="local processes")
    comp.add_argument("--executor", default=None,
                      help="dask://HOST:PORT or dask-local (needs qvopt[dask])")
    comp.add_argument("--no-progress", action="store_true", help="no progress bar")

    rep = sub.add_parser("report", help="tables and plots of a study store",
                         formatter_class=formatter)
    rep.add_argument("store", type=Path)
    rep.add_argument("--csv", type=Path, default=None, help="also write the table as CSV")
    rep.add_argument("--no-plots", action="store_true")


def _optimizer_options(names: list[str], options: list[tuple[str, object]]) -> dict:
    """``-O adam.lr=0.05`` → ``{"adam": {"lr": 0.05}, …}``; ``-O lr=…`` only with one
    optimizer."""
    from ..errors import InputError

    table: dict[str, dict] = {name: {} for name in names}
    for key, value in options:
        name, _, option = key.rpartition(".")
        if not name:
            if len(names) != 1:
                raise InputError(f"-O {key}=…: with several optimizers write "
                                 f"OPTIMIZER.{key}=VALUE (one of {names})")
            name = names[0]
        if name not in table:
            raise InputError(f"-O {key}=…: {name!r} is not one of --optimizers {names}")
        table[name][option] = value
    return table


def cmd_compare(args, console: Console) -> int:
    from ..bench import compare, load_study_file, make_study
    from ..bench.study import parse_shot_list
    from ..errors import InputError

    if args.config is not None:
        study = load_study_file(args.config)
    else:
        if not args.molecules or not args.optimizers or not args.shots:
            raise InputError("give MOLECULES, --optimizers and --shots, or --config FILE")
        shots = parse_shot_list(args.shots)
        names = [o.strip() for o in args.optimizers.split(",")]
        study = make_study(args.molecules, _optimizer_options(names, args.option), shots,
                           seeds=args.seeds, study_seed=args.study_seed,
                           shot_budget=args.shot_budget, maxiter=args.maxiter,
                           ansatz=args.ansatz, allocation=args.allocation, tol=args.tol,
                           grouping=args.grouping)
    progress = Progress(TextColumn("[bold]runs"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=console, disable=args.no_progress)
    with progress:
        task = progress.add_task("grid", total=None)

        def update(done, total):
            progress.update(task, completed=done, total=total)

        summary = compare(study=study, store=args.store, workers=args.workers,
                          executor=args.executor, progress=update)
    console.print(f"{summary.total} runs: {summary.skipped} already in the store, "
                  f"{summary.finished} finished, {summary.failed} failed → {summary.store}",
                  soft_wrap=True)
    return 0 if summary.failed == 0 else 1


def cmd_report(args, console: Console) -> int:
    from ..bench import report
    from ..bench.report import TABLE_COLUMNS, failure_lines, table_rows

    table, paths = report(args.store, plots=not args.no_plots, csv=args.csv)
    console.print(fitting_table(console, f"study {args.store}", TABLE_COLUMNS,
                                table_rows(table)))
    failures = failure_lines(table)
    if failures:
        console.print(f"failed runs ({int(table['failed'].sum())}):", soft_wrap=True)
        for line in failures:
            console.print(f"  {line}", soft_wrap=True, markup=False)
    for path in paths:
        console.print(f"plot: {path}", soft_wrap=True)
    if args.csv:
        console.print(f"table: {args.csv}", soft_wrap=True)
    return 0 if int(table["runs"].sum()) > 0 else 1
