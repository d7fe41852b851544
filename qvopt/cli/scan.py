"""``qvopt scan``: the command line of :func:`qvopt.scan.scan`.

    qvopt scan h2 --bond 0.5:2.5:0.1                       # scan_h2_bond.{json,csv,png,sqlite}
    qvopt scan h2 --bond 0.5:2.5:0.25 --shots 1000 --out scan.json --store scan.sqlite
    qvopt scan h2o --angle 95:115:5 --atoms 1,0,2 --maxiter 60
    qvopt scan --config scan.toml                           # a scan file (qvopt.scan.scanfile)

Re-running the same command resumes: finished points come from the store.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from ..io import check_distinct_files
from ..scan.core import CHEMICAL_ACCURACY_MHA, ScanResult, scan
from .common import ShownOnFirstUpdate, fitting_table, parse_precision

RUN_FLAGS = {"optimizer": "--optimizer", "shots": "--shots", "allocation": "--allocation",
             "final_precision": "--final-precision",
             "seed": "--seed", "maxiter": "--maxiter", "ansatz": "--ansatz",
             "backend": "--backend", "device": "--device", "shot_budget": "--shot-budget",
             "grouping": "--grouping"}
KEEP_WITH_CONFIG = {"out", "store", "no_plot", "no_progress", "config", "command"}


def add_scan_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``qvopt scan`` to the CLI's ``subparsers``; returns its parser."""
    from ..estimation.partition import GROUPINGS
    from .common import parse_option, parse_shots

    parser = subparsers.add_parser(
        "scan", help="potential-energy scan: VQE along a bond length or angle",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run VQE at every geometry of a scan (warm-started from the previous "
                    "point, resumable from its store); print a table and write JSON, CSV "
                    "and a PNG.", epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("molecule", nargs="?", help="a shipped molecule name or a .toml file")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--bond", default=None, metavar="START:STOP:STEP",
                      help="bond lengths (file unit, Å by default): start:stop:step (stop "
                           "included) or a,b,c")
    what.add_argument("--angle", default=None, metavar="START:STOP:STEP",
                      help="angles in degrees (atoms i,vertex,k)")
    what.add_argument("--config", type=Path, default=None, metavar="SCAN_FILE",
                      help="a scan file (TOML: run settings plus a [scan] table)")
    parser.add_argument("--atoms", default=None,
                        help="atom indices: i,j for a bond (default 0,1), i,vertex,k for an "
                             "angle (default 1,0,2); atom j (or k) moves")
    parser.add_argument("--optimizer", default=argparse.SUPPRESS,
                        help="optimizer name (default: qvopt run's, icans)")
    parser.add_argument("-O", "--option", action="append", type=parse_option, default=[],
                        metavar="KEY=VALUE", help="optimizer option (repeatable)")
    parser.add_argument("--shots", type=parse_shots, default=argparse.SUPPRESS,
                        help="shots per energy evaluation, split across the measurement "
                             "groups by --allocation (per group with --allocation none), or "
                             "'exact' (default 1000)")
    parser.add_argument("--allocation", choices=["auto", "none", "uniform", "weighted",
                                                 "variance"],
                        default=argparse.SUPPRESS, help="how --shots are split across "
                        "measurement groups (default auto: variance; none: --shots per group)")
    parser.add_argument("--grouping", choices=["auto", *GROUPINGS], default=argparse.SUPPRESS,
                        help="measurement groups (as qvopt run --grouping); each point "
                             "records the grouping it used")
    parser.add_argument("--seed", type=int, default=argparse.SUPPRESS,
                        help="random seed of the scan")
    parser.add_argument("--maxiter", type=int, default=argparse.SUPPRESS,
                        help="optimizer updates per point (default 40 with warm start, "
                             "120 without)")
    parser.add_argument("--final-precision", type=parse_precision, default=argparse.SUPPRESS,
                        metavar="HA", help="standard error (Ha) of each point's final "
                        "energy (default 0.0016 for sampled runs; 'none' for one plain "
                        "estimate)")
    parser.add_argument("--ansatz", default=argparse.SUPPRESS,
                        help="uccsd (default) or hardware_efficient")
    parser.add_argument("--backend", default=argparse.SUPPRESS,
                        help="statevector (default), aer, …")
    parser.add_argument("--device", default=argparse.SUPPRESS, help="Aer device: CPU or GPU")
    parser.add_argument("--shot-budget", type=int, default=argparse.SUPPRESS, help="per point")
    parser.add_argument("--no-warm-start", action="store_true",
                        help="start every point from the run's initial point (MP2 for "
                             "uccsd, else θ = 0) instead of the previous point's result")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON to write (CSV and PNG beside it); default "
                             "scan_<molecule>_<coordinate>.json")
    parser.add_argument("--store", type=Path, default=None,
                        help="resumable store (default: --out with .sqlite)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def cmd_scan(args: argparse.Namespace, console) -> int:
    """Run ``qvopt scan``: the scan, its table, and the files; 0 when done."""
    request = _request(args)
    out = Path(request.pop("out") or _default_out(request))
    store = request.pop("store") or out.with_suffix(".sqlite")
    molecule = Path(request["molecule"])
    check_distinct_files([  # the JSON, its CSV and plot, the store, the molecule file
        ("molecule file", molecule if molecule.is_file() else None), ("--out", out),
        ("CSV", out.with_suffix(".csv")), ("plot", out.with_suffix(".png")),
        ("--store", store)])
    result = _with_progress(console, args.no_progress, request, store)
    console.print(scan_table(result, console))
    for line in summary_lines(result):
        console.print(line, soft_wrap=True, markup=False)
    for path in result.write(out, plot=not args.no_plot):
        console.print(f"written: {path}", soft_wrap=True, markup=False)
    console.print(f"store: {store} (re-run the same command to resume)", soft_wrap=True,
                  markup=False)
    return 0


# ------------------------------------------------------------------ arguments → request
def _request(args: argparse.Namespace) -> dict:
    """``scan`` keyword arguments (plus ``out``, ``store``) from the flags or a scan file."""
    if args.config is not None:
        return _file_request(args)
    if args.molecule is None:
        raise InputError("give a MOLECULE and --bond or --angle, or --config SCAN_FILE")
    if args.bond is None and args.angle is None:
        raise InputError("give --bond START:STOP:STEP or --angle START:STOP:STEP "
                         "(or --config SCAN_FILE)")
    kind = "bond" if args.bond is not None else "angle"
    settings = {name: getattr(args, name) for name in RUN_FLAGS if hasattr(args, name)}
    if args.option:
        settings["optimizer_options"] = dict(args.option)
    return {"molecule": args.molecule, "coordinate": kind,
            "values": args.bond if kind == "bond" else args.angle,
            "atoms": parse_atoms(args.atoms), "warm_start": not args.no_warm_start,
            "settings": settings, "out": args.out, "store": args.store}


def _file_request(args: argparse.Namespace) -> dict:
    from ..scan.scanfile import load_scan_file

    given = sorted(f"--{k.replace('_', '-')}" if k != "molecule" else "MOLECULE"
                   for k, v in vars(args).items()
                   if k not in KEEP_WITH_CONFIG and (k in RUN_FLAGS or v not in (None, False,
                                                                                   [])))
    if given:
        raise InputError(f"--config takes its settings from the scan file; remove {given} "
                         "(only --out, --store, --no-plot and --no-progress may be added)")
    request = load_scan_file(args.config)
    request["out"] = args.out or request["out"]
    request["store"] = args.store or request["store"]
    request["config_file"] = args.config
    return request


def parse_atoms(text: str | None) -> tuple[int, ...] | None:
    """``"0,1"`` → ``(0, 1)``; None stays None."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--atoms: expected comma-separated atom indices such as 0,1, got "
                         f"{text!r}") from None


def _default_out(request: dict) -> Path:
    return Path(f"scan_{Path(str(request['molecule'])).stem}_{request['coordinate']}.json")


def _flag(request: dict, field: str | None) -> str | None:
    """The flag (or scan-file key) an error's ``field`` came from."""
    key = field or ""  # no field: the file alone, and no flag
    if request.get("config_file") is not None:
        names = {"values": f"scan.{request['coordinate']}", "atoms": "scan.atoms"}
        return f"{request['config_file']}: " + names.get(key, key)
    names = {"values": f"--{request['coordinate']} {request['values']}", "atoms": "--atoms",
             "optimizer_options": "-O", **RUN_FLAGS}
    return names.get(key)


def run_request(request: dict, store, progress=None) -> ScanResult:
    """Call :func:`scan` for a request; an :class:`InputError` names the flag or key."""
    try:
        return scan(request["molecule"], request["coordinate"], request["values"],
                    atoms=request["atoms"], warm_start=request["warm_start"], store=store,
                    progress=progress, **request["settings"])
    except InputError as exc:
        where = _flag(request, getattr(exc, "field", None))
        if not where:
            raise
        message = str(exc)
        field = getattr(exc, "field", None)
        if field and message.startswith(f"{field}: "):
            message = message[len(field) + 2:]
        error = type(exc)(f"{where}: {message}")
        error.field = field
        raise error from exc


# ------------------------------------------------------------------ terminal output
def _with_progress(console, disable: bool, request: dict, store) -> ScanResult:
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total}"),
                   TextColumn("{task.fields[last]}"), TimeElapsedColumn(),
                   console=console, disable=disable)
    name = Path(str(request["molecule"])).stem
    description = f"scan {name} {request['coordinate']}"
    with ShownOnFirstUpdate(console, disable, description, bar) as shown:
        task = bar.add_task(escape(description), total=None, last="")

        def progress(done: int, total: int, record: dict | None) -> None:
            last = "" if record is None else _progress_text(record)
            shown.update(task, completed=done, total=total, last=escape(last))

        return run_request(request, store, progress)


