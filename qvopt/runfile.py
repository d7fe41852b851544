"""Run files: one TOML file describing a VQE run → a validated :class:`~qvopt.config.RunConfig`.

The file's form is documented in :mod:`qvopt.config`. This module only maps the TOML
tables (``[optimizer]``, ``[backend]``, ``[output]``, an ``ansatz`` table) onto the
configuration's fields; every value is then checked by ``RunConfig`` itself, so a run file,
the CLI and a study share one set of defaults and one set of checks. Unknown keys anywhere
are rejected with the key named; paths in the file are relative to the file.
"""

from __future__ import annotations

from pathlib import Path

from .errors import RunFileError
from .io import output_path_in_file, read_toml, reject_unknown_keys

PLAIN_KEYS = ("shots", "allocation", "seed", "maxiter", "shot_budget", "gtol", "tol",
              "guard", "device", "engine", "grouping", "taper", "initial_point",
              "final_precision")
TOP_KEYS = {"molecule", "ansatz", "optimizer", "backend", "output", *PLAIN_KEYS}
OUTPUT_KEYS = {"result", "checkpoint"}


def _named_table(data: dict, key: str, path: Path) -> tuple[str, dict]:
    """``key = "name"`` or ``[key] name = "…", options…`` → ``(name, options)``."""
    value = data[key]
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict):
        raise RunFileError(f"{path}: key {key!r} must be a name or a table, got {value!r}")
    table = dict(value)
    if "name" not in table:
        raise RunFileError(f"{path}: key '{key}.name' is missing")
    return table.pop("name"), table


def run_settings(data: dict, path: Path) -> dict:
    """The run settings of a parsed run (or scan) file: its plain keys, and the
    ``[ansatz]``, ``[optimizer]`` and ``[backend]`` tables as names and options. A key or
    table the file leaves out is left out here too, so ``RunConfig`` applies its default
    (this module never imports the configuration it feeds)."""
    settings = {key: data[key] for key in PLAIN_KEYS if key in data}
    for key in ("ansatz", "optimizer", "backend"):
        if key in data:
            settings[key], settings[f"{key}_options"] = _named_table(data, key, path)
    return settings


def run_file_settings(path: str | Path) -> dict:
    """The ``RunConfig`` keyword arguments a run file gives (not yet validated); a key the
    file leaves out keeps ``RunConfig``'s default."""
    path = Path(path)
    data = read_toml(path, "run file", error=RunFileError)
    reject_unknown_keys(data, TOP_KEYS, path, error=RunFileError)
    if "molecule" not in data:
        raise RunFileError(f"{path}: missing key 'molecule'")
    settings = {"molecule": data["molecule"], **run_settings(data, path)}
    output = data.get("output", {})
    if not isinstance(output, dict):
        raise RunFileError(f"{path}: [output] must be a table, got {output!r}")
    reject_unknown_keys(output, OUTPUT_KEYS, path, "output.", error=RunFileError)
    for key, value in output.items():
        settings[key] = output_path_in_file(path, f"output.{key}", value, RunFileError)
    return settings
