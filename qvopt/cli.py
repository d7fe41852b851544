"""The ``qvopt`` command: run VQE on a molecule, compare optimizers, report studies.

    qvopt run h2                                  # VQE with the defaults, summary table
    qvopt run lih_fc --optimizer rmsprop -O lr=0.05 --shots 2000 --allocation variance
    qvopt run --config run.toml                   # a run file (see qvopt.config)
    qvopt run --resume run.ckpt                   # continue an interrupted run
    qvopt compare h2 --optimizers adam,spsa --shots 100,1000 --seeds 5
    qvopt report study.sqlite                     # tables and plots of a study

Errors in what you give (a molecule, an option, a file) print one line and exit with 2;
Ctrl-C exits with 130 and leaves the last checkpoint intact.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import QvoptError

EXIT_FAILED, EXIT_INPUT, EXIT_BACKEND, EXIT_INTERRUPTED = 1, 2, 3, 130


def parse_option(text: str) -> tuple[str, object]:
    """``key=value`` with ``value`` read as a TOML value (``0.1``, ``[0.9, 0.99]``,
    ``{name="step", step_size=50}``, ``true``); a bare word is taken as a string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"optimizer option {text!r} must look like key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def parse_shots(text: str) -> int | None:
    """``exact``/``none`` → None; ``1000``, ``1e6`` → a positive integer (checked)."""
    from .config import check_shots
    from .errors import InputError

    if text.strip().lower() in ("exact", "none"):
        return None
    try:
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return check_shots(value)
    except (ValueError, OverflowError) as exc:
        detail = str(exc) if isinstance(exc, InputError) else f"got {text!r}"
        raise argparse.ArgumentTypeError(
            f"--shots must be a positive integer or 'exact' ({detail})") from None


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default unless it is None or False (nothing to show)."""

    def _get_help_string(self, action):
        if action.default in (None, False, []) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .config import DEFAULT_MAXITER

    formatter = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog="qvopt", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Variational quantum optimization with honest shot noise.",
        epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--version", action="version", version=f"qvopt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run VQE on a molecule", formatter_class=formatter,
                         description="Run VQE on a molecule and print a summary; every "
                         "setting can also come from a run file (--config).")
    run.add_argument("molecule", nargs="?", help="a shipped molecule name (see "
                     "`qvopt molecules`) or a path to a molecule .toml file")
    run.add_argument("--config", type=Path, default=None, help="a run file (TOML)")
    run.add_argument("--resume", type=Path, default=None, metavar="CHECKPOINT",
                     help="continue the run saved in CHECKPOINT")
    run.add_argument("--checkpoint", type=Path, default=None,
                     help="save the run state here after every iteration")
    run.add_argument("--backend", default="statevector",
                     help="where energies are measured: statevector, aer, fake_<device>, "
                          "ibm:<name> or pennylane:<device>")
    run.add_argument("--mitigation", choices=["readout"], default=None,
                     help="readout-error mitigation (circuit backends)")
    run.add_argument("--ansatz", default="uccsd",
                     help="uccsd, hardware_efficient, or adapt (ADAPT-VQE: grows the circuit; "
                          "options with --ansatz-option)")
    run.add_argument("--ansatz-option", action="append", type=parse_option, default=[],
                     metavar="KEY=VALUE", help="an option of the ansatz, e.g. "
                     "--ansatz-option max_operators=8 (repeatable)")
    run.add_argument("--layers", type=int, default=None,
                     help="layers of the hardware-efficient ansatz")
    run.add_argument("--optimizer", default="adam", help="optimizer name (see `qvopt optimizers`)")
    run.add_argument("-O", "--option", action="append", type=parse_option, default=[],
                     metavar="KEY=VALUE", help="optimizer option, e.g. -O lr=0.05 "
                     "-O 'schedule={name=\"step\", step_size=50}' (repeatable)")
    run.add_argument("--shots", type=parse_shots, default=1000,
                     help="shots per measurement group per point (1e4 style allowed), or 'exact'")
    run.add_argument("--allocation", choices=["uniform", "weighted", "variance"], default=None,
                     help="treat --shots as the total per energy evaluation and split it "
                          "across measurement groups this way")
    run.add_argument("--maxiter", type=int, default=None,
                     help=f"maximum optimizer updates (default {DEFAULT_MAXITER})")
    run.add_argument("--shot-budget", type=int, default=None,
                     help="stop before exceeding this many shots")
    run.add_argument("--gtol", type=float, default=None,
                     help="stop when the estimated gradient norm is at most this")
    run.add_argument("--final-precision", type=float, default=None, metavar="HARTREE",
                     help="measure the final energy to this standard error, e.g. 0.0016 "
                          "(its shots are charged and shown separately)")
    run.add_argument("--seed", type=int, default=None, help="random seed")
    run.add_argument("--initial-point", choices=["hf", "mp2"], default=None,
                     help="starting parameters: hf (zeros, the default) or mp2 (UCCSD "
                          "double amplitudes from MP2)")
    run.add_argument("--device", default="CPU",
                     help="Aer device: CPU or GPU (needs qvopt[gpu])")
    run.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    run.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    run.add_argument("--dry-run", action="store_true",
                     help="print what the run would measure and cost; run nothing")

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
                      "evaluation, split across groups this way")
    comp.add_argument("--ansatz", default="uccsd", help="uccsd or hardware_efficient")
    comp.add_argument("--seeds", type=int, default=5, help="seeds per grid point")
    comp.add_argument("--store", type=Path, default=Path("study.sqlite"),
                      help="SQLite file the runs are recorded in (re-running resumes)")
    comp.add_argument("--config", type=Path, default=None, help="study TOML file")
    comp.add_argument("--maxiter", type=int, default=DEFAULT_MAXITER,
                      help="maximum optimizer updates per run")
    comp.add_argument("--shot-budget", type=int, default=None,
                      help="every run stops at this total (fair comparisons)")
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

    cache = sub.add_parser("cache", help="show or clear the Hamiltonian cache")
    cache.add_argument("action", choices=["info", "clear"])

    from .plots import add_plot_parser
    from .scan import add_scan_parser

    add_scan_parser(sub)
    add_plot_parser(sub)
    sub.add_parser("molecules", help="list the shipped molecules")
    sub.add_parser("optimizers", help="list the optimizers")
    return parser


RESUME_KEEPS = {"--resume", "--maxiter", "--out", "--no-progress"}
CONFIG_KEEPS = {"--config", "--maxiter", "--out", "--no-progress", "--dry-run"}


def _conflicting_flags(typed: set[str], keep: set[str]) -> list[str]:
    """Flags typed on the command line that ``--resume``/``--config`` would ignore."""
    return sorted(flag for flag in typed if flag not in keep)


def _run_config(args, typed: set[str]):
    """The :class:`RunConfig` of ``qvopt run`` (flags, or a run file plus overrides)."""
    from .config import RunConfig
    from .errors import InputError

    if args.config is not None:
        extra = _conflicting_flags(typed, CONFIG_KEEPS)
        if extra:
            raise InputError(f"--config takes its settings from the run file; remove {extra} "
                             "(only --maxiter, --out, --dry-run and --no-progress may be "
                             "added)")
        config = RunConfig.from_toml(args.config)
        changes = {k: v for k, v in (("maxiter", args.maxiter),
                                     ("result", args.out and str(args.out))) if v is not None}
        return config.replace(**changes) if changes else config
    if args.molecule is None:
        raise InputError("give a MOLECULE, --config RUN_FILE or --resume CHECKPOINT")
    return RunConfig.from_cli_args(args)


def _resumed(args, typed: set[str]):
    """``(config, nit)`` of the checkpoint to resume, the command line checked against it."""
    from .checkpoint import load, saved_config
    from .errors import InputError

    extra = _conflicting_flags(typed, RESUME_KEEPS)
    if extra:
        raise InputError(f"--resume continues the saved run with its own settings; remove "
                         f"{extra} (only --maxiter, --out and --no-progress may be added)")
    meta, _ = load(args.resume)
    config = saved_config(meta, args.resume)
    changes = {k: v for k, v in (("maxiter", args.maxiter),
                                 ("result", args.out and str(args.out))) if v is not None}
    return config.replace(**changes), meta["nit"]


def _cmd_run(args, console: Console, typed: set[str]) -> int:
    from .vqe import resume, run

    if args.resume is not None and _is_adapt(args.resume):
        return _resume_adapt(args, console, typed)
    if args.resume is not None:
        config, nit = _resumed(args, typed)
        label = f"{Path(config.molecule).stem} (resumed at {nit})"
        execute = lambda callback: resume(args.resume, maxiter=config.maxiter,  # noqa: E731
                                          callback=callback)
        checkpoint = args.resume
    else:
        config = _run_config(args, typed)
        if args.dry_run:
            return _print_preview(console, config)
        label, checkpoint = Path(config.molecule).stem, config.checkpoint
        execute = lambda callback: run(config, callback=callback)  # noqa: E731
    result = _with_progress(console, args.no_progress, f"VQE {label} ({config.optimizer})",
                            config.maxiter, execute)
    console.print(_summary_table(result))
    if checkpoint is not None:
        console.print(f"checkpoint: {escape(str(checkpoint))}", soft_wrap=True)
    if config.result is not None:
        from .io import write_json_atomic

        write_json_atomic(config.result, result.to_dict())
        console.print(f"result written to {escape(str(config.result))}", soft_wrap=True)
    return {5: EXIT_BACKEND, 4: EXIT_FAILED}.get(int(result.status), 0)


def _is_adapt(path) -> bool:
    from .adapt import is_adapt_checkpoint

    return is_adapt_checkpoint(path)


def _resume_adapt(args, console: Console, typed: set[str]) -> int:
    """``--resume`` of an ADAPT-VQE checkpoint (its own format; grows to its limits)."""
    from .adapt import resume_adapt
    from .errors import InputError

    extra = _conflicting_flags(typed, RESUME_KEEPS - {"--maxiter"})
    if extra:
        raise InputError(f"--resume of an ADAPT run takes no other run flags; remove {extra}")
    result = _with_progress(console, args.no_progress, "ADAPT-VQE (resumed)", 1,
                            lambda callback: resume_adapt(args.resume, callback=callback))
    console.print(_summary_table(result))
    if args.out is not None:
        from .io import write_json_atomic

        write_json_atomic(args.out, result.to_dict())
        console.print(f"result written to {escape(str(args.out))}", soft_wrap=True)
    return {5: EXIT_BACKEND, 4: EXIT_FAILED}.get(int(result.status), 0)


def _print_preview(console: Console, config) -> int:
    from .preview import preview

    cost = preview(config)
    table = Table(title=escape(f"dry run: {cost['molecule']} with {cost['optimizer']} on "
                               f"{cost['backend']} (nothing was run)"))
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key in ("qubits", "parameters", "groups", "points_per_iteration",
                "circuit_executions_per_iteration", "shots_per_evaluation",
                "shots_per_iteration", "iterations", "calibration_shots", "shots_per_run"):
        label = key.replace("_", " ") + (" (est.: every iteration as the first)"
                                         if key == "shots_per_run" else "")
        table.add_row(label, f"{cost[key]:,}")
    circuits = cost["device_circuits"]
    if circuits:
        depths = [c["depth"] for c in circuits]
        gates = [c["two_qubit_gates"] for c in circuits]
        table.add_row("transpiled depth (min–max over groups)", f"{min(depths)}–{max(depths)}")
        table.add_row("two-qubit gates (min–max)", f"{min(gates)}–{max(gates)}")
    console.print(table)
    return 0


def _with_progress(console: Console, disable: bool, description: str, total: int, execute):
    """Run ``execute(callback)`` under a progress bar fed by the run's callback."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"),
                        TextColumn("E = {task.fields[energy]}"), TimeElapsedColumn(),
                        console=console, disable=disable, transient=False)
    with progress:
        task = progress.add_task(escape(description), total=total, energy="…")

        def callback(intermediate):
            progress.update(task, completed=intermediate.nit,
                            energy=f"{intermediate.fun:.6f} ± {intermediate.stderr:.1e}")

        result = execute(callback)
        progress.update(task, completed=total if result.status == 1 else result.nit)
    return result


