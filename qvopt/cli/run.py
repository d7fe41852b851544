"""``qvopt run``: one VQE run from flags, a run file or a checkpoint; ``--dry-run``."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .common import (
    EXIT_BACKEND,
    EXIT_FAILED,
    ShownOnFirstUpdate,
    parse_option,
    parse_precision,
    parse_shots,
    parse_tol,
)


def _odd_scales(text: str) -> list[int]:
    """``"1,3,5"`` → ``[1, 3, 5]`` (checked further by the ZNE settings)."""
    import argparse

    try:
        return [int(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--zne-scales must be comma-separated integers, "
                                         f"got {text!r}") from None


def add_run_parser(sub, formatter) -> None:
    """The ``run`` sub-command and its flags (defaults from :class:`~qvopt.config.RunConfig`)."""
    from ..config import (
        ADAPT_OPTIMIZER,
        AUTO,
        CIRCUIT_GROUPING,
        DEFAULT_ALLOCATION,
        DEFAULT_GROUPING,
        DEFAULT_MAXITER,
        DEFAULT_OPTIMIZER,
        DEFAULT_SHOTS,
        QWC_GROUPING,
    )
    from ..estimation.partition import GROUPINGS

    run = sub.add_parser("run", help="run VQE on a molecule", formatter_class=formatter,
                         description="Run VQE on a molecule and print a summary; every "
                         "setting can also come from a run file (--config). The defaults "
                         f"are shot-frugal: --optimizer {DEFAULT_OPTIMIZER} (for an exact "
                         f"--ansatz adapt run {ADAPT_OPTIMIZER}), --shots {DEFAULT_SHOTS} per "
                         "energy evaluation split across the measurement groups by "
                         f"--allocation {DEFAULT_ALLOCATION}, the MP2 start for --ansatz "
                         "uccsd (zeros for other ansätze), and a final energy measured to a "
                         "standard error of 1.6 mHa.")
    run.add_argument("molecule", nargs="?", help="a shipped molecule name (see "
                     "`qvopt molecules`), a path to a molecule .toml file, or "
                     "an FCIDUMP file of integrals from another program")
    run.add_argument("--config", type=Path, default=None, help="a run file (TOML)")
    run.add_argument("--resume", type=Path, default=None, metavar="CHECKPOINT",
                     help="continue the run saved in CHECKPOINT")
    run.add_argument("--checkpoint", type=Path, default=None,
                     help="save the run state here after every iteration")
    run.add_argument("--backend", default="statevector",
                     help="where energies are measured: statevector, aer, fake_<device>, "
                          "ibm:<name> or pennylane:<device>")
    run.add_argument("--mitigation", default=None, metavar="readout,zne",
                     help="error mitigation on circuit backends: readout, zne (zero-noise "
                          "extrapolation) or readout,zne")
    run.add_argument("--zne-scales", type=_odd_scales, default=None, metavar="1,3,5",
                     help="ZNE noise scale factors (odd integers; default 1,3,5)")
    run.add_argument("--zne-folding", choices=["global", "gates"], default=None,
                     help="ZNE folding: the whole circuit or its two-qubit gates (default: global)")
    run.add_argument("--zne-extrapolation", choices=["richardson", "linear", "exponential"],
                     default=None, help="ZNE extrapolation to zero noise (default: richardson)")
    run.add_argument("--ibm-mode", choices=["batch", "session"], default=None,
                     help="IBM Runtime execution mode for ibm:<name> backends (default: batch)")
    run.add_argument("--taper", action="store_true",
                     help="remove the Hamiltonian's Z2 symmetries (fewer qubits; use "
                          "--ansatz hardware_efficient)")
    run.add_argument("--ansatz", default="uccsd",
                     help="uccsd, hardware_efficient, or adapt (ADAPT-VQE: grows the circuit; "
                          "options with --ansatz-option)")
    run.add_argument("--ansatz-option", action="append", type=parse_option, default=[],
                     metavar="KEY=VALUE", help="an option of the ansatz, e.g. "
                     "--ansatz-option max_operators=8 (repeatable)")
    run.add_argument("--layers", type=int, default=None,
                     help="layers of the hardware-efficient ansatz (default: 2)")
    run.add_argument("--optimizer", default=AUTO,
                     help=f"optimizer name (see `qvopt optimizers`); auto: {DEFAULT_OPTIMIZER} "
                     f"({ADAPT_OPTIMIZER} for an exact --ansatz adapt run)")
    run.add_argument("-O", "--option", action="append", type=parse_option, default=[],
                     metavar="KEY=VALUE", help="optimizer option, e.g. -O lr=0.05 "
                     "-O 'schedule={name=\"step\", step_size=50}' (repeatable)")
    run.add_argument("--shots", type=parse_shots, default=AUTO,
                     help="shots per energy evaluation, split across the measurement groups "
                          f"by --allocation (per group with --allocation none); auto: "
                          f"{DEFAULT_SHOTS}, or 2 per group where a molecule has more than "
                          f"{DEFAULT_SHOTS // 2} groups; 1e4 "
                          "style allowed, or 'exact' for noiseless energies")
    run.add_argument("--allocation", choices=[AUTO, "none", "uniform", "weighted", "variance"],
                     default=AUTO,
                     help="how --shots is split across the measurement groups: auto "
                          f"({DEFAULT_ALLOCATION} when sampling, none with --shots exact), "
                          "uniform, weighted, variance, or none (--shots is then the shots "
                          "of every group)")
    run.add_argument("--maxiter", type=int, default=None,
                     help=f"maximum optimizer updates (default {DEFAULT_MAXITER})")
    run.add_argument("--shot-budget", type=int, default=None,
                     help="stop before exceeding this many shots")
    run.add_argument("--gtol", type=float, default=None,
                     help="stop when the estimated gradient norm is at most this")
    run.add_argument("--tol", type=parse_tol, default=AUTO, metavar="HARTREE",
                     help="stop when the measured gradient and curvature (energies, for "
                          "optimizers without a gradient) leave at most this to gain, at "
                          "95%% confidence; none: run to --maxiter; auto: 0.0016 (0.0005 "
                          "for each re-optimization and growth step of a sampled --ansatz "
                          "adapt run)")
    run.add_argument("--no-guard", action="store_true",
                     help="take every step, even ones measured worse than the best point "
                          "(default: such steps are undone and later steps halved)")
    run.add_argument("--final-precision", type=parse_precision, default=AUTO, metavar="HARTREE",
                     help="measure the final energy to this standard error in Ha, e.g. "
                          "0.0005 (its shots are charged and shown separately); auto: "
                          "0.0016 when sampling; none: one evaluation with --shots")
    run.add_argument("--seed", type=int, default=None,
                     help="random seed (default: none, drawn from the OS and recorded in the "
                          "result, so the run can be repeated)")
    run.add_argument("--initial-point", choices=[AUTO, "hf", "mp2"], default=AUTO,
                     help="starting parameters: auto (mp2 for --ansatz uccsd, else zeros), "
                          "hf (zeros) or mp2 (UCCSD double amplitudes from MP2)")
    run.add_argument("--device", default="CPU",
                     help="Aer device: CPU or GPU (needs qvopt[gpu])")
    run.add_argument("--engine", choices=["auto", "sector", "aer"], default="auto",
                     help="state simulation: sector (UCCSD/ADAPT particle-number sector, "
                          "fast), aer (any circuit), auto (sector when the circuit allows)")
    run.add_argument("--grouping", choices=[AUTO, *GROUPINGS], default=AUTO,
                     help="measurement groups: fc_split (fully commuting groups sharing "
                          "split coefficients: fewest shots), fc (fully commuting, measured "
                          "after a Clifford), sorted_insertion or dsatur (qubit-wise "
                          f"commuting: no extra gates); auto, for sampled runs with an "
                          f"allocation: {DEFAULT_GROUPING} up to 14 qubits on the statevector "
                          f"backend, {CIRCUIT_GROUPING} on circuit backends without ZNE; "
                          f"else {QWC_GROUPING}")
    run.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    run.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    run.add_argument("--dry-run", action="store_true",
                     help="print what the run would measure and cost; run nothing")


RESUME_KEEPS = {"--resume", "--maxiter", "--out", "--no-progress"}
CONFIG_KEEPS = {"--config", "--maxiter", "--out", "--no-progress", "--dry-run"}


def _conflicting_flags(typed: set[str], keep: set[str]) -> list[str]:
    """Flags typed on the command line that ``--resume``/``--config`` would ignore."""
    return sorted(flag for flag in typed if flag not in keep)


def _run_config(args, typed: set[str]):
    """The :class:`RunConfig` of ``qvopt run`` (flags, or a run file plus overrides)."""
    from ..config import RunConfig
    from ..errors import InputError

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
    from ..checkpoint import load, saved_config
    from ..errors import InputError

    extra = _conflicting_flags(typed, RESUME_KEEPS)
    if extra:
        raise InputError(f"--resume continues the saved run with its own settings; remove "
                         f"{extra} (only --maxiter, --out and --no-progress may be added)")
    meta, _ = load(args.resume)
    config = saved_config(meta, args.resume)
    # a checkpoint is passed around: the result goes where this command line says (--out)
    # or nowhere, never to a path stored in the file
    changes = {"result": args.out and str(args.out), "checkpoint": str(args.resume)}
    if args.maxiter is not None:
        changes["maxiter"] = args.maxiter
    return config.replace(**changes), meta["nit"]


def cmd_run(args, console: Console, typed: set[str]) -> int:
    from ..api import run
    from ..vqe import resume

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
    adapt = config.ansatz == "adapt"  # grows its circuit: no iteration count known ahead
    result = _with_progress(console, args.no_progress,
                            f"{'ADAPT-VQE' if adapt else 'VQE'} {label} ({config.optimizer})",
                            None if adapt else config.maxiter, execute)
    console.print(_summary_table(result))
    if checkpoint is not None:
        console.print(f"checkpoint: {escape(str(checkpoint))}", soft_wrap=True)
    if config.result is not None:
        save_result(console, config.result, result)
    return {5: EXIT_BACKEND, 4: EXIT_FAILED}.get(int(result.status), 0)


def save_result(console: Console, path, result) -> None:
    """Write the result JSON to ``path``; if that fails (a full disk), keep the finished
    result: write it to the temporary folder instead and say where, then fail with one
    line (exit 2) so scripts notice."""
    import os
    import tempfile
    import time

    from ..errors import OutputError
    from ..io import write_json_atomic

    try:
        write_json_atomic(path, result.to_dict())
    except OutputError as exc:
        fallback = Path(tempfile.gettempdir()) / (
            f"qvopt-result-{os.getpid()}-{time.strftime('%Y%m%dT%H%M%S')}.json")
        try:
            write_json_atomic(fallback, result.to_dict())
            kept = f"the result was written to {fallback} instead"
        except OutputError:
            kept = (f"the result could not be saved anywhere: energy {result.fun:.8f} ± "
                    f"{result.stderr:.2e} Ha after {result.nit} iterations")
        raise OutputError(f"{exc}; {kept}") from None
    console.print(f"result written to {escape(str(path))}", soft_wrap=True)


def _is_adapt(path) -> bool:
    from ..adapt import is_adapt_checkpoint

    return is_adapt_checkpoint(path)


def _resume_adapt(args, console: Console, typed: set[str]) -> int:
    """``--resume`` of an ADAPT-VQE checkpoint (its own format; grows to its limits)."""
    from ..adapt import resume_adapt
    from ..errors import InputError

    extra = _conflicting_flags(typed, RESUME_KEEPS - {"--maxiter"})
    if extra:
        raise InputError(f"--resume of an ADAPT run takes no other run flags; remove {extra}")
    result = _with_progress(console, args.no_progress, "ADAPT-VQE (resumed)", None,
                            lambda callback: resume_adapt(args.resume, callback=callback))
    console.print(_summary_table(result))
    if args.out is not None:
        save_result(console, args.out, result)
    return {5: EXIT_BACKEND, 4: EXIT_FAILED}.get(int(result.status), 0)


def _print_preview(console: Console, config) -> int:
    from ..preview import preview

    cost = preview(config)
    table = Table(title=escape(f"dry run: {cost['molecule']} with {cost['optimizer']} on "
                               f"{cost['backend']} (nothing was run)"))
    table.add_column("quantity")
    table.add_column("value", justify="right")
    shots = cost["shots"]
    table.add_row("shots", "exact" if shots is None else
                  f"{shots:,} per evaluation ({cost['allocation']})" if cost["allocation"]
                  else f"{shots:,} per group")
    table.add_row("initial point", cost["initial_point"])
    table.add_row("grouping", cost["grouping"])
    for key in ("qubits", "parameters", "groups", "points_per_iteration",
                "circuit_executions_per_iteration", "shots_per_evaluation",
                "shots_per_iteration", "shots_per_iteration_at_most", "iterations",
                "calibration_shots", "final_shots", "shots_per_run",
                "shots_per_run_at_most"):
        label = key.replace("_", " ") + {
            "shots_per_run": " (if every iteration cost the first)",
            "shots_per_iteration_at_most": " (at the optimizer's shot cap)",
            "shots_per_run_at_most": " (maxiter iterations at the cap; a converged run "
                                     "stops sooner)",
            "final_shots": " (est. at the start)"}.get(key, "")
        table.add_row(label, f"{cost[key]:,}")
    if cost["shots_per_run_expected"] is not None:
        low, high = cost["shots_per_run_range"]
        table.add_row("shots per run, expected (pilot of the expected-value path × its "
                      "measured noise factor; see qvopt.pilot)",
                      f"{cost['shots_per_run_expected']:,} (likely {low:.2g}–{high:.2g})")
        table.add_row("iterations, expected (pilot)", f"{cost['iterations_expected']:,}")
    if cost["gradient_seconds"] is not None:
        table.add_row(f"one gradient ({cost['points_per_iteration']} points): time, peak "
                      f"memory ({cost['cost_model']})",
                      f"{cost['gradient_seconds']:.2g} s, {cost['gradient_memory_gb']:.2g} GB")
    circuits = cost["device_circuits"]
    scales = sorted({c.get("scale", 1) for c in circuits or []})
    for scale in scales:  # one row pair per ZNE scale factor (only 1 without ZNE)
        these = [c for c in circuits if c.get("scale", 1) == scale]
        depths = [c["depth"] for c in these]
        gates = [c["two_qubit_gates"] for c in these]
        at = "" if len(scales) == 1 else f", noise scale {scale}"
        table.add_row(f"transpiled depth (min–max over groups{at})",
                      f"{min(depths)}–{max(depths)}")
        table.add_row(f"two-qubit gates (min–max{at})", f"{min(gates)}–{max(gates)}")
    console.print(table)
    return 0


def _with_progress(console: Console, disable: bool, description: str, total: int | None,
                   execute):
    """Run ``execute(callback)`` under a progress bar fed by the run's callback: iterations
    done (of ``total``, the iteration limit, when one is known), the latest measured energy
    ± its standard error, and the shots spent so far."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}{task.fields[of]} iterations"),
                        TextColumn("E = {task.fields[energy]}"),
                        TextColumn("{task.fields[shots]} shots"), TimeElapsedColumn(),
                        console=console, disable=disable, transient=False)
    with ShownOnFirstUpdate(console, disable, description, progress) as shown:
        task = progress.add_task(escape(description), total=total, energy="…", shots="0",
                                 of="" if total is None else f"/{total}")

        def callback(intermediate):
            shown.update(task, completed=intermediate.nit,
                         energy=f"{intermediate.fun:.6f} ± {intermediate.stderr:.1e}",
                         shots=f"{intermediate.shots_used:.2e}")

        result = execute(callback)
        shown.update(task, completed=result.nit, total=total or max(result.nit, 1))
    return result


