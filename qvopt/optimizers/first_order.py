"""First-order update rules and the named recipes built from them.

Conventions follow PyTorch's ``torch.optim`` (the trajectories are tested against it):
``g_t`` is the gradient at the ``t``-th update (``t = 1, 2, …``), ``η_t`` the learning rate
(a constant or a schedule of ``t − 1``), ε is added *after* the square root, moments are
bias-corrected, and momentum buffers start as the first gradient.

Every recipe is ``chain(…, scale_by_learning_rate(lr))``: the rules below produce a
direction ``d_t`` and the last link returns ``Δθ = −η_t d_t``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .base import (
    CountState,
    GradientTransformation,
    ScalarOrSchedule,
    add_decayed_weights,
    as_schedule,
    chain,
    check_flag,
    check_number,
    scale_by_learning_rate,
)


# --------------------------------------------------------------------------- rules
class TraceState(NamedTuple):
    buffer: np.ndarray | None


def trace(momentum: float, dampening: float = 0.0, nesterov: bool = False
          ) -> GradientTransformation:
    """PyTorch's SGD momentum.

    ``b_1 = g_1``, ``b_t = μ b_{t−1} + (1 − τ) g_t``; direction ``d_t = b_t``, or with
    Nesterov ``d_t = g_t + μ b_t``. ``μ = momentum``, ``τ = dampening``.
    """
    momentum = check_number("momentum", momentum, 0.0)
    dampening = check_number("dampening", dampening, 0.0, 1.0)
    nesterov = check_flag("nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise InputError("nesterov momentum requires momentum > 0 and dampening = 0")

    def update(updates, state, params=None, **extra):
        if momentum == 0.0:
            return updates, state
        if state.buffer is None:
            buffer = updates.copy()
        else:
            buffer = momentum * state.buffer + (1.0 - dampening) * updates
        direction = updates + momentum * buffer if nesterov else buffer
        return direction, TraceState(buffer)

    return GradientTransformation(lambda params: TraceState(None), update)


# (the functional form keeps the field name ``count``, which checkpoints store: see
# :data:`.base.CountState`)
AdamState = NamedTuple("AdamState", [("count", int), ("mu", np.ndarray), ("nu", np.ndarray),
                                     ("nu_max", np.ndarray)])


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                  amsgrad: bool = False) -> GradientTransformation:
    """Adam's direction (Kingma & Ba 2015; PyTorch form).

    ``m_t = β₁ m_{t−1} + (1 − β₁) g_t``,  ``v_t = β₂ v_{t−1} + (1 − β₂) g_t²``,
    ``m̂_t = m_t / (1 − β₁ᵗ)``,  ``v̂_t = v_t / (1 − β₂ᵗ)``,
    ``d_t = m̂_t / (√v̂_t + ε)``.
    AMSGrad (Reddi et al. 2018, PyTorch form): ``v_t^max = max(v_{t−1}^max, v_t)`` replaces
    ``v_t`` in ``v̂_t``.
    """
    b1 = check_number("betas[0]", b1, 0.0, 1.0, high_open=True)
    b2 = check_number("betas[1]", b2, 0.0, 1.0, high_open=True)
    eps = check_number("eps", eps, 0.0)
    amsgrad = check_flag("amsgrad", amsgrad)

    def init(params):
        zeros = np.zeros_like(np.asarray(params, dtype=float))
        return AdamState(0, zeros, zeros.copy(), zeros.copy())

    def update(updates, state, params=None, **extra):
        t = state.count + 1
        mu = b1 * state.mu + (1.0 - b1) * updates
        nu = b2 * state.nu + (1.0 - b2) * updates**2
        nu_max = np.maximum(state.nu_max, nu) if amsgrad else state.nu_max
        second = nu_max if amsgrad else nu
        denom = np.sqrt(second) / np.sqrt(1.0 - b2**t) + eps
        direction = (mu / (1.0 - b1**t)) / denom
        return direction, AdamState(t, mu, nu, nu_max)

    return GradientTransformation(init, update)


NadamState = NamedTuple("NadamState", [("count", int), ("mu", np.ndarray), ("nu", np.ndarray),
                                       ("mu_product", float)])


def scale_by_nadam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                   momentum_decay: float = 4e-3) -> GradientTransformation:
    """NAdam's direction (Dozat 2016) with PyTorch's momentum schedule.

    ``μ_t = β₁ (1 − ½·0.96^{tψ})``, ``Π_t = Π_{k≤t} μ_k``, ``ψ = momentum_decay``;
    ``m_t``, ``v_t`` as in Adam, ``v̂_t = v_t / (1 − β₂ᵗ)``;
    ``d_t = (1 − μ_t)/(1 − Π_t) · g_t/(√v̂_t + ε) + μ_{t+1}/(1 − Π_t μ_{t+1}) · m_t/(√v̂_t + ε)``.
    """
    b1 = check_number("betas[0]", b1, 0.0, 1.0, high_open=True)
    b2 = check_number("betas[1]", b2, 0.0, 1.0, high_open=True)
    eps = check_number("eps", eps, 0.0)
    momentum_decay = check_number("momentum_decay", momentum_decay, 0.0)

    def init(params):
        zeros = np.zeros_like(np.asarray(params, dtype=float))
        return NadamState(0, zeros, zeros.copy(), 1.0)

    def update(updates, state, params=None, **extra):
        t = state.count + 1
        mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = state.mu_product * mu_t
        mu = b1 * state.mu + (1.0 - b1) * updates
        nu = b2 * state.nu + (1.0 - b2) * updates**2
        denom = np.sqrt(nu / (1.0 - b2**t)) + eps
        direction = ((1.0 - mu_t) / (1.0 - mu_product)) * updates / denom \
            + (mu_next / (1.0 - mu_product * mu_next)) * mu / denom
        return direction, NadamState(t, mu, nu, mu_product)

    return GradientTransformation(init, update)


class RmsState(NamedTuple):
    nu: np.ndarray
    mean: np.ndarray


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8, centered: bool = False
                 ) -> GradientTransformation:
    """RMSProp's direction (Tieleman & Hinton 2012; PyTorch form).

    ``v_t = α v_{t−1} + (1 − α) g_t²`` (``v_0 = 0``, no bias correction);
    centered: ``ḡ_t = α ḡ_{t−1} + (1 − α) g_t`` and ``v_t − ḡ_t²`` replaces ``v_t``;
    ``d_t = g_t / (√v_t + ε)``.
    """
    alpha = check_number("alpha", alpha, 0.0, 1.0)
    eps = check_number("eps", eps, 0.0)
    centered = check_flag("centered", centered)

    def init(params):
        zeros = np.zeros_like(np.asarray(params, dtype=float))
        return RmsState(zeros, zeros.copy())

    def update(updates, state, params=None, **extra):
        nu = alpha * state.nu + (1.0 - alpha) * updates**2
        mean = alpha * state.mean + (1.0 - alpha) * updates if centered else state.mean
        second = nu - mean**2 if centered else nu
        return updates / (np.sqrt(second) + eps), RmsState(nu, mean)

    return GradientTransformation(init, update)


class AccumulatorState(NamedTuple):
    total: np.ndarray


def scale_by_rss(initial_accumulator_value: float = 0.0, eps: float = 1e-10
                 ) -> GradientTransformation:
    """Adagrad's direction (Duchi et al. 2011; PyTorch form).

    ``s_t = s_{t−1} + g_t²`` (``s_0 = initial_accumulator_value``),
    ``d_t = g_t / (√s_t + ε)``.
    """
    initial_accumulator_value = check_number("initial_accumulator_value",
                                             initial_accumulator_value, 0.0)
    eps = check_number("eps", eps, 0.0)

    def init(params):
        return AccumulatorState(np.full_like(np.asarray(params, dtype=float),
                                             initial_accumulator_value))

    def update(updates, state, params=None, **extra):
        total = state.total + updates**2
        return updates / (np.sqrt(total) + eps), AccumulatorState(total)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------- recipes
def _betas(betas) -> tuple[float, float]:
    """``(β₁, β₂)`` from a pair; each is range-checked by the rule that uses it."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise InputError(f"option betas must be a pair of finite numbers in [0, 1), "
                         f"got {betas!r}")
    return betas[0], betas[1]