def _summary_table(result) -> Table:
    from .accuracy import CHEMICAL_ACCURACY_MHA

    table = Table(title=escape(f"VQE {result.molecule}: {result.ansatz} + {result.optimizer}, "
                               f"shots={result.shots or 'exact'}, backend={result.backend}"))
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("final energy (estimate)", f"{result.fun:.6f} ± {result.stderr:.6f} Ha")
    table.add_row("final energy (exact)", f"{result.energy_exact:.6f} Ha")
    table.add_row("FCI", f"{result.e_fci:.6f} Ha")
    table.add_row("error vs FCI", f"{result.error_mha:.3f} mHa")
    table.add_row(f"within chemical accuracy ({CHEMICAL_ACCURACY_MHA} mHa)",
                  "yes" if result.within_chemical_accuracy else "no")
    table.add_row("iterations", str(result.nit))
    final = result.get("final_shots")
    table.add_row("shots used", f"{result.shots_used:,}" + (
        f" (final energy: {final:,})" if final else ""))
    reached = result.shots_to_chemical_accuracy
    table.add_row("shots to chemical accuracy (and stay)",
                  "not reached" if reached is None else
                  f"{reached:,} (iteration {result.iterations_to_chemical_accuracy})")
    table.add_row("time (set-up included)", f"{result.wall_time:.1f} s")
    table.add_row("stopped because", escape(result.message))
    return table