def _summary_table(result) -> Table:
    from ..accuracy import CHEMICAL_ACCURACY_MHA

    allocation = result.get("allocation")
    shots = ("exact" if not result.shots else f"{result.shots} per evaluation ({allocation})"
             if allocation else f"{result.shots} per group")
    optimizer = str(result.optimizer)
    if optimizer.startswith(f"{result.ansatz}+"):  # ADAPT's "adapt+adam": say adam once
        optimizer = optimizer[len(result.ansatz) + 1:]
    table = Table(title=escape(f"VQE {result.molecule}: {result.ansatz} + {optimizer}, "
                               f"shots={shots}, backend={result.backend}"))
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
    hint = ansatz_hint(result)
    if hint:
        table.add_row("note", escape(hint))
    return table


def ansatz_hint(result) -> str:
    """A converged run further from FCI than chemical accuracy plus its own ``tol`` is at
    the ansatz's limit, not the optimizer's: say so, and what goes lower (ADAPT-VQE)."""
    from ..accuracy import CHEMICAL_ACCURACY_MHA

    tol = (result.get("config") or {}).get("tol")
    if int(result.status) != 0 or tol is None or result.get("ansatz") != "uccsd":
        return ""
    if result.error_mha <= CHEMICAL_ACCURACY_MHA + tol * 1e3:
        return ""
    return (f"converged {result.error_mha:.2f} mHa above FCI, more than chemical accuracy plus "
            f"tol: UCCSD's own optimum is that far here (strong correlation); ADAPT-VQE can "
            f"go lower: --ansatz adapt (README, ADAPT-VQE)")