def sgd(lr: ScalarOrSchedule = 0.1, momentum: float = 0.0, dampening: float = 0.0,
        nesterov: bool = False, weight_decay: float = 0.0) -> GradientTransformation:
    """Gradient descent, optionally with (Nesterov) momentum, PyTorch's ``SGD``.

    ``g_t ← g_t + λθ_{t−1}``; momentum as in :func:`trace`; ``θ_t = θ_{t−1} − η_t d_t``.
    """
    return chain(add_decayed_weights(weight_decay), trace(momentum, dampening, nesterov),
                 scale_by_learning_rate(lr))


def momentum(lr: ScalarOrSchedule = 0.1, momentum: float = 0.9, dampening: float = 0.0,
             weight_decay: float = 0.0) -> GradientTransformation:
    """Heavy-ball momentum: :func:`sgd` with ``momentum = 0.9`` by default."""
    return sgd(lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)


def nesterov(lr: ScalarOrSchedule = 0.1, momentum: float = 0.9,
             weight_decay: float = 0.0) -> GradientTransformation:
    """Nesterov momentum in PyTorch's form: ``d_t = g_t + μ b_t`` (see :func:`trace`)."""
    return sgd(lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)


def adagrad(lr: ScalarOrSchedule = 0.1, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10
            ) -> GradientTransformation:
    """Adagrad, PyTorch's ``Adagrad``: ``θ_t = θ_{t−1} − η_t/(1 + (t−1)·lr_decay) · d_t``."""
    lr_decay = check_number("lr_decay", lr_decay, 0.0)
    base = as_schedule(lr)
    decayed = (lambda step: base(step) / (1.0 + step * lr_decay)) if lr_decay else base
    return chain(add_decayed_weights(weight_decay),
                 scale_by_rss(initial_accumulator_value, eps),
                 scale_by_learning_rate(decayed))


