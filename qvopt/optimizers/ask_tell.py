"""The ask/tell protocol between an optimizer and whoever evaluates the objective.

(:class:`Request` and :class:`Reply` live in :mod:`qvopt.estimation.request`; re-exported here.)

Each iteration the optimizer *asks* for what it needs at once (a :class:`Request`: energies
at some points, a gradient, a metric), the evaluator computes it in one batch and charges
the shot ledger, and the optimizer is *told* the :class:`Reply`. Optimizer state is an
immutable value passed in and out, so a run can be checkpointed and resumed.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import numpy as np

from ..errors import InputError
from ..estimation.base import Estimate
from ..estimation.request import Reply, Request
from .base import GradientTransformation

__all__ = ["AskTellOptimizer", "FirstOrderOptimizer", "FirstOrderState", "Reply", "Request",
           "answered"]


def answered(estimate: Estimate | None, what: str) -> Estimate:
    """A :class:`Reply`'s ``what`` (``reply.gradient``, …), which the optimizer's request
    asked for; an evaluator that left it out is an :class:`~qvopt.errors.InputError`."""
    if estimate is None:
        raise InputError(f"the reply holds no {what}, which the optimizer's request asked for")
    return estimate


class AskTellOptimizer(Protocol):
    """What the VQE driver and :func:`qvopt.minimize` need from an optimizer."""

    name: str

    def init(self, x0: np.ndarray, rng: np.random.Generator) -> Any: ...

    def ask(self, state: Any) -> Request: ...

    def tell(self, state: Any, reply: Reply) -> Any: ...

    def params(self, state: Any) -> np.ndarray: ...


class FirstOrderState(NamedTuple):
    x: np.ndarray
    rule_state: Any
    step: int


class FirstOrderOptimizer:
    """Drives a :class:`GradientTransformation` with one gradient per step.

    ``θ_{t} = θ_{t−1} + Δθ_t`` with ``Δθ_t`` the chain's output for ``g_t = ∇E(θ_{t−1})``;
    the estimated energy at ``θ_{t−1}`` is passed to the chain as ``value``.
    """

    def __init__(self, name: str, rule: GradientTransformation, options: dict | None = None):
        self.name = name
        self.rule = rule
        self.options = dict(options or {})

    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> FirstOrderState:
        x0 = np.array(x0, dtype=float)
        return FirstOrderState(x0, self.rule.init(x0), 0)

    def ask(self, state: FirstOrderState) -> Request:
        return Request(gradient=state.x)

    def tell(self, state: FirstOrderState, reply: Reply) -> FirstOrderState:
        grad = np.asarray(answered(reply.gradient, "gradient").value, dtype=float)
        updates, rule_state = self.rule.update(grad, state.rule_state, state.x,
                                               value=float(reply.value.value))
        return FirstOrderState(state.x + updates, rule_state, state.step + 1)

    def params(self, state: FirstOrderState) -> np.ndarray:
        return state.x

    def __repr__(self) -> str:
        return f"FirstOrderOptimizer({self.name!r}, {self.options})"
