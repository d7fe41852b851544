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

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

Schedule = Callable[[int], float]
ScalarOrSchedule = float | Schedule


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(updates, state, params, **extra)``."""

    init: Callable[[np.ndarray], Any]
    update: Callable[..., tuple[np.ndarray, Any]]


class EmptyState(NamedTuple):
    """State of a stateless rule."""


class CountState(NamedTuple):
    """Number of updates applied so far (``t − 1`` during the ``t``-th update)."""

    count: int


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


def as_schedule(value: ScalarOrSchedule, name: str = "lr") -> Schedule:
    """A constant becomes ``lambda step: value``; a callable is returned as it is."""
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number or a schedule, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    constant = float(value)
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
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")

    def update(updates, state, params=None, **extra):
        if weight_decay == 0.0:
            return updates, state
        return updates + weight_decay * params, state

    return GradientTransformation(lambda params: EmptyState(), update)


def apply_updates(params: np.ndarray, updates: np.ndarray) -> np.ndarray:
    """``θ + Δθ``."""
    return np.asarray(params, dtype=float) + updates
