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

The container (``meta`` JSON + numeric arrays, :func:`write_archive`/:func:`read_archive`)
and its checks (format, version, molecule digest, ledger, iteration count, elapsed time)
are shared with the ADAPT-VQE checkpoint of :mod:`qvopt.adapt`: each kind is one
:class:`ArchiveKind` and adds only its own fields.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CheckpointError, InputError
from .io import signals_deferred, write_bytes_atomic

FORMAT = "qvopt-checkpoint"
VERSION = 2
RECORD_KEYS = ("iteration", "energy", "stderr", "shots", "shots_used", "time")
LEDGER_KEYS = ("shots_used", "executions", "evaluations")
# meta fields of every checkpoint kind (see ArchiveKind), with their JSON types
#: State fields added since checkpoints of that state were first written: a file without
#: them resumes with their initial values; any other missing field is an error.
ADDED_FIELDS = {"CANSState": frozenset({"curvature"})}
COMMON_FIELDS = {"molecule_sha256": str, "nit": int, "elapsed": float, "ledger": dict}


@dataclass(frozen=True)
class ArchiveKind:
    """One kind of checkpoint in the shared container (see :func:`read_archive`).

    ``name`` is how messages call it ("checkpoint", "ADAPT checkpoint"); ``format`` and
    ``version`` are the values its ``meta`` must carry; ``fields`` the meta fields (and
    their JSON types) it has beyond :data:`COMMON_FIELDS`; ``arrays`` the numeric arrays
    every file of this kind holds.
    """

    name: str
    format: str
    version: int
    fields: dict[str, type]
    arrays: tuple[str, ...]


CHECKPOINT = ArchiveKind("checkpoint", FORMAT, VERSION,
                         {"config": dict, "random_state": dict, "optimizer_state": dict,
                          "records": list}, ("x", "last_gradient"))


def molecule_digest(molecule: str) -> str:
    """SHA-256 of the molecule file behind a shipped name or a path (with the FCIDUMP it
    names: :func:`~qvopt.chem.molecule.content_digest`), or the operator digest of an
    ``operator:<sha256>`` name (:mod:`qvopt.chem.operators`)."""
    from .chem.molecule import content_digest, read_molecule_file
    from .chem.problem import OPERATOR_PREFIX

    if molecule.startswith(OPERATOR_PREFIX):
        return molecule[len(OPERATOR_PREFIX):]
    return content_digest(read_molecule_file(molecule))


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
        added = ADDED_FIELDS.get(type(template).__name__, frozenset())
        if not isinstance(fields, dict) or not set(fields) <= set(template._fields) \
                or not set(template._fields) - set(fields) <= added:
            raise CheckpointError(f"checkpoint field {where!r} has fields "
                                  f"{sorted(fields or {})}, expected {list(template._fields)}")
        # a field added to a state since files were written (ADDED_FIELDS) keeps its
        # initial value: round 2's iCANS state had no running curvature
        return type(template)(**{f: decode_state(fields[f], getattr(template, f), arrays,
                                                 f"{where}.{f}") if f in fields
                                 else getattr(template, f) for f in template._fields})
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
        entries = template if isinstance(template, dict) else {}
        return {k: decode_state(v, entries.get(k), arrays, f"{where}.{k}")
                for k, v in table.items()}
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


