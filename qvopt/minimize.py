"""``qvopt.minimize``: scipy-style minimization of a plain function with qvopt's optimizers.

    minimize(fun, x0, jac=None, method="adam", callback=None, options=None) -> OptimizeResult

The same optimizers and the same loop (:mod:`qvopt.driver`) as VQE; requests are answered by
calling ``fun`` and ``jac`` (central finite differences with step ``options["eps"]`` when
``jac`` is None). ``options["maxiter"]`` is the number of update steps, ``options["gtol"]``
stops at a small gradient, ``options["seed"]`` seeds randomized methods; other options go
to the optimizer and unknown ones are rejected. ``callback(intermediate_result)`` receives
an ``OptimizeResult`` (``x``, ``fun``, ``nit``) after every step; returning True or raising
``StopIteration`` stops cleanly (scipy's convention).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .checks import check_int
from .driver import Limits, Loop, drive
from .errors import InputError
from .estimation.base import Estimate, as_points
from .estimation.request import Reply, Request
from .optimizers.base import check_number
from .optimizers.registry import get_optimizer

MINIMIZE_OPTIONS = ("maxiter", "gtol", "eps", "seed")


class FunctionEvaluator:
    """Answers optimizer requests from ``fun``/``jac`` (no shots: every cost is 0)."""

    shots_used = 0
    shots_per_evaluation = 0

    def __init__(self, fun, jac, eps: float, n: int, method: str):
        if not callable(fun):
            raise InputError(f"fun must be callable, got {type(fun).__name__}")
        if jac is not None and not callable(jac):
            raise InputError("jac must be callable or None (finite differences)")
        self.fun, self.jac, self.eps, self.n, self.method = fun, jac, eps, n, method
        self.nfev = self.njev = 0

    def value(self, x: np.ndarray) -> float:
        self.nfev += 1
        return float(self.fun(np.array(x, dtype=float)))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """``jac(x)``, or ``(f(x + ε e_i) − f(x − ε e_i)) / 2ε`` per component."""
        self.njev += 1
        if self.jac is not None:
            grad = np.asarray(self.jac(np.array(x, dtype=float)), dtype=float)
            if grad.shape != (self.n,):
                raise InputError(f"jac returned shape {grad.shape}, expected ({self.n},)")
            return grad
        eye = np.eye(self.n) * self.eps
        return np.array([(self.value(x + e) - self.value(x - e)) / (2 * self.eps) for e in eye])

    def cost(self, request: Request) -> int:
        return 0

    def answer(self, x: np.ndarray, request: Request) -> Reply:
        if request.metric is not None or request.fidelities is not None:
            raise InputError(f"method {self.method!r} needs quantum states (metric or "
                             "fidelities): use it through qvopt.vqe or an Estimator")
        exact = lambda v: Estimate(v, np.zeros_like(v), 0)  # noqa: E731
        value = self.value(x)
        energies = gradient = None
        if request.energies is not None:
            energies = exact(np.array([self.value(p) for p in np.atleast_2d(request.energies)]))
        if request.gradient is not None:
            gradient = exact(self.gradient(request.gradient))
        return Reply(value=Estimate(value, 0.0, 0), energies=energies, gradient=gradient)


def minimize(fun: Callable[[np.ndarray], float], x0, jac: Callable | None = None,
             method: str = "adam", callback: Callable[[OptimizeResult], Any] | None = None,
             options: dict | None = None) -> OptimizeResult:
    """Minimize ``fun`` from ``x0`` with the qvopt optimizer ``method`` (see module doc)."""

    options = dict(options or {})
    maxiter = check_int("options['maxiter']", options.pop("maxiter", 1000), 0)
    gtol = check_number("options['gtol']", options.pop("gtol", None), 0.0, none_ok=True)
    eps = check_number("options['eps']", options.pop("eps", 1e-6), 0.0, low_open=True)
    seed = check_int("options['seed']", options.pop("seed", None), 0, optional=True)
    try:
        x0, single = as_points(x0, np.shape(x0)[-1] if np.ndim(x0) else 0, name="x0")
    except InputError as exc:
        raise InputError(f"x0 must be a finite real 1-D array ({exc})") from None
    if not single:
        raise InputError(f"x0 must be a finite real 1-D array, got shape {np.shape(x0)}")
    x0 = x0[0]
    optimizer = get_optimizer(method, **options)
    evaluator = FunctionEvaluator(fun, jac, eps, len(x0), method)
    loop = Loop(evaluator, Limits(int(maxiter or 0), gtol=gtol), callback=callback)
    outcome = drive(optimizer, loop, x0, np.random.default_rng(seed))
    return OptimizeResult(x=outcome.x, fun=evaluator.value(outcome.x), jac=loop.last_gradient,
                          nit=loop.nit, nfev=evaluator.nfev, njev=evaluator.njev,
                          success=outcome.status.success, status=int(outcome.status),
                          message=outcome.message)