def _cmd_molecules(console: Console) -> int:
    from .chem import known_molecules, read_molecule_file

    table = Table(title="molecules")
    for col in ("name", "qubits", "basis", "E_HF (Ha)", "E_FCI (Ha)", "description"):
        table.add_column(col)
    for name in known_molecules():
        spec = read_molecule_file(name)
        orbitals = spec.active_orbitals
        qubits = str(2 * orbitals) if orbitals else _qubits_without_active_space(spec)
        table.add_row(name, qubits, spec.basis,
                      f"{spec.e_hf:.6f}" if spec.e_hf is not None else "-",
                      f"{spec.e_fci:.6f}" if spec.e_fci is not None else "-",
                      spec.description)
    console.print(table)
    return 0


def _qubits_without_active_space(spec) -> str:
    from pyscf import gto

    mol = gto.M(atom=list(zip(spec.symbols, spec.coordinates, strict=True)), basis=spec.basis,
                charge=spec.charge, spin=spec.multiplicity - 1, unit=spec.units, verbose=0)
    return str(2 * mol.nao_nr())


def _optimizer_options(names: list[str], options: list[tuple[str, object]]) -> dict:
    """``-O adam.lr=0.05`` → ``{"adam": {"lr": 0.05}, …}``; ``-O lr=…`` only with one
    optimizer."""
    from .errors import InputError

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


