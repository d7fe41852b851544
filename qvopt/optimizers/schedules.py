"""Learning-rate schedules: plain functions of ``k``, the number of updates already applied.

``k = 0`` at the first update. The formulas follow PyTorch's ``lr_scheduler`` classes of
the same name when stepped once per update. Reduce-on-plateau depends on the measured
energy, so it is a rule of the chain (:func:`scale_by_plateau`), not a function of ``k``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .base import GradientTransformation, ScalarOrSchedule, Schedule, as_schedule, check_number


def _lr(lr) -> float:
    return check_number("lr", lr, 0.0, low_open=True)


def _count(name: str, value, low: int = 1) -> int:
    return check_number(name, value, low, integer=True)


def _positive(name: str, value) -> float:
    return check_number(name, value, 0.0, low_open=True)


def constant(lr: float) -> Schedule:
    """``η_k = lr``."""
    return as_schedule(lr)


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``η_k = lr · γ^⌊k / step_size⌋`` (PyTorch ``StepLR``)."""
    lr, step_size, gamma = _lr(lr), _count("step_size", step_size), _positive("gamma", gamma)
    return lambda k: lr * gamma ** (k // step_size)


def exponential_decay(lr: float, gamma: float) -> Schedule:
    """``η_k = lr · γ^k`` (PyTorch ``ExponentialLR``)."""
    lr, gamma = _lr(lr), _positive("gamma", gamma)
    return lambda k: lr * gamma**k


def cosine_warm_restarts(lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
                         ) -> Schedule:
    """SGDR (Loshchilov & Hutter 2017; PyTorch ``CosineAnnealingWarmRestarts``).

    ``η_k = η_min + ½(lr − η_min)(1 + cos(π T_cur / T_i))`` where the ``i``-th period has
    length ``T_i = T_0 · T_mult^i`` and ``T_cur`` counts updates since the last restart.
    """
    lr, T_0, T_mult = _lr(lr), _count("T_0", T_0), _count("T_mult", T_mult)
    eta_min = check_number("eta_min", eta_min, 0.0)

    def schedule(k: int) -> float:
        t_cur, t_i = k, T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= T_mult
        return eta_min + 0.5 * (lr - eta_min) * (1.0 + math.cos(math.pi * t_cur / t_i))

    return schedule


def one_cycle(max_lr: float, total_steps: int, pct_start: float = 0.3,
              div_factor: float = 25.0, final_div_factor: float = 1e4) -> Schedule:
    """One-cycle policy (Smith 2018; PyTorch ``OneCycleLR``, cosine annealing, two phases).

    From ``η₀ = max_lr / div_factor`` up to ``max_lr`` at ``k₁ = pct_start·total_steps − 1``,
    then down to ``η₀ / final_div_factor`` at ``k₂ = total_steps − 1``, each phase following
    ``cos_anneal(a, b, p) = b + ½(a − b)(1 + cos πp)``. Constant after ``k₂``.
    """
    max_lr, total_steps = _lr(max_lr), _count("total_steps", total_steps)
    pct_start = check_number("pct_start", pct_start, 0.0, 1.0, low_open=True, high_open=True)
    div_factor = _positive("div_factor", div_factor)
    final_div_factor = _positive("final_div_factor", final_div_factor)
    initial = max_lr / div_factor
    final = initial / final_div_factor
    k1 = float(pct_start * total_steps) - 1
    k2 = float(total_steps - 1)

    def anneal(a: float, b: float, p: float) -> float:
        return b + 0.5 * (a - b) * (1.0 + math.cos(math.pi * p))

    def schedule(k: int) -> float:
        if k <= k1:
            return anneal(initial, max_lr, k / k1 if k1 > 0 else 1.0)
        if k <= k2:
            return anneal(max_lr, final, (k - k1) / (k2 - k1))
        return final

    return schedule


def linear_warmup(lr: ScalarOrSchedule, warmup_steps: int, start_factor: float = 0.1
                  ) -> Schedule:
    """Linear warm-up in front of any schedule (PyTorch ``LinearLR`` up to factor 1).

    ``η_k = base(k) · (f₀ + (1 − f₀) · min(k, W) / W)``, ``W = warmup_steps``,
    ``f₀ = start_factor``.
    """
    warmup_steps = _count("warmup_steps", warmup_steps)
    start_factor = check_number("start_factor", start_factor, 0.0, 1.0)
    base = as_schedule(lr)
    return lambda k: base(k) * (start_factor + (1 - start_factor) * min(k, warmup_steps)
                                / warmup_steps)


class PlateauState(NamedTuple):
    scale: float
    best: float
    bad_steps: int
    cooldown_left: int


def scale_by_plateau(factor: float = 0.5, patience: int = 10, threshold: float = 1e-3,
                     cooldown: int = 0, min_scale: float = 0.0) -> GradientTransformation:
    """Reduce-on-plateau, driven by the estimated energy passed as ``value``.

    A step *improves* when ``value < best − threshold`` (absolute, in Ha: set it to a few
    standard errors of the energy so shot noise does not count as progress). After more
    than ``patience`` consecutive non-improving steps the scale is multiplied by
    ``factor`` (not below ``min_scale``), the count restarts, and ``cooldown`` steps pass
    before counting again (PyTorch ``ReduceLROnPlateau``, mode "min", threshold "abs").
    Updates are multiplied by the current scale; place it just before the learning rate.
    """
    factor = check_number("factor", factor, 0.0, 1.0, low_open=True, high_open=True)
    patience, cooldown = _count("patience", patience, 0), _count("cooldown", cooldown, 0)
    threshold = check_number("threshold", threshold, 0.0)
    min_scale = check_number("min_scale", min_scale, 0.0)

    def update(updates, state, params=None, value=None, **extra):
        if value is None or not np.isfinite(value):
            raise ValueError("reduce-on-plateau needs the estimated energy (value=...)")
        scale, best, bad, cool = state
        if value < best - threshold:
            best, bad = float(value), 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            scale = max(scale * factor, min_scale)
            bad, cool = 0, cooldown
        return updates * scale, PlateauState(scale, best, bad, cool)

    return GradientTransformation(lambda params: PlateauState(1.0, math.inf, 0, 0), update)


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential_decay,
    "cosine_restarts": cosine_warm_restarts,
    "one_cycle": one_cycle,
}


