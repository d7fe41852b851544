"""``qvopt plot RESULT.json [-o OUT.png]``: one run's or one scan's plot.

The command lives here, above both plot families (:mod:`qvopt.plots` for a run,
:mod:`qvopt.scan.plot` for a scan), so neither imports the other.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from ..plots import plot_run, read_json


def add_plot_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``qvopt plot RESULT.json [-o OUT.png]`` to the CLI's ``subparsers``."""
    parser = subparsers.add_parser(
        "plot", help="plot one run's result JSON (or a scan's JSON) to PNG",
        description="Energy and error vs iteration and vs cumulative shots of one run "
                    "(`qvopt run --out result.json`), or a scan (`qvopt scan --out`).")
    parser.add_argument("result", type=Path, help="result JSON of `qvopt run --out` or "
                        "`qvopt scan --out`")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="PNG to write (default: the JSON's name with .png)")
    return parser


def cmd_plot(args: argparse.Namespace, console) -> int:
    """Run ``qvopt plot``: draw the PNG and print its path."""
    out = args.output or Path(args.result).with_suffix(".png")
    if out.suffix.lower() != ".png":
        raise InputError(f"-o/--output must be a .png file, got {str(out)!r}")
    if out.exists() and Path(args.result).exists() and out.samefile(args.result):
        raise InputError(f"-o/--output {str(out)!r} is the result JSON itself")
    data = read_json(args.result, "result")
    if "points" in data:
        from ..scan.plot import plot_scan

        path = plot_scan(data, out)
    else:
        path = plot_run(data, out)
    console.print(f"plot: {path}", soft_wrap=True)
    return 0