def _cmd_compare(args, console: Console) -> int:
    from .bench import compare, load_study_file, make_study
    from .bench.study import parse_shot_list
    from .errors import InputError

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
                           ansatz=args.ansatz, allocation=args.allocation)
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


def _cmd_report(args, console: Console) -> int:
    from .bench import report
    from .bench.report import TABLE_COLUMNS, failure_lines, table_rows

    table, paths = report(args.store, plots=not args.no_plots, csv=args.csv)
    out = Table(title=f"study {args.store}")
    for title in TABLE_COLUMNS:
        out.add_column(title, justify="right")
    for cells in table_rows(table):
        out.add_row(*cells)
    console.print(out)
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


def _cmd_cache(args, console: Console) -> int:
    from .chem.cache import cache_dir, clear_cache

    if args.action == "clear":
        console.print(f"removed {clear_cache()} cached Hamiltonian(s) from {cache_dir()}",
                      soft_wrap=True)
        return 0
    entries = list(cache_dir().glob("*.npz")) if cache_dir().is_dir() else []
    size = sum(p.stat().st_size for p in entries)
    console.print(f"{cache_dir()}: {len(entries)} cached Hamiltonian(s), {size / 1e6:.1f} MB",
                  soft_wrap=True)
    return 0


def _cmd_optimizers(console: Console) -> int:
    from .optimizers.registry import VQE_DEFAULTS, describe

    table = Table(title="optimizers")
    table.add_column("name")
    table.add_column("description")
    table.add_column("VQE defaults")
    for name, summary in describe().items():
        table.add_row(name, summary, json.dumps(VQE_DEFAULTS.get(name, {})))
    console.print(table)
    return 0


def _cmd_scan(args, console: Console) -> int:
    from .scan.cli import cmd_scan

    return cmd_scan(args, console)


def _cmd_plot(args, console: Console) -> int:
    from .plots import cmd_plot

    return cmd_plot(args, console)


def _typed_flags(parser: argparse.ArgumentParser, command: str, argv: list[str]) -> set[str]:
    """The options of ``command`` typed in ``argv`` (long names; MOLECULE if given)."""
    sub = next(a for a in parser._subparsers._group_actions  # noqa: SLF001 (no public API)
               ).choices[command]
    typed = set()
    for token in argv:
        action = sub._option_string_actions.get(token.split("=", 1)[0])  # noqa: SLF001
        if action is not None:
            typed.add(max(action.option_strings, key=len))
    return typed


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qvopt`` console script.

    Exit codes: 0 done, 1 the optimizer failed (e.g. L-BFGS-B's abnormal line search) or a
    study had failed runs, 2 bad input (one line on stderr), 3 the backend failed
    (checkpoint intact), 130 interrupted by Ctrl-C. Anything else that goes
    wrong is a bug in qvopt and keeps its traceback.
    """
    parser = _build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    console = Console()
    err = Console(stderr=True)
    commands = {
        "run": lambda: _cmd_run(args, console, _typed_flags(parser, "run", argv) | (
            {"MOLECULE"} if getattr(args, "molecule", None) else set())),
        "molecules": lambda: _cmd_molecules(console),
        "optimizers": lambda: _cmd_optimizers(console),
        "cache": lambda: _cmd_cache(args, console),
        "compare": lambda: _cmd_compare(args, console),
        "report": lambda: _cmd_report(args, console),
        "scan": lambda: _cmd_scan(args, console),
        "plot": lambda: _cmd_plot(args, console),
    }
    try:
        return commands[args.command]()
    except QvoptError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_INPUT
    except KeyboardInterrupt:
        err.print("interrupted (Ctrl-C); the last checkpoint, if any, is intact",
                  soft_wrap=True)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
