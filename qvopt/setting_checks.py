"""Checks of a run's settings, one field at a time: each returns the value a
:class:`~qvopt.config.RunConfig` stores (``"auto"`` resolved with :mod:`qvopt.run_defaults`,
``"none"``/``"exact"`` spelled as None, paths made absolute) or raises an
:class:`~qvopt.errors.InputError` naming the field (``err.field``).

They serve the run description and the layers that build settings of their own (the CLI's
argument types, studies): one wording and one set of bounds for every entry point.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

from .checks import field_error
from .errors import InputError
from .run_defaults import (
    ALLOCATIONS,
    DEFAULT_ALLOCATION,
    DEFAULT_FINAL_PRECISION,
    DEFAULT_TOL,
    INITIAL_POINTS,
    MIN_FINAL_PRECISION,
    default_grouping,
    default_initial_point,
    is_auto,
)

__all__ = ["check_allocation", "check_choice", "check_grouping", "check_gtol",
           "check_molecule", "check_output", "check_point", "check_precision", "check_shots",
           "check_table", "check_tol", "is_operator_name"]


def check_shots(value: Any, name: str = "shots") -> int | None:
    """``None``/``"exact"`` (exact energies) or a positive integer of at most
    :data:`~qvopt.estimation.base.MAX_SHOTS` (the estimator's own check, with ``field``)."""
    from .estimation.base import validate_shots

    if isinstance(value, str) and value.strip().lower() in ("exact", "none"):
        return None
    try:
        return validate_shots(value, name)
    except InputError as exc:
        exc.field = name
        raise


def check_choice(name: str, value: Any, choices: tuple, optional: bool = False) -> Any:
    """``value`` if it is one of ``choices`` (or None when ``optional``)."""
    if value is None and optional:
        return None
    if value not in choices:
        raise field_error(name, f"one of {list(choices)}" + (" or None" if optional else ""),
                          value)
    return value


def check_table(name: str, value: Any) -> dict:
    """A copy of the options table ``value`` (None: no options)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise field_error(name, "a table of options (dict)", value)
    return dict(value)


def check_grouping(value: Any, backend: Any = "statevector", ansatz: str = "uccsd",
                   sampled: bool = True, allocated: bool = True, zne: bool = False) -> str:
    """``"auto"`` → :func:`~qvopt.run_defaults.default_grouping` for the run's backend,
    ansatz, mode, allocation and mitigation; otherwise one of the estimator's groupings."""
    from .estimation.partition import GROUPINGS

    if is_auto(value):
        return default_grouping(backend, ansatz, sampled, allocated, zne)
    return check_choice("grouping", value, GROUPINGS)


def is_operator_name(text: str) -> bool:
    """``operator:<64 hex digits>``: see :mod:`qvopt.chem.operators`."""
    from .chem.problem import OPERATOR_PREFIX

    digest = text[len(OPERATOR_PREFIX):]
    return text.startswith(OPERATOR_PREFIX) and len(digest) == 64 and all(
        c in "0123456789abcdef" for c in digest)


def check_molecule(molecule: Any, base: Path | None = None) -> str:
    """A shipped name, or a molecule file path made absolute (relative to ``base``)."""
    from .chem.molecule import known_molecules, read_molecule_file

    if not isinstance(molecule, (str, Path)) or not str(molecule):
        raise field_error("molecule", "a shipped molecule name, a .toml molecule file or an "
                          "FCIDUMP file path", molecule)
    text = str(molecule)
    if is_operator_name(text):  # a Hamiltonian given as an operator (qvopt.vqe(op, …))
        return text
    path = Path(text)
    if path.suffix in (".toml", ".fcidump") or "/" in text or (path.exists() and text not in
                                                 known_molecules()):
        if not path.is_absolute() and base is not None:
            path = base / path
        text = str(path.resolve())
    read_molecule_file(text)  # unknown molecule / malformed file → MoleculeFileError
    return text


def check_gtol(value: Any) -> float | None:
    """None (no gradient-norm stop) or a finite gradient norm >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0:
        raise field_error("gtol", "a finite number >= 0 or None", value)
    return float(value)


def check_tol(value: Any) -> float | None:
    """``"auto"`` → :data:`DEFAULT_TOL`; None/``"none"`` → no convergence test; else an
    improvement in Ha > 0 (see :mod:`qvopt.guard`)."""
    if is_auto(value):
        return DEFAULT_TOL
    if value is None or isinstance(value, str) and value.strip().lower() == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise field_error("tol", "an energy in Ha > 0 (e.g. 0.001), 'auto' or None", value)
    return float(value)


def check_precision(value: Any, shots: int | None) -> float | None:
    """None (``"none"``: one evaluation with the run's shots), a standard error target > 0
    (Ha) for the final energy of a sampled run, or ``"auto"``:
    :data:`DEFAULT_FINAL_PRECISION` when sampling (ADAPT included), None in exact mode."""
    if is_auto(value):
        return None if shots is None else DEFAULT_FINAL_PRECISION
    if value is None or isinstance(value, str) and value.strip().lower() == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise field_error("final_precision", "a standard error in Ha > 0 (e.g. 0.0016), "
                          "'auto' or None", value)
    if shots is None:
        raise field_error("final_precision", "None in exact mode (shots='exact' energies "
                          "have no error)", value)
    if value < MIN_FINAL_PRECISION:
        raise field_error("final_precision", f"at least {MIN_FINAL_PRECISION:g} Ha (a "
                          "standard error ε needs ~ (σ₁/ε)² shots, σ₁ the one-shot spread of "
                          "order 1 Ha: 1e-5 Ha is already ~1e10 shots)", value)
    return float(value)


def check_allocation(value: Any, shots: int | None) -> str | None:
    """``"auto"`` → ``"variance"`` when sampling, None in exact mode; None/``"none"`` → None
    (shots per group); else one of :data:`ALLOCATIONS`, which needs ``shots``."""
    if is_auto(value):
        return None if shots is None else DEFAULT_ALLOCATION
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    if value is not None and value not in ALLOCATIONS:
        raise field_error("allocation", f"one of {list(ALLOCATIONS)}, 'auto' or None",
                          value)
    if value is not None and shots is None:
        raise field_error("allocation", "None when shots is exact (allocation splits a "
                          "number of shots)", value)
    return value


def check_point(value: Any, ansatz: str = "uccsd") -> tuple[float, ...] | str | None:
    """``"auto"`` (:func:`default_initial_point`), None/"hf" (zeros: the Hartree–Fock
    state), "mp2" (UCCSD only), or real numbers."""
    if is_auto(value):
        return default_initial_point(ansatz)
    if value is None:
        return None
    if isinstance(value, str):
        if value.lower() not in INITIAL_POINTS:
            raise field_error("initial_point", f"one of {list(INITIAL_POINTS)}, 'auto', "
                              "None or a list of numbers", value)
        return value.lower()
    try:
        items = list(value)
    except TypeError:
        raise field_error("initial_point", "a list of real numbers", value) from None
    for item in items:
        if isinstance(item, (bool, complex)) or not isinstance(item, numbers.Real) \
                or not math.isfinite(item):
            raise field_error("initial_point", "a list of finite real numbers (no NaN or inf)",
                              value)
    return tuple(float(v) for v in items)


def check_output(name: str, value: Any) -> str | None:
    """A file path that is not a directory and whose folder can be created."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise field_error(name, "a file path (string)", value)
    path = Path(value)
    if path.is_dir():
        error = field_error(f"{name} path", "a file, not a directory", str(value))
        error.field = name
        raise error
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise field_error(name, "a path inside a folder (its parent is a file)", str(value))
    if not os.access(parent, os.W_OK):
        raise field_error(name, f"a path in a folder you can write ({parent} is not "
                          "writable)", str(value))
    return str(path)
