"""Expected-value pilot: what a shot-adaptive run will spend, predicted without sampling.

The cost of iCANS/gCANS/Rosalin (the default optimizers) depends on the path: their
gradient shots grow as the gradient shrinks, and the run ends when the noise-aware test of
:mod:`qvopt.guard` passes. The preview (``--dry-run``) therefore replays the run with a
stand-in for the estimator that answers every request with

* the *exact* energies and gradient (the means of what the run would measure), and
* the standard errors those estimates would have with the shots requested:
  ``Var(E(θ)) = Σ_g σ_g²(θ)/N_g`` with the exact per-shot group variances ``σ_g²`` and the
  estimator's split ``N_g`` of the requested total, ``Var(∂_iE) = Σ_k w_ik² Var(E_k)``
  over the shifted points,

charging the shots :meth:`Estimator.cost` says the request costs. Nothing is sampled (no
random numbers at all), so the pilot is the run's *expected-value path*: the optimizer and
the stopping rule see their inputs' means and error bars, not their fluctuations. Fluctuations
make a real run take a longer path (its steps are shrunk by noise, its estimates of
``|g|`` scatter), so the pilot's total is scaled by :data:`NOISE_FACTOR`, measured on the
tuning set (``benchmarks/preview_accuracy.py``: actual/pilot over 5 seeds of h2, lih_fc
and lih) and checked on held-out molecules there.
"""

from __future__ import annotations

import numpy as np

from .driver import Limits, Loop, drive
from .estimation.base import Estimate
from .estimation.parameter_shift import (
    curvature_from_energies,
    gradient_from_energies,
    points_per_parameter,
    shifted_points,
)
from .estimation.request import Reply, Request

#: actual/pilot shots of the default run: the median over the tuning set (see the module),
#: 2.05 with fc_split groups (5 seeds each; per-molecule medians h2 2.42, lih_fc 1.98, lih
#: 2.05; held out: h2 at 2 Å 1.08, LiH fc at 3 Å 1.93, HF 1.27), as with QWC groups (2.0).
NOISE_FACTOR = 2.0
#: a run's total lies within this factor of the prediction on the tuning set (the range
#: the preview states: prediction / RANGE_FACTOR … prediction × RANGE_FACTOR).
RANGE_FACTOR = 2.5


class ExpectedReplies:
    """An evaluator (:class:`~qvopt.driver.Evaluator`) answering with exact means and the
    standard errors the requested shots would give (see the module docstring)."""

    def __init__(self, estimator):
        self.estimator = estimator
        self.reference = estimator.reference
        self.shots_used = 0
        self.shots_per_evaluation = estimator.shots_per_evaluation
        self.iterations = 0

    def cost(self, request: Request) -> int:
        return self.estimator.cost(request)

    def _variances(self, points: np.ndarray, totals: np.ndarray) -> np.ndarray:
        """``Σ_g σ_g²(θ_k)/N_g(total_k)`` for each point (the estimator's group split)."""
        per_shot = self.reference.group_variances(points)
        out = np.empty(len(points))
        for k, (variances, total) in enumerate(zip(per_shot, totals, strict=True)):
            shots = self.estimator.group_shots(int(total)).astype(float)
            out[k] = float(np.sum(np.where(shots > 0, variances / np.maximum(shots, 1), 0)))
        return out

    def answer(self, x: np.ndarray, request: Request) -> Reply:
        self.shots_used += self.cost(request)
        self.iterations += 1
        one = self.estimator.shots_per_evaluation
        points = [np.asarray(x, dtype=float)[None, :]]
        totals = [np.array([self.estimator.shots])]
        asked = None if request.energies is None else np.atleast_2d(request.energies)
        n_energies = 0 if asked is None else len(asked)
        if asked is not None:
            points.append(asked)
            totals.append(np.full(n_energies, self.estimator.shots))
        at = None if request.gradient is None else np.asarray(request.gradient, dtype=float)
        rules = self.estimator.shift_rules() if at is not None else None
        if rules is not None and at is not None:
            shifted, weights = shifted_points(at, rules)
            per = (np.full(len(rules), self.estimator.shots) if request.gradient_shots is None
                   else np.asarray(request.gradient_shots))
            points.append(shifted)
            totals.append(np.repeat(per, points_per_parameter(rules)))
        stacked = np.vstack(points)
        values = self.reference.exact(stacked)
        variances = self._variances(stacked, np.concatenate(totals))
        value = Estimate(float(values[0]), float(np.sqrt(variances[0])), one)
        energies = None if not n_energies else Estimate(
            values[1:1 + n_energies], np.sqrt(variances[1:1 + n_energies]), 0)
        gradient = curvature = None
        if rules is not None and at is not None:
            g_values, g_vars = values[1 + n_energies:], variances[1 + n_energies:]
            grad, var = gradient_from_energies(weights, g_values, g_vars)
            gradient = Estimate(grad, np.sqrt(var), 0)
            if np.array_equal(at, x):
                h, h_var = curvature_from_energies(rules, float(value.value), variances[0],
                                                   g_values, g_vars)
                curvature = Estimate(h, np.sqrt(h_var), 0)
        return Reply(value=value, energies=energies, gradient=gradient, curvature=curvature)


def pilot_shots(run, optimizer_seed: int = 0) -> tuple[int, int, str]:
    """``(shots, iterations, why it stopped)`` of the expected-value path of ``run`` (a
    built :class:`qvopt.vqe._Run`, not yet executed), final energy excluded."""
    replies = ExpectedReplies(run.estimator)
    config = run.config
    loop = Loop(replies, Limits(config.maxiter, config.shot_budget, config.gtol))
    outcome = drive(run.optimizer, loop, run.x0, np.random.default_rng(optimizer_seed))
    return replies.shots_used, loop.nit, outcome.message
