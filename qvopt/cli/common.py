"""Shared pieces of the command line: value parsers, the help formatter, exit codes."""

from __future__ import annotations

import argparse
import tomllib

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


def hartree_parser(flag: str, expected: str):
    """A parser for a flag that takes an energy in Ha, ``auto`` or ``none`` (→ None); the
    number is checked by :class:`~qvopt.config.RunConfig`."""

    def parse(text: str) -> float | str | None:
        word = text.strip().lower()
        if word in ("auto", "none"):
            return None if word == "none" else word
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be {expected}, 'auto' or 'none', "
                                             f"got {text!r}") from None

    return parse


#: ``--final-precision``: a standard error (Ha), ``auto`` or ``none``.
parse_precision = hartree_parser("--final-precision", "a standard error in Ha (e.g. 0.0016)")
#: ``--tol``: the convergence test's tolerance (Ha), ``auto`` or ``none``.
parse_tol = hartree_parser("--tol", "an energy in Ha (e.g. 0.001)")


def parse_shots(text: str) -> int | str | None:
    """``exact``/``none`` → None; ``auto`` kept; ``1000``, ``1e6`` → a positive integer
    (checked)."""
    from ..config import check_shots

    if text.strip().lower() in ("exact", "none"):
        return None
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return check_shots(value)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"--shots must be a positive integer, 'auto' or 'exact' (got {text!r})") from None


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default unless it is None or False (nothing to show)."""

    def _get_help_string(self, action):
        if action.default in (None, False, []) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class ShownOnFirstUpdate:
    """A rich ``Progress`` shown from its first update on; until then a transient
    "setting up …" spinner, which clears itself, so that an error found while setting up
    (no GPU, an empty scan range) stands alone on its line instead of under an empty bar.

        with ShownOnFirstUpdate(console, disable, "VQE h2", progress) as shown:
            task = progress.add_task(...)
            shown.update(task, completed=3)
    """

    def __init__(self, console, disable: bool, what: str, progress):
        self.progress, self.started = progress, False
        self.status = None if disable else console.status(f"setting up {what} …")

    def __enter__(self):
        if self.status is not None:
            self.status.start()
        return self

    def update(self, task, **fields) -> None:
        if not self.started:
            if self.status is not None:
                self.status.stop()
            self.progress.start()
            self.started = True
        self.progress.update(task, **fields)

    def __exit__(self, *exc) -> None:
        if self.started:
            self.progress.stop()
        elif self.status is not None:
            self.status.stop()


def fitting_table(console, title: str, columns, rows, caption: str | None = None,
                  styles=None):
    """A rich table of ``rows`` under ``columns`` (numbers right-aligned; ``styles``: one
    rich style or None per row) that never cuts a number: when the widest word of every
    column (+3 for padding and rule) does not fit the console, one two-column block per
    row (column name, value) instead."""
    from rich.table import Table

    cells = [[str(c) for c in row] for row in rows]
    styles = list(styles) if styles is not None else [None] * len(cells)

    def longest_word(texts) -> int:
        return max((len(word) for text in texts for word in str(text).split()), default=1)

    need = 1 + sum(3 + longest_word([name, *(row[k] for row in cells)])
                   for k, name in enumerate(columns))
    if need <= console.width:
        table = Table(title=title, caption=caption)
        for name in columns:
            table.add_column(name, justify="right")
        for row, style in zip(cells, styles, strict=True):
            table.add_row(*row, style=style)
        return table
    table = Table(title=title, caption=caption, show_header=False)
    table.add_column("quantity", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    for number, (row, style) in enumerate(zip(cells, styles, strict=True)):
        if number:
            table.add_section()
        for name, value in zip(columns, row, strict=True):
            table.add_row(name, value, style=style)
    return table

