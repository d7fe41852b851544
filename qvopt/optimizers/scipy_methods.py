"""SciPy's L-BFGS-B and gradient-free methods behind qvopt's optimizer registry.

SciPy owns these loops, so instead of ask/tell they are driven through a bridge,
:func:`qvopt.driver.run_scipy` (the loop's layer adapts to SciPy; this module knows nothing
of the loop), onto the same :class:`qvopt.driver.Loop` as every other optimizer: each
function evaluation SciPy makes is one ``loop.evaluate`` (charged, within the shot budget,
backend failures handled), and each SciPy iteration is one
``loop.completed`` (callback, ``gtol``). ``maxiter`` is SciPy's iteration count;
evaluations are bounded too (``maxfun``), so a noisy function cannot make them run forever.

SciPy's own exit codes are mapped explicitly (:data:`LIMIT_STATUSES`): convergence →
``Status.CONVERGED``; an iteration or evaluation limit → ``Status.MAXITER``; anything else,
such as L-BFGS-B's "ABNORMAL_TERMINATION_IN_LNSRCH" (status 2, frequent under shot noise
because the line search assumes an exact function) → ``Status.FAILED`` (``success`` False).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

# SciPy ``status`` values that mean "stopped at its iteration/evaluation limit".
LIMIT_STATUSES = {"L-BFGS-B": {1}, "COBYLA": {3, 20}, "Nelder-Mead": {1, 2}, "Powell": {1, 2}}


class ScipyMethod:
    """``scipy.optimize.minimize(method=…)`` with a bounded number of evaluations."""

    def __init__(self, name: str, method: str, uses_gradient: bool, options: dict[str, Any],
                 evaluations_per_iteration: int):
        self.name = name
        self.method = method
        self.uses_gradient = uses_gradient
        self.options = dict(options)
        self.evaluations_per_iteration = evaluations_per_iteration

    def scipy_options(self, x0: np.ndarray, maxiter: int) -> dict[str, Any]:
        """SciPy's ``options``: ours, ``maxiter``, an evaluation cap, NM's simplex."""
        # the loop stops at ``maxiter`` iterations; SciPy's counters (which start at 0 or 1,
        # and count evaluations for COBYLA) get room beyond it and bound the evaluations
        budget = max(1, self.evaluations_per_iteration * maxiter) + len(x0) + 2
        options = {**self.options, "maxiter": budget if self.method == "COBYLA"
                   else maxiter + 1}
        if self.method == "L-BFGS-B":
            options.setdefault("maxfun", budget)
        elif self.method in ("Nelder-Mead", "Powell"):
            options.setdefault("maxfev", budget)
        if self.method == "Nelder-Mead":
            step = options.pop("initial_step")
            options["initial_simplex"] = np.vstack([x0, x0 + step * np.eye(len(x0))])
        return options


def lbfgs(ftol: float = 2.2e-9, gtol: float = 1e-5, maxcor: int = 10, maxls: int = 20
          ) -> ScipyMethod:
    """SciPy L-BFGS-B with the estimator's parameter-shift gradients (tolerances as SciPy)."""
    return ScipyMethod("lbfgs", "L-BFGS-B", True,
                       {"ftol": ftol, "gtol": gtol, "maxcor": maxcor, "maxls": maxls},
                       evaluations_per_iteration=maxls)


def cobyla(rhobeg: float = 0.1, tol: float = 1e-6) -> ScipyMethod:
    """SciPy COBYLA (linear approximations in a trust region of initial radius ``rhobeg``)."""
    return ScipyMethod("cobyla", "COBYLA", False, {"rhobeg": rhobeg, "tol": tol},
                       evaluations_per_iteration=3)


def nelder_mead(initial_step: float = 0.1, xatol: float = 1e-4, fatol: float = 1e-6,
                adaptive: bool = True) -> ScipyMethod:
    """SciPy Nelder–Mead from the simplex ``{x0, x0 + initial_step·e_i}`` (SciPy's default
    simplex is 5% of x0, which is nothing at the Hartree–Fock point θ = 0)."""
    if not initial_step > 0:
        raise InputError(f"initial_step must be > 0, got {initial_step!r}")
    return ScipyMethod("nelder-mead", "Nelder-Mead", False,
                       {"initial_step": initial_step, "xatol": xatol, "fatol": fatol,
                        "adaptive": adaptive}, evaluations_per_iteration=4)


def powell(xtol: float = 1e-4, ftol: float = 1e-6) -> ScipyMethod:
    """SciPy Powell (successive line searches along conjugate directions)."""
    return ScipyMethod("powell", "Powell", False, {"xtol": xtol, "ftol": ftol},
                       evaluations_per_iteration=200)
