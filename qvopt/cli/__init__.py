"""The ``qvopt`` command: run VQE on a molecule, compare optimizers, report studies.

    qvopt run h2                                  # VQE with the defaults, summary table:
                                                  # icans, 1000 shots per evaluation
                                                  # (variance allocation), MP2 start
    qvopt run lih_fc --optimizer rmsprop -O lr=0.05 --shots 2000 --allocation none
    qvopt run my_molecule.fcidump                 # integrals written by PySCF, Molpro, …
    qvopt run --config run.toml                   # a run file (see qvopt.config)
    qvopt run --resume run.ckpt                   # continue an interrupted run
    qvopt compare h2 --optimizers adam,spsa --shots 100,1000 --seeds 5
    qvopt report study.sqlite                     # tables and plots of a study

Errors in what you give (a molecule, an option, a file) print one line and exit with 2;
Ctrl-C exits with 130 and leaves the last checkpoint intact.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from rich.console import Console
from rich.markup import escape

from ..errors import QvoptError
from .common import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    HelpFormatter,
    parse_option,
    parse_shots,
)

__all__ = ["main", "parse_option", "parse_shots"]


class OneLineErrors(argparse.ArgumentParser):
    """A parser whose usage errors are one line (no usage block) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Every sub-command's parser (each command module adds its own)."""
    from .. import __version__
    from .info import add_info_parsers
    from .plot import add_plot_parser
    from .run import add_run_parser
    from .scan import add_scan_parser
    from .study import add_study_parsers

    parser = OneLineErrors(
        prog="qvopt", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Variational quantum optimization with honest shot noise.",
        epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--version", action="version", version=f"qvopt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=OneLineErrors)
    add_run_parser(sub, HelpFormatter)
    add_study_parsers(sub, HelpFormatter)
    add_info_parsers(sub)
    add_scan_parser(sub)
    add_plot_parser(sub)
    return parser


def _commands(args, console: Console, typed: set[str]) -> dict:
    """Sub-command name → a call running it (imports only the one that runs)."""
    from . import info, run, study
    from .plot import cmd_plot
    from .scan import cmd_scan

    return {
        "run": lambda: run.cmd_run(args, console, typed),
        "molecules": lambda: info.cmd_molecules(console),
        "optimizers": lambda: info.cmd_optimizers(console),
        "cache": lambda: info.cmd_cache(args, console),
        "compare": lambda: study.cmd_compare(args, console),
        "report": lambda: study.cmd_report(args, console),
        "scan": lambda: cmd_scan(args, console),
        "plot": lambda: cmd_plot(args, console),
    }


def _typed_flags(parser: argparse.ArgumentParser, command: str, argv: list[str]) -> set[str]:
    """The options of ``command`` typed in ``argv`` (long names; MOLECULE if given)."""
    commands = next(action for action in parser._actions  # noqa: SLF001 (no public API)
                    if isinstance(action, argparse._SubParsersAction))  # noqa: SLF001
    sub = commands.choices[command]
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
    (checkpoint intact), 130 interrupted by Ctrl-C, 143/129 stopped by SIGTERM/SIGHUP
    (``run`` and ``scan``: one line, checkpoint intact). Anything else that goes
    wrong is a bug in qvopt and keeps its traceback.
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    console = Console()
    err = Console(stderr=True)
    typed = _typed_flags(parser, args.command, argv) | (
        {"MOLECULE"} if getattr(args, "molecule", None) else set())
    try:
        with _signals_as_interrupts(args.command in ("run", "scan")):
            return _commands(args, console, typed)[args.command]()
    except QvoptError as exc:
        err.print(f"[bold red]error:[/] {escape(command_line_words(str(exc)))}",
                  soft_wrap=True)
        return EXIT_INPUT
    except Terminated as exc:
        err.print(f"stopped by {exc.name}; the last checkpoint, if any, is intact",
                  soft_wrap=True)
        return 128 + exc.signum
    except KeyboardInterrupt:
        err.print("interrupted (Ctrl-C); the last checkpoint, if any, is intact",
                  soft_wrap=True)
        return EXIT_INTERRUPTED


#: Python's words in messages shared with the API, as a command-line user says them
_CLI_WORDS = ((" or None (exact)", " or 'exact'"), ("=None", "=none"),
              (" or None", " (or left out)"), ("'auto' (or left out)", "'auto' or 'none'"))


def command_line_words(message: str) -> str:
    """``message`` without Python's ``None``: "… or None" (a setting that may be left out)
    reads "(or left out)", shots' "or None (exact)" reads "or 'exact'"."""
    for python, plain in _CLI_WORDS:
        message = message.replace(python, plain)
    return message


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP during ``qvopt run``/``scan``: unwinds like Ctrl-C (temporary
    files removed, checkpoint intact), then exits with 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


@contextlib.contextmanager
def _signals_as_interrupts(enabled: bool):
    """SIGTERM/SIGHUP raise :class:`Terminated` while the block runs (main thread only)."""
    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