def rmsprop(lr: ScalarOrSchedule = 0.01, alpha: float = 0.99, eps: float = 1e-8,
            weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False
            ) -> GradientTransformation:
    """RMSProp, PyTorch's ``RMSprop``: ``b_t = μ b_{t−1} + d_t``, ``θ_t = θ_{t−1} − η_t b_t``.

    (Without momentum ``θ_t = θ_{t−1} − η_t d_t``; ``d_t`` from :func:`scale_by_rms`.)
    """
    return chain(add_decayed_weights(weight_decay), scale_by_rms(alpha, eps, centered),
                 trace(momentum), scale_by_learning_rate(lr))


def adam(lr: ScalarOrSchedule = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, amsgrad: bool = False) -> GradientTransformation:
    """Adam, PyTorch's ``Adam`` (``weight_decay`` is an L2 term added to the gradient).

    ``θ_t = θ_{t−1} − η_t · m̂_t / (√v̂_t + ε)`` (see :func:`scale_by_adam`).
    """
    b1, b2 = _betas(betas)
    return chain(add_decayed_weights(weight_decay), scale_by_adam(b1, b2, eps, amsgrad),
                 scale_by_learning_rate(lr))


def amsgrad(lr: ScalarOrSchedule = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
            weight_decay: float = 0.0) -> GradientTransformation:
    """AMSGrad: :func:`adam` with ``amsgrad=True``."""
    return adam(lr, betas, eps, weight_decay, amsgrad=True)


def nadam(lr: ScalarOrSchedule = 0.002, betas=(0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 0.0, momentum_decay: float = 4e-3) -> GradientTransformation:
    """NAdam, PyTorch's ``NAdam``: ``θ_t = θ_{t−1} − η_t d_t`` (see :func:`scale_by_nadam`)."""
    b1, b2 = _betas(betas)
    return chain(add_decayed_weights(weight_decay), scale_by_nadam(b1, b2, eps, momentum_decay),
                 scale_by_learning_rate(lr))


def adamw(lr: ScalarOrSchedule = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 0.01, amsgrad: bool = False) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter 2019), PyTorch's ``AdamW``: decoupled weight decay.

    ``θ_t = θ_{t−1} − η_t (m̂_t / (√v̂_t + ε) + λ θ_{t−1})``, i.e. PyTorch's
    ``θ ← θ(1 − ηλ)`` followed by the Adam step.
    """
    b1, b2 = _betas(betas)
    return chain(scale_by_adam(b1, b2, eps, amsgrad), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(lr))


__all__ = ["AdamState", "CountState", "adagrad", "adam", "adamw", "amsgrad", "momentum", "nadam",
           "nesterov", "rmsprop", "scale_by_adam", "scale_by_nadam", "scale_by_rms",
           "scale_by_rss", "sgd", "trace"]
