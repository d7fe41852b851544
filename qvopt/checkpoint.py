"""Checkpoints of a VQE run: data only (one ``.npz``, no pickle), enough to continue exactly.

After every iteration the driver writes, atomically (temporary file + rename), one NumPy
``.npz`` archive read back with ``allow_pickle=False``:

* ``meta`` — a JSON document: format and version, the :class:`~qvopt.config.RunConfig`,
  the SHA-256 of the molecule file, the iteration count, elapsed time, the shot ledger,
  the estimator's random-stream states and allocation estimates, the optimizer state's
  structure, and one entry per recorded point of the history;
* ``x`` (records × parameters) — the iterates of the history; ``last_gradient``;
  ``state.N`` — the arrays of the optimizer state.

The optimizer state (a tree of NamedTuples, tuples, dicts, arrays and scalars) is stored
field by field and rebuilt on the structure of a freshly initialised state of the same
optimizer, so nothing in the file names a Python class to construct. Anything missing,
mistyped or truncated is a :class:`~qvopt.errors.CheckpointError` naming the field.
Credentials are never part of a checkpoint.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import numbers
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CheckpointError, InputError
from .io import write_bytes_atomic

FORMAT = "qvopt-checkpoint"
VERSION = 2
META_TYPES = {"format": str, "version": int, "config": dict, "molecule_sha256": str,
              "nit": int, "elapsed": float, "ledger": dict, "random_state": dict,
              "optimizer_state": dict, "records": list}
RECORD_KEYS = ("iteration", "energy", "stderr", "shots", "shots_used", "time")


def molecule_digest(molecule: str) -> str:
    """SHA-256 of the molecule file behind a shipped name or a path."""
    from .chem.molecule import resolve_molecule_path

    return hashlib.sha256(resolve_molecule_path(molecule).read_bytes()).hexdigest()


# ---------------------------------------------------------------- optimizer state as data
def encode_state(value: Any, arrays: dict[str, np.ndarray]) -> dict:
    """A JSON tree for ``value``; arrays go to ``arrays`` under ``state.N`` keys."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"namedtuple": type(value).__name__,
                "fields": {f: encode_state(getattr(value, f), arrays) for f in value._fields}}
    if isinstance(value, (tuple, list)):
        return {"sequence": [encode_state(v, arrays) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise InputError("optimizer state dicts need string keys to be checkpointed")
        return {"dict": {k: encode_state(v, arrays) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise InputError("optimizer state holds an object array: cannot checkpoint")
        key = f"state.{len(arrays)}"
        arrays[key] = value
        return {"array": key}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, numbers.Real, str)):
        return {"value": value}
    raise InputError(f"cannot checkpoint an optimizer state value of type "
                     f"{type(value).__name__}")


def decode_state(node: Any, template: Any, arrays, where: str = "optimizer_state") -> Any:
    """Rebuild a value from :func:`encode_state`'s tree on ``template``'s structure."""
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise CheckpointError(f"checkpoint field {where!r} is malformed")
    expected = _kind(template)
    if expected is not None and expected not in node:
        raise CheckpointError(f"checkpoint field {where!r} must hold a {expected}, got "
                              f"{sorted(node)}")
    if "namedtuple" in node:
        if not (isinstance(template, tuple) and hasattr(template, "_fields")) \
                or node["namedtuple"] != type(template).__name__:
            raise CheckpointError(f"checkpoint field {where!r} holds a "
                                  f"{node['namedtuple']!r} state, expected "
                                  f"{type(template).__name__!r} for this optimizer")
        fields = node.get("fields")
        if not isinstance(fields, dict) or set(fields) != set(template._fields):
            raise CheckpointError(f"checkpoint field {where!r} has fields "
                                  f"{sorted(fields or {})}, expected {list(template._fields)}")
        return type(template)(**{f: decode_state(fields[f], getattr(template, f), arrays,
                                                 f"{where}.{f}") for f in template._fields})
    if "sequence" in node:
        items = node["sequence"]
        like = template if isinstance(template, (tuple, list)) else [None] * len(items)
        if not isinstance(items, list) or len(items) != len(like):
            raise CheckpointError(f"checkpoint field {where!r} has the wrong length")
        out = [decode_state(n, t, arrays, f"{where}[{i}]")
               for i, (n, t) in enumerate(zip(items, like, strict=True))]
        return type(template)(out) if isinstance(template, (tuple, list)) else tuple(out)
    if "dict" in node:
        table = node["dict"]
        if not isinstance(table, dict):
            raise CheckpointError(f"checkpoint field {where!r} is malformed")
        like = template if isinstance(template, dict) else {}
        return {k: decode_state(v, like.get(k), arrays, f"{where}.{k}") for k, v in table.items()}
    if "array" in node:
        return _decode_array(node["array"], template, arrays, where)
    if "value" in node:
        return _decode_scalar(node["value"], template, where)
    raise CheckpointError(f"checkpoint field {where!r} is malformed")


def _kind(template: Any) -> str | None:
    """The node kind a template value is stored as (None: anything may be there)."""
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return "namedtuple"
    if isinstance(template, (tuple, list)):
        return "sequence"
    if isinstance(template, dict):
        return "dict"
    return None


def _decode_array(key: Any, template: Any, arrays: dict, where: str) -> np.ndarray:
    """A numeric array, of the template's shape when the template holds one."""
    if not isinstance(key, str) or key not in arrays:
        raise CheckpointError(f"checkpoint field {where!r}: array {key!r} is missing")
    value = np.array(arrays[key])
    if value.dtype.kind not in "biuf":
        raise CheckpointError(f"checkpoint field {where!r} must be numeric, got dtype "
                              f"{value.dtype}")
    if isinstance(template, np.ndarray) and value.shape != template.shape:
        raise CheckpointError(f"checkpoint field {where!r} has shape {value.shape}, expected "
                              f"{template.shape}")
    if template is not None and not isinstance(template, np.ndarray):
        raise CheckpointError(f"checkpoint field {where!r} is an array, expected "
                              f"{type(template).__name__}")
    return value


def _decode_scalar(value: Any, template: Any, where: str) -> Any:
    """A JSON scalar of the template's kind (int, float — an int is accepted — str, bool)."""
    if template is None or isinstance(template, np.ndarray):
        if value is None or (isinstance(value, (int, float, str)) and template is None):
            return value
        raise CheckpointError(f"checkpoint field {where!r} must be an array, got {value!r}")
    if isinstance(template, np.generic):
        template = template.item()
    kind = type(template)
    ok = (isinstance(value, bool) if kind is bool else
          isinstance(value, int) and not isinstance(value, bool) if kind is int else
          isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float
          else isinstance(value, kind))
    if not ok:
        raise CheckpointError(f"checkpoint field {where!r} must be {kind.__name__}, got "
                              f"{value!r}")
    return float(value) if kind is float else value


# ---------------------------------------------------------------- write and read
def save(path: str | Path, config, loop, state, estimator, digest: str) -> None:
    """Write the run after ``loop.nit`` iterations to ``path`` (atomically)."""
    arrays: dict[str, np.ndarray] = {}
    ledger = estimator.ledger
    meta = {
        "format": FORMAT, "version": VERSION, "config": config.to_dict(),
        "molecule_sha256": digest, "nit": loop.nit, "elapsed": loop.clock(),
        "ledger": {"shots_used": ledger.shots_used, "executions": ledger.executions,
                   "evaluations": ledger.evaluations},
        "random_state": estimator.random_state(),
        "optimizer_state": encode_state(state, arrays),
        "records": [[r.iteration, float(r.value.value), float(r.value.stderr),
                     int(r.value.shots), r.shots_used, r.time] for r in loop.records],
    }
    n = estimator.n_params
    arrays["x"] = np.array([r.x for r in loop.records]).reshape(-1, n)
    arrays["last_gradient"] = (np.full(0, np.nan) if loop.last_gradient is None
                               else np.asarray(loop.last_gradient, dtype=float))
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
    write_bytes_atomic(path, buffer.getvalue())


def load(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a checkpoint, checked field by field (no code is loaded)."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {str(path)!r} is a directory, expected a file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"{path} is not a readable qvopt checkpoint (truncated, or not "
                              f"written by qvopt: {type(exc).__name__})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise CheckpointError(f"{path} is not a readable qvopt checkpoint (field 'meta' "
                              "missing or not JSON)") from None
    _check_meta(meta, arrays, path)
    return meta, arrays


def _check_meta(meta: Any, arrays: dict, path: Path) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a qvopt checkpoint (format {FORMAT})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {meta.get('version')!r} is not "
                              f"supported (this qvopt reads version {VERSION})")
    for key, kind in META_TYPES.items():
        value = meta.get(key)
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise CheckpointError(f"{path}: checkpoint field {key!r} must be "
                                  f"{kind.__name__}, got {value!r}")
    for key in ("x", "last_gradient"):
        if key not in arrays:
            raise CheckpointError(f"{path}: checkpoint field {key!r} is missing")
    records = meta["records"]
    if arrays["x"].ndim != 2 or len(arrays["x"]) != len(records):
        raise CheckpointError(f"{path}: checkpoint field 'x' does not match 'records'")
    for i, row in enumerate(records):
        if not isinstance(row, list) or len(row) != len(RECORD_KEYS) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise CheckpointError(f"{path}: checkpoint field 'records[{i}]' must be "
                                  f"{len(RECORD_KEYS)} numbers {list(RECORD_KEYS)}")
    ledger = meta["ledger"]
    for key in ("shots_used", "executions", "evaluations"):
        value = ledger.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckpointError(f"{path}: checkpoint field 'ledger.{key}' must be an "
                                  "integer >= 0")
    if meta["nit"] < 0 or meta["nit"] != len(records):
        raise CheckpointError(f"{path}: checkpoint field 'nit' ({meta['nit']}) must equal "
                              f"the number of recorded iterations ({len(records)})")
    if not math.isfinite(meta["elapsed"]) or meta["elapsed"] < 0:
        raise CheckpointError(f"{path}: checkpoint field 'elapsed' must be a finite number "
                              ">= 0")
    for key in ("x", "last_gradient"):
        if arrays[key].dtype.kind not in "biuf":
            raise CheckpointError(f"{path}: checkpoint field {key!r} must be numeric")
    gradient = arrays["last_gradient"]
    if gradient.ndim != 1 or gradient.size not in (0, arrays["x"].shape[1]):
        raise CheckpointError(f"{path}: checkpoint field 'last_gradient' has shape "
                              f"{gradient.shape}, expected one value per parameter")


def saved_config(meta: dict, path: str | Path):
    """The run's :class:`~qvopt.config.RunConfig`, or a CheckpointError naming the field."""
    from .config import RunConfig

    try:
        return RunConfig.from_dict(meta["config"])
    except InputError as exc:
        raise CheckpointError(f"{path}: checkpoint field 'config' is invalid: {exc}"
                              ) from None


def restore(meta: dict, arrays: dict, loop, estimator, template: Any) -> Any:
    """Put the saved run into a fresh ``loop``/``estimator``; returns the optimizer state."""
    from .driver import Record
    from .estimation.base import Estimate

    try:
        estimator.set_random_state(meta["random_state"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint field 'random_state' is malformed ({exc})") from None
    ledger = estimator.ledger
    ledger.shots_used = meta["ledger"]["shots_used"]
    ledger.executions = meta["ledger"]["executions"]
    ledger.evaluations = meta["ledger"]["evaluations"]
    if arrays["x"].shape[1:] != (estimator.n_params,):
        raise CheckpointError(f"checkpoint field 'x' has {arrays['x'].shape[1]} parameters, "
                              f"the circuit has {estimator.n_params}")
    loop.records[:] = [Record(int(it), x, Estimate(float(e), float(s), int(sh)), int(used), t)
                       for (it, e, s, sh, used, t), x in zip(meta["records"], arrays["x"],
                                                             strict=True)]
    loop.nit, loop.elapsed = meta["nit"], float(meta["elapsed"])
    gradient = arrays["last_gradient"]
    loop.last_gradient = None if gradient.size == 0 else np.array(gradient)
    return decode_state(meta["optimizer_state"], template, arrays)
