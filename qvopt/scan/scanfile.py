"""Scan files: a run file (see :mod:`qvopt.config`) plus a ``[scan]`` table.

::

    molecule = "h2"                  # shipped name or path (relative to this file)
    shots = 1000                     # any run setting: seed, maxiter, allocation, …
    seed = 7
    [optimizer]
    name = "adam"

    [scan]
    bond = "0.5:2.5:0.25"            # or a list [0.5, 0.75, 1.0]
    atoms = [0, 1]                   # optional (default 0, 1)
    # angle = "95:115:5"             # degrees; atoms = [i, vertex, k], default [1, 0, 2]
    # geometries = [[[0, 0, 0], [0, 0, 0.7]], [[0, 0, 0], [0, 0, 0.8]]]
    warm_start = true                # optional (default true)
    store = "scan.sqlite"            # optional: resumable store
    out = "scan.json"                # optional: JSON, CSV and PNG

Exactly one of ``bond``, ``angle``, ``geometries``. Errors are
:class:`~qvopt.errors.RunFileError` naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, RunFileError
from ..io import output_path_in_file, read_toml, reject_unknown_keys
from ..runfile import TOP_KEYS, run_settings
from .coordinates import KINDS

SCAN_KEYS = {*KINDS, "atoms", "warm_start", "store", "out"}


def load_scan_file(path: str | Path) -> dict:
    """``{molecule, coordinate, values, atoms, warm_start, store, out, settings}`` of a
    scan file; ``settings`` are the run settings (checked when the scan starts)."""
    path = Path(path)
    data = read_toml(path, "scan file", error=RunFileError)
    reject_unknown_keys(data, (TOP_KEYS - {"output"}) | {"scan"}, path, error=RunFileError)
    for key in ("molecule", "scan"):
        if key not in data:
            raise RunFileError(f"{path}: missing key {key!r}")
    table = data["scan"]
    if not isinstance(table, dict):
        raise RunFileError(f"{path}: [scan] must be a table, got {table!r}")
    reject_unknown_keys(table, SCAN_KEYS, path, "scan.", error=RunFileError)
    kinds = [k for k in KINDS if k in table]
    if len(kinds) != 1:
        raise RunFileError(f"{path}: [scan] needs exactly one of {['scan.' + k for k in KINDS]}"
                           f", got {['scan.' + k for k in kinds]}")
    warm = table.get("warm_start", True)
    if not isinstance(warm, bool):
        raise RunFileError(f"{path}: key 'scan.warm_start' must be true or false, got {warm!r}")
    return {"molecule": _relative(path, "molecule", data["molecule"], always=False),
            "coordinate": kinds[0], "values": table[kinds[0]], "atoms": table.get("atoms"),
            "warm_start": warm, "store": _output(path, "scan.store", table.get("store")),
            "out": _output(path, "scan.out", table.get("out")),
            "settings": run_settings(data, path)}


def _output(path: Path, key: str, value) -> str | None:
    """An output path of the file: relative, inside the file's folder (:mod:`qvopt.io`)."""
    return None if value is None else output_path_in_file(path, key, value, RunFileError)


def _relative(path: Path, key: str, value, always: bool = True) -> str | None:
    """A path given in the file, made relative to the file's folder; with ``always``
    False (a molecule) only when it looks like a path, not a shipped name."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RunFileError(f"{path}: key {key!r} must be a path string, got {value!r}")
    candidate = Path(value)
    if always or candidate.suffix == ".toml" or "/" in value:
        return str(candidate if candidate.is_absolute() else path.parent / candidate)
    return value


def scan_file_error(path: str | Path, exc: InputError) -> RunFileError:
    """An error of a scan file's content, naming the file (and its key)."""
    name = getattr(exc, "field", None)
    where = f"key {name!r}: " if name and name not in str(exc).split(":")[0] else ""
    error = RunFileError(f"{path}: {where}{exc}")
    error.field = name
    return error
