"""Learning-rate schedules: plain functions of ``k``, the number of updates already applied.

``k = 0`` at the first update. The formulas follow PyTorch's ``lr_scheduler`` classes of
the same name when stepped once per update. Reduce-on-plateau depends on the measured
energy, so it is a rule of the chain (:func:`scale_by_plateau`), not a function of ``k``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .base import GradientTransformation, Schedule, ScalarOrSchedule, as_schedule


def _positive(name: str, value, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or (
            integer and int(value) != value):
        kind = "a positive integer" if integer else "> 0"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def constant(lr: float) -> Schedule:
    """``η_k = lr``."""
    return as_schedule(lr)


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``η_k = lr · γ^⌊k / step_size⌋`` (PyTorch ``StepLR``)."""
    _positive("step_size", step_size, integer=True)
    _positive("gamma", gamma)
    return lambda k: lr * gamma ** (k // step_size)


def exponential_decay(lr: float, gamma: float) -> Schedule:
    """``η_k = lr · γ^k`` (PyTorch ``ExponentialLR``)."""
    _positive("gamma", gamma)
    return lambda k: lr * gamma**k


def cosine_warm_restarts(lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0
                         ) -> Schedule:
    """SGDR (Loshchilov & Hutter 2017; PyTorch ``CosineAnnealingWarmRestarts``).

    ``η_k = η_min + ½(lr − η_min)(1 + cos(π T_cur / T_i))`` where the ``i``-th period has
    length ``T_i = T_0 · T_mult^i`` and ``T_cur`` counts updates since the last restart.
    """
    _positive("T_0", T_0, integer=True)
    if not isinstance(T_mult, int) or T_mult < 1:
        raise ValueError(f"T_mult must be an integer >= 1, got {T_mult!r}")

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
    _positive("total_steps", total_steps, integer=True)
    if not 0 < pct_start < 1:
        raise ValueError(f"pct_start must be in (0, 1), got {pct_start!r}")
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

    ``η_k = base(k) · (f₀ + (1 − f₀) · min(k, W) / W)``, ``W = warmup_steps``, ``f₀ = start_factor``.
    """
    _positive("warmup_steps", warmup_steps, integer=True)
    if not 0 <= start_factor <= 1:
        raise ValueError(f"start_factor must be in [0, 1], got {start_factor!r}")
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
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    if not isinstance(patience, int) or patience < 0:
        raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")

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


SCHEDULES = {
    "constant": constant,
    "step": step_decay,
    "exponential": exponential_decay,
    "cosine_restarts": cosine_warm_restarts,
    "one_cycle": one_cycle,
}


def build_schedule(lr: float, spec) -> Schedule:
    """A schedule from a spec: a name, or a dict ``{"name": …, **options}``.

    ``{"name": "step", "step_size": 50, "gamma": 0.5}`` → ``step_decay(lr, 50, 0.5)``. A
    ``"warmup"`` key wraps the schedule in :func:`linear_warmup` with that many steps.
    ``one_cycle`` takes ``lr`` as its ``max_lr``.
    """
    import inspect

    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"schedule must be a name or a table with a 'name', got {spec!r}")
    options = dict(spec)
    name = options.pop("name")
    warmup = options.pop("warmup", None)
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}: expected one of {sorted(SCHEDULES)}")
    factory = SCHEDULES[name]
    allowed = list(inspect.signature(factory).parameters)[1:]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for schedule {name!r}; "
                         f"valid: {allowed + ['warmup']}")
    schedule = factory(lr, **options)
    if warmup:
        schedule = linear_warmup(schedule, int(warmup))
    return schedule
