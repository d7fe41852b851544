"""Cost preview of a run (``qvopt run … --dry-run``): what it will measure, before anything runs.

Builds the run's circuit, measurement groups, optimizer and backend circuits (transpiled for
the device), asks the optimizer for its first request and prices it with
:meth:`~qvopt.estimation.estimator.Estimator.cost`. Nothing is simulated or submitted:
readout calibration is priced (two circuits of ``calibration_shots``), not run.

Per iteration the driver measures the energy at the iterate plus what the optimizer asks;
``shots_per_run`` assumes every iteration costs what the first one does (adaptive
optimizers differ: iCANS/gCANS, the default optimizer, choose their gradient shots from
the noise they see, SPSA calibrates, QNG caches its metric) plus the final energy (one
evaluation, or with ``final_precision`` an estimate of the staged measurement), capped by
``shot_budget``; ``shots_per_run_at_most`` prices every iteration at the shot-adaptive
optimizers' cap (``max_shots``): a bound the run stays under, unless the final energy
needs more than its estimate. Runs usually stop earlier (``tol``). The preview also
states the settings a run resolves from its defaults: the optimizer, the shot
``allocation`` (None: ``shots`` per measurement group) and the starting point (``"mp2"``,
``"zeros"`` or ``"given"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import RunConfig
from .estimation.request import Request
from .pilot import RANGE_FACTOR


def _first_request(run) -> Request:
    from .optimizers.scipy_methods import ScipyMethod

    optimizer, x0 = run.optimizer, run.x0
    if isinstance(optimizer, ScipyMethod):
        return Request(gradient=x0) if optimizer.uses_gradient else Request()
    return optimizer.ask(optimizer.init(x0.copy(), np.random.default_rng(0)))


def _points(run, request: Request) -> int:
    """Parameter points whose energies one iteration measures (the iterate included)."""
    points = 1
    if request.energies is not None:
        points += len(np.atleast_2d(request.energies))
    if request.gradient is not None:
        points += sum(len(rule.shifts) for rule in run.estimator.shift_rules())
    return points


def _device_circuits(sampler) -> list[dict] | None:
    """Depth and two-qubit gate count of each transpiled measurement circuit (one per group
    and ZNE scale factor), from the circuit sampler; None on the statevector path."""
    costs = getattr(sampler, "circuit_costs", None)
    return None if costs is None else costs()


def _final_shots(run, precision: float | None) -> int:
    """Shots of the final energy: one evaluation, or with ``final_precision`` ε the
    variance-optimal total for ε at the start, ``SAFETY · (Σ_g σ_g)² / ε²`` with the exact
    group standard deviations σ_g at x₀ (an estimate: the run measures at its last
    point, in stages)."""
    from .final_energy import optimal_group_shots

    estimator = run.estimator
    one = estimator.shots_per_evaluation
    if precision is None or estimator.shots is None:
        return one
    sigma = np.sqrt(estimator.reference.group_variances(run.x0[None, :])[0])
    return max(one, int(optimal_group_shots(sigma, precision).sum()))


def _most_per_iteration(run, request: Request, first: int) -> int:
    """What one iteration can cost at most: a shot-adaptive optimizer (iCANS, gCANS,
    Rosalin) grows its gradient shots up to its ``max_shots`` cap, so its iterations are
    priced at the cap; every other optimizer's iterations cost what the first does."""
    cap = getattr(run.optimizer, "options", {}).get("max_shots")
    if cap is None or request.gradient is None or request.gradient_shots is None:
        return first
    capped = Request(gradient=request.gradient,
                     gradient_shots=np.full(len(request.gradient_shots), int(cap)),
                     term_sampling=request.term_sampling)
    return max(first, run.estimator.cost(capped))


def _expected(run, calibration: int, final: int) -> tuple[int | None, int | None]:
    """The expected-value pilot's shots (:mod:`qvopt.pilot`, scaled by its measured
    ``NOISE_FACTOR``) plus calibration and the final energy, and its iterations; None for
    exact runs, circuit backends (whose pilot would need their noise) and optimizers
    given as objects."""
    from .pilot import NOISE_FACTOR, pilot_shots

    if run.estimator.shots is None or run.estimator.sampler is not run.estimator.reference \
            or "optimizer" in run.given:
        return None, None
    shots, iterations, _ = pilot_shots(run)
    expected = calibration + int(NOISE_FACTOR * shots) + final
    budget = run.config.shot_budget
    return (expected if budget is None else min(expected, budget)), iterations


def preview(config: RunConfig) -> dict[str, Any]:
    """What one iteration and the whole run of ``config`` will cost (nothing is run)."""
    from .estimation.mitigation import parse_mitigation
    from .vqe import _Run

    mitigation = parse_mitigation(config.backend_options.get("mitigation"))
    options = {k: v for k, v in config.backend_options.items() if k != "mitigation"}
    if mitigation - {"readout"}:  # readout calibration would run circuits: priced instead
        options["mitigation"] = sorted(mitigation - {"readout"})
    run = _Run(config.replace(backend_options=options, checkpoint=None, result=None))
    estimator, request = run.estimator, _first_request(run)
    per_iteration = estimator.cost(request)
    calibration = (2 * int(config.backend_options.get("calibration_shots", 10_000))
                   if "readout" in mitigation else 0)
    precision = config.final_precision
    assert not isinstance(precision, str)  # "auto" is resolved when the config is made
    final = _final_shots(run, precision)
    most = _most_per_iteration(run, request, per_iteration)
    total = calibration + config.maxiter * per_iteration + final
    at_most = calibration + config.maxiter * most + final
    if config.shot_budget is not None:
        total = min(total, config.shot_budget)
        at_most = min(at_most, config.shot_budget)
    expected, expected_iterations = _expected(run, calibration, final)
    cost = run.gradient_cost()
    points = _points(run, request)
    start = run._start
    return {
        "molecule": run.problem.name, "qubits": run.problem.n_qubits,
        "parameters": run.circuit.num_parameters, "groups": estimator.grouped.n_groups,
        "grouping": run.config.grouping,
        "backend": estimator.backend_name, "optimizer": run.optimizer.name,
        "shots": config.shots, "allocation": config.allocation,
        "initial_point": start if start == "mp2" else "zeros" if start in (None, "hf")
        else "given",
        "points_per_iteration": points,
        "circuit_executions_per_iteration": points * estimator.grouped.n_groups,
        "shots_per_evaluation": estimator.shots_per_evaluation,
        "shots_per_iteration": per_iteration, "iterations": config.maxiter,
        "calibration_shots": calibration, "final_shots": final, "shots_per_run": total,
        "shots_per_iteration_at_most": most, "shots_per_run_at_most": at_most,
        "shots_per_run_expected": expected, "iterations_expected": expected_iterations,
        "shots_per_run_range": None if expected is None else
        [int(expected / RANGE_FACTOR), int(expected * RANGE_FACTOR)],
        "device_circuits": _device_circuits(estimator.sampler),
        "gradient_seconds": None if cost is None else cost.seconds,
        "gradient_memory_gb": None if cost is None else cost.peak_gb,
        "cost_model": None if cost is None else cost.model,
    }
