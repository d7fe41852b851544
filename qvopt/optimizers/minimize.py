"""``qvopt.minimize``: scipy-style minimization of a plain function with qvopt's optimizers.

    minimize(fun, x0, jac=None, method="adam", callback=None, options=None) -> OptimizeResult

The same ask/tell optimizers as in VQE; requests are answered by calling ``fun`` and
``jac`` (central finite differences with step ``options["eps"]`` when ``jac`` is None).
``options["maxiter"]`` is the number of update steps; other options go to the optimizer
and unknown ones are rejected. ``callback(intermediate_result)`` receives an
``OptimizeResult`` (``x``, ``fun``, ``nit``) after every step; raising ``StopIteration``
stops cleanly (scipy's convention).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from ..estimation.base import Estimate
from .ask_tell import Reply
from .registry import get_optimizer

MINIMIZE_OPTIONS = ("maxiter", "gtol", "eps", "seed")


class _Counted:
    """Wraps ``fun``/``jac`` with evaluation counters and input checks."""

    def __init__(self, fun, jac, eps: float, n: int):
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {type(fun).__name__}")
        if jac is not None and not callable(jac):
            raise TypeError("jac must be callable or None (finite differences)")
        self.fun, self.jac, self.eps, self.n = fun, jac, eps, n
        self.nfev = self.njev = 0

    def value(self, x: np.ndarray) -> float:
        self.nfev += 1
        value = float(self.fun(np.array(x, dtype=float)))
        return value

    def values(self, points: np.ndarray) -> np.ndarray:
        return np.array([self.value(p) for p in np.atleast_2d(points)])

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        return self.value(x), self.gradient(x)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        self.njev += 1
        if self.jac is not None:
            grad = np.asarray(self.jac(np.array(x, dtype=float)), dtype=float)
            if grad.shape != (self.n,):
                raise ValueError(f"jac returned shape {grad.shape}, expected ({self.n},)")
            return grad
        eye = np.eye(self.n) * self.eps
        return np.array([(self.value(x + e) - self.value(x - e)) / (2 * self.eps) for e in eye])


def minimize(fun: Callable[[np.ndarray], float], x0, jac: Callable | None = None,
             method: str = "adam", callback: Callable[[OptimizeResult], Any] | None = None,
             options: dict | None = None) -> OptimizeResult:
    """Minimize ``fun`` from ``x0`` with the qvopt optimizer ``method`` (see module doc)."""
    options = dict(options or {})
    maxiter = options.pop("maxiter", 1000)
    gtol = options.pop("gtol", None)
    eps = options.pop("eps", 1e-6)
    seed = options.pop("seed", None)
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 0:
        raise ValueError(f"options['maxiter'] must be an integer >= 0, got {maxiter!r}")
    x0 = np.array(x0, dtype=float)
    if x0.ndim != 1 or not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be a finite 1-D array")
    optimizer = get_optimizer(method, **options)
    problem = _Counted(fun, jac, eps, len(x0))

    if hasattr(optimizer, "run"):
        result = optimizer.run(problem, x0, maxiter=maxiter, callback=callback,
                               rng=np.random.default_rng(seed))
        result.nfev, result.njev = problem.nfev, problem.njev
        return result

    state = optimizer.init(x0, np.random.default_rng(seed))
    status, message = 1, "maximum number of iterations reached"
    nit, grad = 0, None
    while nit < maxiter:
        x = optimizer.params(state)
        request = optimizer.ask(state)
        value = problem.value(x)
        if not np.isfinite(value):
            status, message = 4, f"fun returned a non-finite value ({value}) at iteration {nit}"
            break
        energies = None
        if request.energies is not None:
            values = problem.values(request.energies)
            energies = Estimate(values, np.zeros_like(values), 0)
        gradient = None
        if request.gradient is not None:
            grad = problem.gradient(request.gradient)
            gradient = Estimate(grad, np.zeros_like(grad), 0)
        if request.metric is not None or request.fidelities is not None:
            raise ValueError(f"method {method!r} needs quantum states (metric or fidelities): "
                             "use it through qvopt.vqe or an Estimator")
        state = optimizer.tell(state, Reply(value=Estimate(value, 0.0, 0), energies=energies,
                                            gradient=gradient))
        nit += 1
        if callback is not None:
            try:
                stop = callback(OptimizeResult(x=optimizer.params(state), fun=value, nit=nit))
            except StopIteration:
                stop = True
            if stop:
                status, message = 3, "stopped by callback"
                break
        if gtol is not None and grad is not None and np.linalg.norm(grad) <= gtol:
            status, message = 0, f"gradient norm below gtol ({gtol})"
            break
    x = optimizer.params(state)
    return OptimizeResult(x=x, fun=problem.value(x), jac=grad, nit=nit, nfev=problem.nfev,
                          njev=problem.njev, success=status in (0, 1, 3), status=status,
                          message=message)
