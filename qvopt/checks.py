"""Small validators shared by the run description (:mod:`qvopt.config`) and the layers below
it (:mod:`qvopt.minimize`): one wording for "must be …, got …" errors."""

from __future__ import annotations

import numbers
from typing import Any

from .errors import InputError

__all__ = ["check_int", "field_error"]


def field_error(name: str, expected: str, value: Any) -> InputError:
    """``InputError("<name> must be <expected>, got <value>")`` with ``.field = name``."""
    error = InputError(f"{name} must be {expected}, got {value!r}")
    error.field = name
    return error


def check_int(name: str, value: Any, minimum: int, optional: bool = False,
              maximum: int | None = None) -> int | None:
    """An integer ≥ ``minimum`` (floats with integral values accepted; bools are not ints)."""
    if value is None and optional:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value) if abs(value) < 2**63 else value
    bound = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    bound += f" (at most {maximum:.0e})" if maximum else ""
    expected = bound + (" or None" if optional else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or int(value) < minimum:
        raise field_error(name, expected, value)
    if maximum is not None and int(value) > maximum:
        raise field_error(name, expected, value)
    return int(value)
