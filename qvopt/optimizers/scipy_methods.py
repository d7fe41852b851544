"""SciPy's L-BFGS-B and gradient-free methods behind qvopt's optimizer registry.

SciPy owns these loops, so they use a ``run(objective, x0, maxiter, callback, rng)``
protocol instead of ask/tell: ``objective.value(x)`` and ``objective.value_and_gradient(x)``
are answered by the estimator (VQE) or the user's function (``qvopt.minimize``), and every
evaluation is charged like any other. ``maxiter`` is SciPy's iteration count; evaluations
are bounded too (``maxfun``), so a noisy function cannot make them run forever.

Under shot noise L-BFGS-B's line search (which assumes an exact function) often stops with
"ABNORMAL_TERMINATION_IN_LNSRCH"; the run then ends cleanly with that message and the
last accepted point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult
from scipy.optimize import minimize as scipy_minimize


class BudgetExhausted(Exception):
    """Raised by an objective when the next evaluation would exceed the shot budget."""


class ScipyMethod:
    """``scipy.optimize.minimize(method=…)`` with a bounded number of evaluations."""

    def __init__(self, name: str, method: str, uses_gradient: bool, options: dict[str, Any],
                 evaluations_per_iteration: int):
        self.name = name
        self.method = method
        self.uses_gradient = uses_gradient
        self.options = dict(options)
        self.evaluations_per_iteration = evaluations_per_iteration

    def run(self, objective, x0: np.ndarray, maxiter: int, callback=None,
            rng: np.random.Generator | None = None) -> OptimizeResult:
        nit = 0
        last = {"x": np.array(x0, dtype=float), "fun": np.nan}
        stopped = {"reason": None}

        def fun(x):
            if self.uses_gradient:
                value, grad = objective.value_and_gradient(x)
                last.update(x=np.array(x), fun=value)
                return value, grad
            value = objective.value(x)
            last.update(x=np.array(x), fun=value)
            return value

        def on_iteration(intermediate_result):
            nonlocal nit
            nit += 1
            if callback is not None:
                try:
                    stop = callback(OptimizeResult(x=np.array(intermediate_result.x),
                                                   fun=float(intermediate_result.fun), nit=nit))
                except StopIteration:
                    stop = True
                if stop:
                    stopped["reason"] = "stopped by callback"
                    raise StopIteration

        options = {**self.options, "maxiter": maxiter}
        budget = max(1, self.evaluations_per_iteration * maxiter)
        if self.method == "L-BFGS-B":
            options.setdefault("maxfun", budget)
        elif self.method in ("Nelder-Mead", "Powell"):
            options.setdefault("maxfev", budget)
        if self.method == "Nelder-Mead":
            step = options.pop("initial_step")
            x_start = np.array(x0, dtype=float)
            options["initial_simplex"] = np.vstack([x_start, x_start + step * np.eye(len(x0))])
        try:
            result = scipy_minimize(fun, np.array(x0, dtype=float), jac=self.uses_gradient or None,
                                    method=self.method, callback=on_iteration, options=options)
        except BudgetExhausted:
            return OptimizeResult(x=last["x"], fun=last["fun"], nit=nit, success=True,
                                  status=2, message="shot budget reached")
        if stopped["reason"]:
            return OptimizeResult(x=np.array(result.x), fun=float(result.fun), nit=nit,
                                  success=True, status=3, message=stopped["reason"])
        message = result.message if isinstance(result.message, str) else str(result.message)
        return OptimizeResult(x=np.array(result.x), fun=float(result.fun), nit=nit,
                              success=bool(result.success), status=int(result.status),
                              message=f"{self.method}: {message}")


def lbfgs(ftol: float = 2.2e-9, gtol: float = 1e-5, maxcor: int = 10, maxls: int = 20
          ) -> ScipyMethod:
    """SciPy L-BFGS-B with the estimator's parameter-shift gradients (tolerances as SciPy)."""
    return ScipyMethod("lbfgs", "L-BFGS-B", True,
                       {"ftol": ftol, "gtol": gtol, "maxcor": maxcor, "maxls": maxls},
                       evaluations_per_iteration=maxls)


def cobyla(rhobeg: float = 0.1, tol: float = 1e-6) -> ScipyMethod:
    """SciPy COBYLA (linear approximations in a trust region of initial radius ``rhobeg``)."""
    return ScipyMethod("cobyla", "COBYLA", False, {"rhobeg": rhobeg, "tol": tol},
                       evaluations_per_iteration=1)


def nelder_mead(initial_step: float = 0.1, xatol: float = 1e-4, fatol: float = 1e-6,
                adaptive: bool = True) -> ScipyMethod:
    """SciPy Nelder–Mead from the simplex ``{x0, x0 + initial_step·e_i}`` (SciPy's default
    simplex is 5% of x0, which is nothing at the Hartree–Fock point θ = 0)."""
    if not initial_step > 0:
        raise ValueError(f"initial_step must be > 0, got {initial_step!r}")
    return ScipyMethod("nelder-mead", "Nelder-Mead", False,
                       {"initial_step": initial_step, "xatol": xatol, "fatol": fatol,
                        "adaptive": adaptive}, evaluations_per_iteration=4)


def powell(xtol: float = 1e-4, ftol: float = 1e-6) -> ScipyMethod:
    """SciPy Powell (successive line searches along conjugate directions)."""
    return ScipyMethod("powell", "Powell", False, {"xtol": xtol, "ftol": ftol},
                       evaluations_per_iteration=200)