def _progress_text(record: dict) -> str:
    error = record.get("error_mha")
    tail = "" if error is None else f", error {error:.2f} mHa"
    return f"{record['value']:g}: E = {record['energy']:.5f}{tail}"


def scan_table(result: ScanResult, console):
    """A rich table: one row per point (error: noiseless error of the final θ vs FCI), in
    red outside chemical accuracy; stacked per point when the console is too narrow."""
    rows, styles = [], []
    for p in result.points:
        fci, error = p["e_fci"], p["error_mha"]
        styles.append(None if error is None or abs(error) <= CHEMICAL_ACCURACY_MHA else "red")
        rows.append((f"{p['value']:g}", f"{p['energy']:.5f}", f"{p['stderr'] * 1e3:.1f}",
                     "skipped" if fci is None else f"{fci:.5f}", f"{p['e_hf']:.5f}",
                     "-" if error is None else f"{error:.3f}", f"{p['shots_used']:.3g}",
                     str(p["nit"])))
    return fitting_table(
        console, f"scan {Path(result.molecule).stem}: {result.coordinate.label}",
        ("value", "E VQE", "± mHa", "E FCI", "E HF", "err mHa", "shots", "iters"), rows,
        caption="energies in Ha; err: noiseless error of the final θ vs FCI", styles=styles)


