"""Quantum natural gradient (Stokes et al., Quantum 4, 269 (2020)).

    θ_{t} = θ_{t−1} − η_t (g̃ + λI)⁻¹ ∇E(θ_{t−1})

``g`` is the Fubini–Study metric (QFI/4) at θ_{t−1}, estimated by the estimator
(``approx``: None = full, "block-diag", "diag"). ``g̃`` is ``g`` symmetrised with negative
eigenvalues set to zero (a sampled metric can be slightly indefinite), so ``g̃ + λI`` is
positive definite for λ > 0. ``metric_every = k`` re-uses a metric for k steps.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from ..errors import InputError
from .ask_tell import Reply, Request, answered
from .base import ScalarOrSchedule, as_schedule, check_number


class QNGState(NamedTuple):
    x: np.ndarray
    metric: np.ndarray | None
    metric_age: int
    step: int


class _MetricState(Protocol):
    """What the QNG family's shared steps read of a state (:class:`QNGState`,
    :class:`MomentumQNGState`)."""

    @property
    def x(self) -> np.ndarray: ...

    @property
    def metric(self) -> np.ndarray | None: ...

    @property
    def metric_age(self) -> int: ...


def regularized_inverse_apply(metric: np.ndarray, vector: np.ndarray, lam: float) -> np.ndarray:
    """``(g̃ + λI)⁻¹ v`` with ``g̃`` the PSD part of the symmetrised metric."""
    sym = 0.5 * (metric + metric.T)
    eigvals, eigvecs = np.linalg.eigh(sym)
    eigvals = np.clip(eigvals, 0.0, None) + lam
    return eigvecs @ ((eigvecs.T @ vector) / eigvals)


class _NaturalGradientBase:
    """What QNG and momentum QNG share: the options, the requests, the natural direction.
    Each has a state of its own (``init``/``tell``), so neither derives from the other."""

    name: str

    def __init__(self, lr: ScalarOrSchedule = 0.1, lam: float = 0.01,
                 approx: str | None = "block-diag", metric_every: int = 1):
        from ..estimation.metric import APPROXIMATIONS

        if not isinstance(approx, (str, type(None))) or approx not in APPROXIMATIONS:
            raise InputError(f"option approx must be one of {list(APPROXIMATIONS)}, "
                             f"got {approx!r}")
        lam = check_number("lam", lam, 0.0, low_open=True)
        metric_every = check_number("metric_every", metric_every, 1, integer=True)
        self.schedule = as_schedule(lr)
        self.lam, self.approx, self.metric_every = lam, approx, metric_every
        self.options = {"lr": lr if not callable(lr) else repr(lr), "lam": lam,
                        "approx": approx, "metric_every": metric_every}

    def _needs_metric(self, state: _MetricState) -> bool:
        return state.metric is None or state.metric_age >= self.metric_every

    def ask(self, state: _MetricState) -> Request:
        if self._needs_metric(state):
            return Request(gradient=state.x, metric=state.x, metric_approx=self.approx)
        return Request(gradient=state.x)

    def _natural_direction(self, state: _MetricState, reply: Reply
                           ) -> tuple[np.ndarray, np.ndarray, int]:
        """``((g̃+λI)⁻¹∇E, metric, metric age)`` with the reply's metric if it has one."""
        metric, age = state.metric, state.metric_age
        if reply.metric is not None:
            metric, age = np.asarray(reply.metric.value, dtype=float), 0
        if metric is None:
            raise InputError(f"{self.name} needs a metric in the first reply")
        grad = np.asarray(answered(reply.gradient, "gradient").value, dtype=float)
        return regularized_inverse_apply(metric, grad, self.lam), metric, age

    def params(self, state: _MetricState) -> np.ndarray:
        return state.x


class QuantumNaturalGradient(_NaturalGradientBase):
    """Ask/tell QNG: asks for the gradient and (every ``metric_every`` steps) the metric."""

    name = "qng"

    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> QNGState:
        return QNGState(np.array(x0, dtype=float), None, 0, 0)

    def tell(self, state: QNGState, reply: Reply) -> QNGState:
        direction, metric, age = self._natural_direction(state, reply)
        x = state.x - self.schedule(state.step) * direction
        return QNGState(x, metric, age + 1, state.step + 1)


class MomentumQNGState(NamedTuple):
    x: np.ndarray
    metric: np.ndarray | None
    metric_age: int
    step: int
    velocity: np.ndarray


class MomentumQNG(_NaturalGradientBase):
    """QNG with heavy-ball momentum (as PennyLane's ``MomentumQNGOptimizer``):

        a_t = ρ a_{t−1} + η_t (g̃ + λI)⁻¹ ∇E(θ_{t−1}),     a_0 = 0
        θ_t = θ_{t−1} − a_t

    ``momentum = ρ`` in [0, 1); ρ = 0 is plain QNG. Metric options as
    :class:`QuantumNaturalGradient`.
    """

    name = "momentum-qng"

    def __init__(self, lr: ScalarOrSchedule = 0.1, lam: float = 0.01,
                 approx: str | None = "block-diag", metric_every: int = 1,
                 momentum: float = 0.9):
        super().__init__(lr, lam, approx, metric_every)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0, high_open=True)
        self.options["momentum"] = self.momentum

    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> MomentumQNGState:
        x0 = np.array(x0, dtype=float)
        return MomentumQNGState(x0, None, 0, 0, np.zeros_like(x0))

    def tell(self, state: MomentumQNGState, reply: Reply) -> MomentumQNGState:
        direction, metric, age = self._natural_direction(state, reply)
        velocity = self.momentum * state.velocity + self.schedule(state.step) * direction
        return MomentumQNGState(state.x - velocity, metric, age + 1, state.step + 1, velocity)
