"""Request pricing: the shots an evaluation, a gradient or a whole
:class:`~.request.Request` will cost, known before anything is sampled.

One energy evaluation costs ``shots × G`` (``shots`` per measurement group, ``G`` groups)
or, with a shot allocation, ``shots`` itself (the total is split over the groups). A
parameter-shift gradient evaluates every shifted point of parameter ``i`` with
``gradient_shots[i]`` in the same meaning (or one evaluation each without
``gradient_shots``); with weighted random term sampling ``gradient_shots[i]`` is the total
of a shifted point whatever the allocation. A request adds the energy at the optimizer's
point, its other energies, one ``shots``-shot execution per fidelity and the metric's cost.
Exact mode (``shots=None``) costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .base import validate_shots
from .parameter_shift import ShiftRule, points_per_parameter
from .request import Request

__all__ = ["ShotPrices"]


@dataclass(frozen=True)
class ShotPrices:
    """The price list of one estimator's settings.

    ``shots``: the estimator's shots (per group, or the total of an evaluation when
    ``allocated``; ``None`` is exact); ``n_groups``: measurement groups ``G``;
    ``n_params``: circuit parameters ``p``.
    """

    shots: int | None
    n_groups: int
    n_params: int
    allocated: bool

    @property
    def per_evaluation(self) -> int:
        """Shots one energy evaluation costs (0 in exact mode)."""
        return self.evaluation(self.shots)

    def evaluation(self, shots: int | None) -> int:
        """Shots of one evaluation with ``shots`` (per group, or the total with allocation)."""
        if self.shots is None or shots is None:
            return 0
        return int(shots) if self.allocated else int(shots) * self.n_groups

    def check_gradient_shots(self, gradient_shots: object) -> list[int]:
        """``gradient_shots`` as p checked ints, or an InputError naming it."""
        per = np.asarray(gradient_shots)
        if per.shape != (self.n_params,):
            raise InputError(f"gradient_shots must have shape ({self.n_params},), got "
                             f"{per.shape}")
        return [validate_shots(int(s), "gradient_shots") for s in per]

    def gradient_totals(self, gradient_shots: object, term_sampling: str | None
                        ) -> np.ndarray:
        """(p,) shots one shifted point of each parameter costs: an evaluation with
        ``gradient_shots[i]`` in the meaning of ``shots`` — with ``term_sampling`` the total
        itself — or, without ``gradient_shots``, one evaluation."""
        if gradient_shots is None:
            return np.full(self.n_params, self.per_evaluation, dtype=np.int64)
        per = self.check_gradient_shots(gradient_shots)
        return np.array(per if term_sampling else [self.evaluation(s) for s in per],
                        dtype=np.int64)

    def request(self, request: Request, rules: Callable[[], list[ShiftRule]],
                metric_cost: Callable[[str | None], int]) -> int:
        """Shots answering ``request`` charges, the energy at the optimizer's point included;
        ``rules()``: the circuit's shift rules (read only for a gradient),
        ``metric_cost(approx)``: one metric's shots."""
        if self.shots is None:
            return 0
        n_energies = 1 + (0 if request.energies is None
                          else len(np.atleast_2d(request.energies)))
        cost = n_energies * self.per_evaluation
        if request.gradient is not None:
            counts = np.asarray(points_per_parameter(rules()))
            cost += int(counts @ self.gradient_totals(request.gradient_shots,
                                                      request.term_sampling))
        if request.fidelities is not None:
            cost += len(np.atleast_2d(request.fidelities)) * self.shots
        if request.metric is not None:
            cost += metric_cost(request.metric_approx)
        return cost

