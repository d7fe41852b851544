"""Command line: ``qvopt run``, ``qvopt molecules``, ``qvopt optimizers``. Thin: parse, call, print."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


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
    if text.lower() in ("exact", "none"):
        return None
    try:
        shots = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shots must be a positive integer or 'exact', got {text!r}") from None
    if shots <= 0:
        raise argparse.ArgumentTypeError(f"--shots must be a positive integer or 'exact', "
                                         f"got {shots}")
    return shots


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qvopt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run VQE on a molecule")
    run.add_argument("molecule", nargs="?", help="a shipped molecule name (see "
                     "`qvopt molecules`) or a path to a molecule .toml file")
    run.add_argument("--config", type=Path, default=None, help="a run file (TOML)")
    run.add_argument("--resume", type=Path, default=None, metavar="CHECKPOINT",
                     help="continue the run saved in CHECKPOINT")
    run.add_argument("--checkpoint", type=Path, default=None,
                     help="save the run state here after every iteration")
    run.add_argument("--backend", default="statevector",
                     help="statevector (default), aer, fake_<device>, ibm:<name>, "
                          "pennylane:<device>")
    run.add_argument("--mitigation", choices=["readout"], default=None,
                     help="readout-error mitigation (circuit backends)")
    run.add_argument("--ansatz", default="uccsd",
                     help="uccsd (default) or hardware_efficient")
    run.add_argument("--layers", type=int, default=None,
                     help="layers of the hardware-efficient ansatz")
    run.add_argument("--optimizer", default="adam", help="optimizer name (see `qvopt optimizers`)")
    run.add_argument("-O", "--option", action="append", type=parse_option, default=[],
                     metavar="KEY=VALUE", help="optimizer option, e.g. -O lr=0.05 "
                     "-O 'schedule={name=\"step\", step_size=50}' (repeatable)")
    run.add_argument("--shots", type=parse_shots, default=1000,
                     help="shots per measurement group per point, or 'exact' (default 1000)")
    run.add_argument("--allocation", choices=["uniform", "weighted", "variance"], default=None,
                     help="treat --shots as the total per energy evaluation and split it "
                          "across measurement groups this way")
    run.add_argument("--maxiter", type=int, default=None, help="maximum optimizer updates")
    run.add_argument("--shot-budget", type=int, default=None,
                     help="stop before exceeding this many shots")
    run.add_argument("--seed", type=int, default=None, help="random seed")
    run.add_argument("--device", default="CPU", help="Aer device: CPU (default) or GPU")
    run.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    run.add_argument("--no-progress", action="store_true", help="do not show a progress bar")

    comp = sub.add_parser("compare", help="run an optimizer comparison grid into a store")
    comp.add_argument("molecules", nargs="*", help="molecule names or files")
    comp.add_argument("--optimizers", default=None, help="comma-separated optimizer names")
    comp.add_argument("--shots", default=None,
                      help="comma-separated shot settings per group ('exact' allowed)")
    comp.add_argument("--seeds", type=int, default=5, help="seeds per grid point")
    comp.add_argument("--store", type=Path, default=Path("study.sqlite"))
    comp.add_argument("--config", type=Path, default=None, help="study TOML file")
    comp.add_argument("--maxiter", type=int, default=100)
    comp.add_argument("--shot-budget", type=int, default=None,
                      help="every run stops at this total (fair comparisons)")
    comp.add_argument("--study-seed", type=int, default=0)
    comp.add_argument("--workers", type=int, default=None, help="local processes")
    comp.add_argument("--executor", default=None,
                      help="dask://HOST:PORT or dask-local (needs qvopt[dask])")
    comp.add_argument("--no-progress", action="store_true")

    rep = sub.add_parser("report", help="tables and plots of a study store")
    rep.add_argument("store", type=Path)
    rep.add_argument("--csv", type=Path, default=None, help="also write the table as CSV")
    rep.add_argument("--no-plots", action="store_true")

    cache = sub.add_parser("cache", help="show or clear the Hamiltonian cache")
    cache.add_argument("action", choices=["info", "clear"])

    sub.add_parser("molecules", help="list the shipped molecules")
    sub.add_parser("optimizers", help="list the optimizers")
    return parser


def _run_arguments(args) -> tuple[dict, Path | None]:
    """vqe keyword arguments from the command line or a run file, and the JSON output."""
    from .vqe import DEFAULT_MAXITER

    if args.config is not None:
        from .runfile import load_run_file

        loaded = load_run_file(args.config)
        kwargs = loaded["vqe"]
        if args.maxiter is not None:
            kwargs["maxiter"] = args.maxiter
        return kwargs, args.out or loaded["result"]
    if args.molecule is None:
        raise ValueError("give a MOLECULE, --config RUN_FILE or --resume CHECKPOINT")
    backend_options = {"mitigation": args.mitigation} if args.mitigation else None
    kwargs = {"problem": args.molecule, "ansatz": args.ansatz, "optimizer": args.optimizer,
              "shots": args.shots, "seed": args.seed,
              "maxiter": args.maxiter if args.maxiter is not None else DEFAULT_MAXITER,
              "optimizer_options": dict(args.option), "shot_budget": args.shot_budget,
              "device": args.device, "allocation": args.allocation,
              "ansatz_options": {"layers": args.layers} if args.layers is not None else None,
              "backend": args.backend, "backend_options": backend_options,
              "checkpoint": args.checkpoint}
    return kwargs, args.out


def _cmd_run(args, console: Console) -> int:
    from .vqe import CHEMICAL_ACCURACY_MHA, resume, vqe

    if args.resume is not None:
        from .checkpoint import load

        saved = load(args.resume)
        maxiter = args.maxiter if args.maxiter is not None else saved["config"]["maxiter"]
        label = f"{saved['config']['problem']} (resumed at {saved['nit']})"
        optimizer = saved["config"]["optimizer"]
        run = lambda callback: resume(args.resume, maxiter=maxiter, callback=callback)  # noqa: E731
    else:
        kwargs, args.out = _run_arguments(args)
        maxiter = kwargs["maxiter"]
        label, optimizer = str(kwargs["problem"]), kwargs["optimizer"]
        run = lambda callback: vqe(callback=callback, **kwargs)  # noqa: E731
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"),
                        TextColumn("E = {task.fields[energy]}"), TimeElapsedColumn(),
                        console=console, disable=args.no_progress, transient=False)
    with progress:
        task = progress.add_task(f"VQE {label} ({optimizer})", total=maxiter, energy="…")

        def callback(intermediate):
            progress.update(task, completed=intermediate.nit,
                            energy=f"{intermediate.fun:.6f} ± {intermediate.stderr:.1e}")

        result = run(callback)
        progress.update(task, completed=maxiter if result.status == 1 else result.nit)

    table = Table(title=f"VQE {result.molecule}: {result.ansatz} + {result.optimizer}, "
                        f"shots={result.shots or 'exact'}, backend={result.backend}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("final energy (estimate)", f"{result.fun:.6f} ± {result.stderr:.6f} Ha")
    table.add_row("final energy (exact)", f"{result.energy_exact:.6f} Ha")
    table.add_row("FCI", f"{result.e_fci:.6f} Ha")
    table.add_row("error vs FCI", f"{result.error_mha:.3f} mHa")
    table.add_row(f"within chemical accuracy ({CHEMICAL_ACCURACY_MHA} mHa)",
                  "yes" if result.within_chemical_accuracy else "no")
    table.add_row("iterations", str(result.nit))
    table.add_row("shots used", f"{result.shots_used:,}")
    table.add_row("time", f"{result.wall_time:.1f} s")
    table.add_row("stopped because", result.message)
    console.print(table)
    if args.checkpoint is not None or args.resume is not None:
        console.print(f"checkpoint: {args.checkpoint or args.resume}", soft_wrap=True)
    if args.out is not None:
        from .io import write_json_atomic

        write_json_atomic(args.out, result.to_dict())
        console.print(f"result written to {args.out}", soft_wrap=True)
    return 0 if result.status != 5 else 3


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
        study = make_study(args.molecules, [o.strip() for o in args.optimizers.split(",")],
                           shots, seeds=args.seeds, study_seed=args.study_seed,
                           shot_budget=args.shot_budget, maxiter=args.maxiter)
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qvopt`` console script."""
    args = _build_parser().parse_args(argv)
    console = Console()
    err = Console(stderr=True)
    try:
        if args.command == "run":
            return _cmd_run(args, console)
        if args.command == "molecules":
            return _cmd_molecules(console)
        if args.command == "optimizers":
            return _cmd_optimizers(console)
        if args.command == "cache":
            return _cmd_cache(args, console)
        if args.command == "compare":
            return _cmd_compare(args, console)
        if args.command == "report":
            return _cmd_report(args, console)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