# ---------------------------------------------------------------- the shared container
def write_archive(path: str | Path, kind: ArchiveKind, meta: dict,
                  arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` stamped with ``kind``'s format and version (as one JSON string, field
    ``meta``) and ``arrays`` into one ``.npz`` at ``path``, atomically (temporary file +
    rename)."""
    meta = {**meta, "format": kind.format, "version": kind.version}
    with signals_deferred():  # a stop signal lands after the write: the file is whole
        buffer = io.BytesIO()
        payload: dict[str, Any] = {"meta": np.array(json.dumps(meta)), **arrays}
        np.savez(buffer, **payload)
        write_bytes_atomic(path, buffer.getvalue())


#: The most a checkpoint may unpack to (bytes): real ones are kilobytes to a few megabytes
#: (history × parameters); a larger one is refused before anything is loaded.
MAX_ARCHIVE_BYTES = 256 * 2**20


def _check_members(path: Path, kind: ArchiveKind) -> None:
    """Before loading: the members of the ``.npz`` together unpack to at most
    :data:`MAX_ARCHIVE_BYTES` (read from the zip directory, nothing decompressed)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except FileNotFoundError:
        return  # reported by the loader with the usual message
    except (OSError, zipfile.BadZipFile):
        raise CheckpointError(f"{path} is not a readable qvopt {kind.name} (not an .npz "
                              "archive)") from None
    total = sum(member.file_size for member in members)
    if total > MAX_ARCHIVE_BYTES:
        raise CheckpointError(f"{path}: the {kind.name} unpacks to {total / 2**20:.0f} MiB, "
                              f"more than the {MAX_ARCHIVE_BYTES // 2**20} MiB a qvopt "
                              f"{kind.name} can hold; refused before loading")


def read_archive(path: str | Path, kind: ArchiveKind) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a ``kind`` checkpoint (read with ``allow_pickle=False``: no
    code is loaded), its format, version, common fields and ``kind``'s fields and arrays
    checked; anything wrong is a :class:`CheckpointError` naming the file and the field."""
    path = Path(path)
    label = f"qvopt {kind.name}"
    if path.is_dir():
        raise CheckpointError(f"{kind.name} {str(path)!r} is a directory, expected a file")
    _check_members(path, kind)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise CheckpointError(f"{kind.name} {str(path)!r} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"{path} is not a readable {label} (truncated, or not "
                              f"written by qvopt: {type(exc).__name__})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise CheckpointError(f"{path} is not a readable {label} (field 'meta' "
                              "missing or not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != kind.format:
        raise CheckpointError(f"{path} is not a {label} (format {kind.format})")
    if meta.get("version") != kind.version:
        raise CheckpointError(f"{path}: {kind.name} version {meta.get('version')!r} is not "
                              f"supported (this qvopt reads version {kind.version})")
    for key, expected in {**COMMON_FIELDS, **kind.fields}.items():
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(
                value, (int, float) if expected is float else expected):
            raise CheckpointError(f"{path}: checkpoint field {key!r} must be "
                                  f"{expected.__name__}, got {value!r}")
    for key in LEDGER_KEYS:
        value = meta["ledger"].get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckpointError(f"{path}: checkpoint field 'ledger.{key}' must be an "
                                  "integer >= 0")
    if meta["nit"] < 0:
        raise CheckpointError(f"{path}: checkpoint field 'nit' must be >= 0, got "
                              f"{meta['nit']}")
    if not math.isfinite(meta["elapsed"]) or meta["elapsed"] < 0:
        raise CheckpointError(f"{path}: checkpoint field 'elapsed' must be a finite number "
                              ">= 0")
    require_arrays(arrays, kind.arrays, path)
    return meta, arrays


def require_arrays(arrays: dict[str, np.ndarray], keys, path: str | Path) -> None:
    """A CheckpointError naming the file and the first of ``keys`` missing from ``arrays``
    or not numeric."""
    for key in keys:
        if key not in arrays:
            raise CheckpointError(f"{path}: checkpoint field {key!r} is missing")
        if arrays[key].dtype.kind not in "biuf":
            raise CheckpointError(f"{path}: checkpoint field {key!r} must be numeric, got "
                                  f"dtype {arrays[key].dtype}")


def ledger_meta(ledger) -> dict[str, int]:
    """The counts of a :class:`~qvopt.estimation.base.ShotLedger` for a checkpoint."""
    return {key: getattr(ledger, key) for key in LEDGER_KEYS}


def restore_ledger(ledger, meta: dict) -> None:
    """Put the counts saved by :func:`ledger_meta` (checked by :func:`read_archive`) back."""
    for key in LEDGER_KEYS:
        setattr(ledger, key, meta["ledger"][key])


def check_molecule(molecule: str, meta: dict, path: str | Path, problem=None) -> None:
    """Refuse to resume when the molecule file changed since the checkpoint was written,
    or, for a run on an operator, unless the same operator is given as ``problem``."""
    from .chem.problem import OPERATOR_PREFIX

    if molecule.startswith(OPERATOR_PREFIX):
        if problem is None:
            raise CheckpointError(
                f"{path}: this run's Hamiltonian was given as an operator, which a checkpoint "
                "does not hold: resume it from Python with qvopt.resume(checkpoint, "
                "problem=qvopt.problem_from_operator(op, …))")
        if getattr(problem, "source", None) != molecule:
            raise CheckpointError(f"{path}: the problem given is not the operator this run "
                                  "was started on (its digest differs); refusing to resume")
        return
    if molecule_digest(molecule) != meta["molecule_sha256"]:
        raise CheckpointError(f"{path}: the molecule file {molecule!r} changed since this "
                              "checkpoint was written; refusing to resume on a different "
                              "molecule")


# ---------------------------------------------------------------- the VQE checkpoint
def save(path: str | Path, config, loop, state, estimator, digest: str,
         earlier_final_shots: int = 0) -> None:
    """Write the run after ``loop.nit`` iterations to ``path`` (atomically).
    ``earlier_final_shots``: shots of final-energy measurements made after this point by
    runs that ended and were resumed (:func:`note_final_shots`); not in the ledger, which
    stays that of the iteration so a resumed run continues bit for bit."""
    arrays: dict[str, np.ndarray] = {}
    meta = {
        "config": config.to_dict(), "earlier_final_shots": int(earlier_final_shots),
        "molecule_sha256": digest, "nit": loop.nit, "elapsed": loop.clock(),
        "ledger": ledger_meta(estimator.ledger),
        "random_state": estimator.random_state(),
        "optimizer_state": encode_state(state, arrays),
        "records": [[r.iteration, float(r.value.value), float(r.value.stderr),
                     int(r.value.shots), r.shots_used, r.time] for r in loop.records],
    }
    n = estimator.n_params
    arrays["x"] = np.array([r.x for r in loop.records]).reshape(-1, n)
    arrays["last_gradient"] = (np.full(0, np.nan) if loop.last_gradient is None
                               else np.asarray(loop.last_gradient, dtype=float))
    write_archive(path, CHECKPOINT, meta, arrays)


def load(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a checkpoint, checked field by field (no code is loaded)."""
    meta, arrays = read_archive(path, CHECKPOINT)
    _check_records(meta, arrays, Path(path))
    spent = meta.setdefault("earlier_final_shots", 0)  # absent before round 3
    if isinstance(spent, bool) or not isinstance(spent, int) or spent < 0:
        raise CheckpointError(f"{path}: checkpoint field 'earlier_final_shots' must be an "
                              f"integer >= 0, got {spent!r}")
    return meta, arrays


def note_final_shots(path: str | Path, shots: int) -> None:
    """Add the shots of a final-energy measurement to the checkpoint's
    ``earlier_final_shots`` (everything else unchanged), so a run resumed from it knows
    what was spent after its last iteration."""
    meta, arrays = load(path)
    meta["earlier_final_shots"] += int(shots)
    write_archive(path, CHECKPOINT, meta, arrays)


def _check_records(meta: dict, arrays: dict, path: Path) -> None:
    """What only the VQE checkpoint has: records, iterates and the last gradient agree."""
    records = meta["records"]
    if arrays["x"].ndim != 2 or len(arrays["x"]) != len(records):
        raise CheckpointError(f"{path}: checkpoint field 'x' does not match 'records'")
    for i, row in enumerate(records):
        if not isinstance(row, list) or len(row) != len(RECORD_KEYS) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise CheckpointError(f"{path}: checkpoint field 'records[{i}]' must be "
                                  f"{len(RECORD_KEYS)} numbers {list(RECORD_KEYS)}")
    if meta["nit"] != len(records):
        raise CheckpointError(f"{path}: checkpoint field 'nit' ({meta['nit']}) must equal "
                              f"the number of recorded iterations ({len(records)})")
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
    restore_ledger(estimator.ledger, meta)
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
