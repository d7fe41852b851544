"""Composable update rules (optax style).

A :class:`GradientTransformation` is a pair of pure functions

    init(params) -> state
    update(updates, state, params, **extra) -> (new_updates, new_state)

``updates`` starts as the gradient ∇E(θ) and leaves the chain as the step Δθ that the
caller adds: ``θ ← θ + Δθ``. ``state`` is a small immutable NamedTuple; nothing is hidden
in objects. ``extra`` carries side information a rule may use (``value``: the estimated
energy at θ, for reduce-on-plateau). :func:`chain` applies rules left to right.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError

Schedule = Callable[[int], float]
ScalarOrSchedule = float | Schedule


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(updates, state, params, **extra)``."""

    init: Callable[[np.ndarray], Any]
    update: Callable[..., tuple[np.ndarray, Any]]


class EmptyState(NamedTuple):
    """State of a stateless rule."""


# The functional form: a ``count`` field declared in a class body shadows ``tuple.count``,
# which type checkers reject; the field keeps its name, under which checkpoints store it.
CountState = NamedTuple("CountState", [("count", int)])
CountState.__doc__ = "Number of updates applied so far (``t − 1`` during the ``t``-th update)."


def identity() -> GradientTransformation:
    """Passes updates through unchanged."""
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda updates, state, params=None, **extra: (updates, state))


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose rules: the output of ``transforms[k]`` is the input of ``transforms[k+1]``."""

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None, **extra):
        new_states = []
        for transform, sub_state in zip(transforms, state, strict=True):
            updates, sub_state = transform.update(updates, sub_state, params, **extra)
            new_states.append(sub_state)
        return updates, tuple(new_states)

    return GradientTransformation(init, update)


def _describe_bound(low: float | None, high: float | None, low_open: bool,
                    high_open: bool, integer: bool) -> str:
    if integer:
        if high is None:
            return "a positive integer" if low == 1 else f"an integer >= {low:g}"
        return f"an integer in [{low:g}, {high:g}]"
    if low is None and high is None:
        return "a finite number"
    if high is None:
        bound = f"{'>' if low_open else '>='} {low:g}"
    else:
        bound = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    return f"{bound} (a finite number)"


def check_number(name: str, value: Any, low: float | None = None, high: float | None = None,
                 *, low_open: bool = False, high_open: bool = False, integer: bool = False,
                 none_ok: bool = False) -> Any:
    """Validate the numeric option ``name`` and return it (``float``, or ``int`` if ``integer``).

    Convention: a number is a finite real that is not a bool; ints are accepted where floats
    are; ``integer=True`` accepts only ints. ``low``/``high`` bound it (closed unless
    ``low_open``/``high_open``). ``None`` passes through when ``none_ok``. Otherwise raises
    :class:`InputError` ``"option NAME must be BOUND, got VALUE"`` (the registry puts the
    optimizer's name in front).
    """
    if value is None and none_ok:
        return value
    is_real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    ok = is_real and math.isfinite(value)
    if ok and integer:
        ok = isinstance(value, numbers.Integral)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        expected = _describe_bound(low, high, low_open, high_open, integer)
        expected += " or None" if none_ok else ""
        raise InputError(f"option {name} must be {expected}, got {value!r}")
    return int(value) if integer else float(value)


def check_flag(name: str, value: Any) -> bool:
    """Validate the boolean option ``name`` (``True``/``False`` only, not 0/1 or strings)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"option {name} must be true or false, got {value!r}")
    return bool(value)


def as_schedule(value: ScalarOrSchedule, name: str = "lr") -> Schedule:
    """A constant (a finite number > 0) becomes ``lambda step: value``; a callable is kept."""
    if callable(value):
        return value
    constant = check_number(name, value, 0.0, low_open=True)
    return lambda step: constant


def scale_by_learning_rate(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """``u ← −η_t · u`` with ``η_t = learning_rate(t − 1)`` at the ``t``-th update.

    Schedules are functions of the number of updates already applied (0 for the first).
    """
    schedule = as_schedule(learning_rate)

    def update(updates, state, params=None, **extra):
        return -schedule(state.count) * updates, CountState(state.count + 1)

    return GradientTransformation(lambda params: CountState(0), update)


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """``u ← u + λθ`` (L2 penalty when placed before a scaling rule; decoupled after it)."""
    weight_decay = check_number("weight_decay", weight_decay, 0.0)

    def update(updates, state, params=None, **extra):
        if weight_decay == 0.0:
            return updates, state
        return updates + weight_decay * params, state

    return GradientTransformation(lambda params: EmptyState(), update)


def apply_updates(params: np.ndarray, updates: np.ndarray) -> np.ndarray:
    """``θ + Δθ``."""
    return np.asarray(params, dtype=float) + updates