def build_schedule(lr: float, spec) -> Schedule:
    """A schedule from a spec: a name, or a dict ``{"name": …, **options}``.

    ``{"name": "step", "step_size": 50, "gamma": 0.5}`` → ``step_decay(lr, 50, 0.5)``. A
    ``"warmup"`` key (an integer ≥ 0; 0 = none) wraps the schedule in :func:`linear_warmup`
    with that many steps. ``one_cycle`` takes ``lr`` as its ``max_lr``. Bad specs or values
    raise :class:`InputError` naming the schedule and the option.
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise InputError(f"schedule must be a name or a table with a 'name', got {spec!r}")
    options = dict(spec)
    name = options.pop("name")
    warmup = options.pop("warmup", None)
    if not isinstance(name, str) or name not in SCHEDULES:
        raise InputError(f"unknown schedule {name!r}: expected one of {sorted(SCHEDULES)}")
    factory = SCHEDULES[name]
    parameters = list(inspect.signature(factory).parameters.values())[1:]
    allowed = [p.name for p in parameters]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for schedule {name!r}; "
                         f"valid: {allowed + ['warmup']}")
    missing = [p.name for p in parameters if p.default is p.empty and p.name not in options]
    if missing:
        raise InputError(f"schedule {name!r} needs option(s) {missing}")
    try:
        schedule = factory(lr, **options)
        warmup = 0 if warmup is None else _count("warmup", warmup, 0)
    except InputError as exc:
        raise InputError(f"schedule {name!r}: {exc}") from exc
    return linear_warmup(schedule, warmup) if warmup else schedule
