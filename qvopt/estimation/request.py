"""What an optimizer asks an evaluator for (:class:`Request`) and what it gets (:class:`Reply`).

Each iteration an ask/tell optimizer states everything it needs at once; the evaluator (an
:class:`~.estimator.Estimator` in VQE, the user's function in ``qvopt.minimize``) answers the
whole request in one batch, always including the energy at the optimizer's current point,
and charges the shot ledger. Both are immutable values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Estimate
from .term_sampling import TERM_SAMPLING


@dataclass(frozen=True)
class Request:
    """What an optimizer needs for its next step.

    ``energies``: points (m, p) whose energies are needed; ``gradient``: the point (p,) at
    which a parameter-shift gradient is needed; ``gradient_shots``: optional shots for each
    gradient component (length p, same meaning as the estimator's ``shots``: per group, or
    per evaluation when an allocation is set), used for every shifted point of that
    parameter (shot-adaptive optimizers); ``metric``: the point at which the Fubini–Study
    metric is needed, with ``metric_approx`` (None, "block-diag" or "diag");
    ``fidelities``: points θ' whose state fidelity ``|⟨ψ(θ)|ψ(θ')⟩|²`` with the current
    point θ is needed. ``term_sampling``: ``None`` (every group measured at every shifted
    point, as the estimator's ``shots``/allocation say) or ``"weighted_random"``: each
    shifted point's shots — ``gradient_shots[i]`` in total (whatever the allocation), or
    without ``gradient_shots`` the shots of one evaluation — go to groups drawn at random
    ∝ their coefficient norms (:mod:`.term_sampling`).
    """

    energies: np.ndarray | None = None
    gradient: np.ndarray | None = None
    gradient_shots: np.ndarray | None = None
    metric: np.ndarray | None = None
    metric_approx: str | None = None
    fidelities: np.ndarray | None = None
    term_sampling: str | None = None

    def __post_init__(self) -> None:
        if self.term_sampling is not None:
            if self.term_sampling not in TERM_SAMPLING:
                raise ValueError(f"Request.term_sampling must be None or one of "
                                 f"{list(TERM_SAMPLING)}, got {self.term_sampling!r}")
            if self.gradient is None:
                raise ValueError("Request.term_sampling applies to the gradient: it needs "
                                 "Request.gradient")
        if self.gradient_shots is not None:
            if self.gradient is None:
                raise ValueError("Request.gradient_shots needs Request.gradient")
            shots = np.asarray(self.gradient_shots)
            if shots.ndim != 1 or not np.issubdtype(shots.dtype, np.integer) \
                    or np.any(shots <= 0):
                raise ValueError("Request.gradient_shots must be a 1-D array of positive "
                                 f"integers, got {self.gradient_shots!r}")


@dataclass(frozen=True)
class Reply:
    """Evaluations answering a :class:`Request`.

    ``value`` is the estimated energy at the optimizer's current point, which the evaluator
    measures every iteration (the same cost for every optimizer). ``curvature``: the
    diagonal second derivatives ``∂²E/∂θ_i²`` at that point, from the gradient's shifted
    energies and ``value`` (no extra shots; :func:`.parameter_shift.curvature_weights`),
    when the gradient was asked at the current point; ``stderr`` per component (the
    shared ``value`` makes the components' errors correlated).
    """

    value: Estimate
    energies: Estimate | None = None
    gradient: Estimate | None = None
    metric: Estimate | None = None
    fidelities: Estimate | None = None
    curvature: Estimate | None = None