def summary_lines(result: ScanResult) -> list[str]:
    """Equilibrium, accuracy, cost and resume lines under the table."""
    lines = [_equilibrium_line(result)]
    errors = [abs(p["error_mha"]) for p in result.points if p["error_mha"] is not None]
    if errors:
        inside = sum(e <= CHEMICAL_ACCURACY_MHA for e in errors)
        lines.append(f"{inside}/{len(errors)} points within chemical accuracy "
                     f"({CHEMICAL_ACCURACY_MHA} mHa); largest error {max(errors):.3f} mHa")
    lines.append(f"{result.shots_used:,} shots in all; {len(result.points)} points, "
                 f"{result.reused} from the store; {result.wall_time:.1f} s")
    lines += [f"note: {note}" for note in result.notes]
    return lines


def _equilibrium_line(result: ScanResult) -> str:
    fit = result.equilibrium
    if fit is None:
        return "equilibrium: not fitted (a list of geometries has no coordinate)"
    if fit["value"] is None:
        return f"equilibrium: {fit['note']}"
    unit = {"angstrom": "Å", "degree": "°"}.get(result.coordinate.unit, result.coordinate.unit)
    return (f"equilibrium {result.coordinate.label}: {fit['value']:.4f} ± "
            f"{fit['uncertainty']:.4f} {unit} ({fit['method']} fit over "
            f"{fit['window'][0]:g}–{fit['window'][1]:g}; shot noise ± {fit['stderr']:.4f}, "
            f"grid ± {fit['model_spread']:.4f}); E_min {fit['energy']:.6f} Ha"
            + ("" if fit.get("energy_vs_reference_mha") is None else
               f" ({fit['energy_vs_reference_mha']:+.2f} ± "
               f"{fit['energy_vs_reference_stderr_mha']:.2f} mHa vs FCI's)")
            + (f"\nnote: {fit['note']}" if fit.get("note") else ""))
