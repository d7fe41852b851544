"""The VQE driver: an estimator and an ask/tell optimizer → :class:`VQEResult`.

Each iteration ``k``: the optimizer asks for its evaluations at its current point θ_k; the
driver adds the energy at θ_k itself (so every optimizer pays the same for the record),
evaluates everything in one batch, records the history entry of θ_k, calls the callback,
and tells the optimizer. After the last update the energy at the final point is estimated
once more (charged) and reported as ``fun``. Stops at ``maxiter`` updates, when the next
iteration would exceed ``shot_budget``, when ``‖ĝ‖ ≤ gtol``, or when the callback says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from scipy.optimize import OptimizeResult

from .ansatz import build_ansatz
from .chem.problem import Problem, load_problem
from .estimation.base import Estimate, ShotLedger
from .estimation.estimator import Estimator, validate_shots
from .optimizers.ask_tell import AskTellOptimizer, Reply, Request
from .optimizers.registry import get_optimizer

HARTREE_TO_MHA = 1000.0
CHEMICAL_ACCURACY_MHA = 1.6
DEFAULT_MAXITER = 120


class VQEResult(OptimizeResult):
    """scipy ``OptimizeResult`` fields plus VQE bookkeeping.

    ``x``: final parameters; ``fun``: estimated energy at ``x`` (``stderr`` its standard
    error); ``jac``: last gradient estimate (or None); ``nit``: optimizer updates;
    ``nfev``: energy evaluations (parameter points) charged; ``success``/``status``/
    ``message``; ``energy_exact``: noiseless energy at ``x``; ``e_fci``; ``error_mha``:
    ``(energy_exact − e_fci)`` in mHa; ``shots_used``: Σ shots of every circuit execution;
    ``wall_time`` (s); ``history``: one dict per evaluated point of the trajectory
    (``iteration, energy, stderr, energy_exact, shots, time``), the last one at ``x``.
    """

    @property
    def within_chemical_accuracy(self) -> bool:
        return abs(self.error_mha) <= CHEMICAL_ACCURACY_MHA

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (numpy arrays become lists)."""
        out = {}
        for key, value in self.items():
            if isinstance(value, np.ndarray):
                value = value.tolist()
            elif isinstance(value, np.generic):
                value = value.item()
            out[key] = value
        out["energy"] = out.get("fun")
        out["within_chemical_accuracy"] = self.within_chemical_accuracy
        return out


def _resolve_problem(problem: Problem | str | Path) -> Problem:
    return problem if isinstance(problem, Problem) else load_problem(problem)


def vqe(problem: Problem | str | Path, ansatz: str | QuantumCircuit = "uccsd",
        optimizer: str | AskTellOptimizer = "adam", shots: int | None = 1000,
        seed: int | None = None, maxiter: int = DEFAULT_MAXITER,
        optimizer_options: dict | None = None, shot_budget: int | None = None,
        gtol: float | None = None, initial_point=None,
        callback: Callable[[OptimizeResult], Any] | None = None, device: str = "CPU",
        ansatz_options: dict | None = None, allocation: str | None = None,
        backend="statevector", backend_options: dict | None = None,
        checkpoint: str | Path | None = None, threads: int | None = None,
        _resume: dict | None = None) -> VQEResult:
    """Run VQE on ``problem`` (a :class:`Problem` or a molecule name/path).

    Args:
        ansatz: ``"uccsd"``, ``"hardware_efficient"`` or a parameterized circuit.
        optimizer: a registered name (``qvopt.optimizers.available()``) or an ask/tell
            optimizer object. Named optimizers start from their VQE defaults.
        shots: shots per measurement group per parameter point; ``None`` = exact energies.
            With ``allocation`` ("uniform", "weighted", "variance"), the total shots of one
            energy evaluation, split across the groups (see ``qvopt.estimation.allocation``).
        seed: seeds all sampling and any randomness of the optimizer.
        maxiter: maximum number of optimizer updates.
        shot_budget: stop before an iteration that would push ``shots_used`` past it.
        gtol: stop when the estimated gradient norm is at most ``gtol``.
        initial_point: starting parameters (default zeros: the Hartree–Fock state for UCCSD).
        callback: called after each iteration with an ``OptimizeResult`` (``x, fun, stderr,
            nit, shots_used``); raising ``StopIteration`` or returning True stops the run.
        backend, backend_options: where energies are measured (see
            ``qvopt.estimation.backends``); ``energy_exact`` is always the noiseless value.
        checkpoint: write the full run state here (atomically) after every iteration;
            continue it with :func:`resume` (ask/tell optimizers given by name).
    """
    source = problem if isinstance(problem, (str, Path)) else \
        getattr(getattr(problem, "spec", None), "source", None)
    config = {"problem": source,
              "ansatz": ansatz if isinstance(ansatz, str) else None,
              "optimizer": optimizer if isinstance(optimizer, str) else None,
              "shots": shots, "seed": seed, "maxiter": maxiter,
              "optimizer_options": optimizer_options, "shot_budget": shot_budget, "gtol": gtol,
              "initial_point": None if initial_point is None else np.asarray(initial_point),
              "device": device, "ansatz_options": ansatz_options, "allocation": allocation,
              "backend": backend if isinstance(backend, str) else None,
              "backend_options": backend_options}
    problem = _resolve_problem(problem)
    shots = validate_shots(shots)
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 0:
        raise ValueError(f"maxiter must be an integer >= 0, got {maxiter!r}")
    if shot_budget is not None and (not isinstance(shot_budget, (int, np.integer))
                                    or shot_budget <= 0):
        raise ValueError(f"shot_budget must be a positive integer, got {shot_budget!r}")
    if isinstance(ansatz, QuantumCircuit):
        circuit, ansatz_name = ansatz, ansatz.name
    else:
        circuit, ansatz_name = build_ansatz(ansatz, problem, **(ansatz_options or {})), ansatz
    if isinstance(optimizer, str):
        opt = get_optimizer(optimizer, vqe_defaults=True, **(optimizer_options or {}))
    else:
        if optimizer_options:
            raise ValueError("optimizer_options only apply to an optimizer given by name")
        opt = optimizer

    seeds = np.random.SeedSequence(seed).spawn(2)
    ledger = ShotLedger()
    estimator = Estimator(problem.hamiltonian, circuit, shots=shots,
                          seed=np.random.default_rng(seeds[0]), device=device, ledger=ledger,
                          allocation=allocation, backend=backend,
                          backend_options=backend_options, threads=threads)
    if checkpoint is not None:
        from .checkpoint import check_checkpointable

        check_checkpointable(config, opt)
    x0 = np.zeros(circuit.num_parameters) if initial_point is None else initial_point
    x0, single = estimator._check_points(x0)
    if not single:
        raise ValueError("initial_point must be one parameter vector")
    x0 = x0[0]

    history: list[dict] = []
    start = time.perf_counter()
    last_gradient = None

    def record(iteration: int, x: np.ndarray, value: Estimate) -> None:
        history.append({
            "iteration": iteration, "energy": float(value.value),
            "stderr": float(value.stderr), "energy_exact": estimator.exact_energy(x),
            "shots": ledger.shots_used, "time": time.perf_counter() - start,
        })

    def notify(nit: int, x: np.ndarray, value: Estimate) -> bool:
        """Call the user's callback; True means stop."""
        if callback is None:
            return False
        intermediate = OptimizeResult(x=np.array(x), fun=float(value.value),
                                      stderr=float(value.stderr), nit=nit,
                                      shots_used=ledger.shots_used)
        try:
            return bool(callback(intermediate))
        except StopIteration:
            return True

    if hasattr(opt, "run"):
        objective = _RunObjective(estimator, shot_budget)
        outcome = opt.run(objective, x0.copy(), maxiter=maxiter,
                          callback=_run_callback(objective, record, notify),
                          rng=np.random.default_rng(seeds[1]))
        if (not history or history[0]["iteration"] != 0) and objective.first is not None:
            history.insert(0, _history_entry(estimator, start, 0, *objective.first))
        x_final, nit = np.asarray(outcome.x, dtype=float), int(outcome.nit)
        status, message = int(outcome.status), str(outcome.message)
        last_gradient = objective.last_gradient
    else:
        from .estimation.backends import BackendError

        state = opt.init(x0.copy(), np.random.default_rng(seeds[1]))
        status, message = 1, f"maximum number of iterations ({maxiter}) reached"
        nit = 0
        if _resume is not None:
            from .checkpoint import restore

            state, nit, last_gradient, elapsed = restore(_resume, estimator, history)
            start -= elapsed
        while nit < maxiter:
            x = opt.params(state)
            request = opt.ask(state)
            if shot_budget is not None:
                cost = _request_cost(request, estimator)
                if ledger.shots_used + cost + estimator.shots_per_evaluation > shot_budget:
                    status, message = 2, f"shot budget ({shot_budget}) reached"
                    break
            try:
                reply = _answer(estimator, x, request)
            except BackendError as exc:
                status = 5
                message = f"stopped: {exc}" + (f"; checkpoint {checkpoint} is intact"
                                               if checkpoint is not None else "")
                break
            record(nit, x, reply.value)
            if reply.gradient is not None:
                last_gradient = reply.gradient.value
            state = opt.tell(state, reply)
            nit += 1
            if checkpoint is not None:
                from .checkpoint import save

                save(checkpoint, config, state, nit, estimator, history, last_gradient,
                     time.perf_counter() - start)
            if notify(nit, opt.params(state), reply.value):
                status, message = 3, "stopped by callback"
                break
            if gtol is not None and last_gradient is not None \
                    and np.linalg.norm(last_gradient) <= gtol:
                status, message = 0, f"gradient norm below gtol ({gtol})"
                break
        x_final = opt.params(state)

    if status == 5:  # the backend is down: report the last measured point, measure nothing
        final = Estimate(history[-1]["energy"], history[-1]["stderr"], 0) if history else \
            Estimate(float("nan"), float("nan"), 0)
        history.append({**(history[-1] if history else {}), "iteration": nit,
                        "energy_exact": estimator.exact_energy(x_final),
                        "shots": ledger.shots_used, "time": time.perf_counter() - start})
    else:
        final = estimator.energy(x_final)
        record(nit, x_final, final)
    energy_exact = history[-1]["energy_exact"]
    return VQEResult(
        x=x_final, fun=float(final.value), stderr=float(final.stderr), jac=last_gradient,
        nit=nit, nfev=ledger.evaluations, success=status in (0, 1, 2, 3), status=status,
        message=message, energy_exact=energy_exact, e_fci=problem.e_fci, e_hf=problem.e_hf,
        error_mha=(energy_exact - problem.e_fci) * HARTREE_TO_MHA,
        shots_used=ledger.shots_used, wall_time=time.perf_counter() - start,
        history=history, molecule=problem.name, ansatz=ansatz_name, optimizer=opt.name,
        optimizer_options=_plain(getattr(opt, "options", {})), shots=shots, seed=seed,
        n_qubits=problem.n_qubits, n_params=circuit.num_parameters,
        n_groups=estimator.grouped.n_groups, allocation=allocation,
        backend=estimator.backend_name,
    )


def resume(checkpoint: str | Path, maxiter: int | None = None,
           callback: Callable[[OptimizeResult], Any] | None = None) -> VQEResult:
    """Continue the run saved in ``checkpoint`` (same trajectory as an uninterrupted run).

    ``maxiter`` may raise the run's iteration limit; the checkpoint keeps being updated.
    """
    from .checkpoint import load

    saved = load(checkpoint)
    config = dict(saved["config"])
    if maxiter is not None:
        config["maxiter"] = maxiter
    problem = config.pop("problem")
    return vqe(problem, callback=callback, checkpoint=checkpoint, _resume=saved, **config)


def _plain(options: dict) -> dict:
    return {k: (v if isinstance(v, (int, float, str, bool, list, dict, tuple, type(None)))
                else repr(v)) for k, v in options.items()}


def _history_entry(estimator: Estimator, start: float, iteration: int, x: np.ndarray,
                   value: Estimate, shots: int) -> dict:
    return {"iteration": iteration, "energy": float(value.value), "stderr": float(value.stderr),
            "energy_exact": estimator.exact_energy(x), "shots": shots,
            "time": time.perf_counter() - start}


def _gradient_points(estimator: Estimator) -> int:
    from .estimation.parameter_shift import shift_rules

    if estimator._rules is None:
        estimator._rules = shift_rules(estimator.circuit)
    return sum(len(r.shifts) for r in estimator._rules)


def _request_cost(request: Request, estimator: Estimator) -> int:
    """Shots an iteration will charge (the driver's energy at θ included)."""
    points = 1
    if request.energies is not None:
        points += len(np.atleast_2d(request.energies))
    if request.gradient is not None:
        points += _gradient_points(estimator)
    cost = points * estimator.shots_per_evaluation
    shots = estimator.shots or 0
    if request.fidelities is not None:
        cost += len(np.atleast_2d(request.fidelities)) * shots
    if request.metric is not None:
        cost += estimator.metric_cost(request.metric_approx)
    return cost


def _answer(estimator: Estimator, x: np.ndarray, request: Request) -> Reply:
    """Evaluate a request plus the energy at ``x`` (energies and gradient in one batch)."""
    points = x[None, :]
    if request.energies is not None:
        points = np.vstack([points, np.atleast_2d(request.energies)])
    energies, gradient = estimator.evaluate(energies=points, gradient_at=request.gradient)
    per_point = estimator.shots_per_evaluation
    value = Estimate(float(energies.value[0]), float(energies.stderr[0]), per_point)
    others = None
    if request.energies is not None:
        others = Estimate(energies.value[1:], energies.stderr[1:],
                          per_point * (len(energies.value) - 1))
    metric = None
    if request.metric is not None:
        metric = estimator.metric(request.metric, approx=request.metric_approx)
    fidelities = None
    if request.fidelities is not None:
        fidelities = estimator.fidelity(x, np.atleast_2d(request.fidelities))
    return Reply(value=value, energies=others, gradient=gradient, metric=metric,
                 fidelities=fidelities)


class _RunObjective:
    """Answers SciPy-driven optimizers from the estimator, within the shot budget."""

    def __init__(self, estimator: Estimator, shot_budget: int | None):
        self.estimator = estimator
        self.shot_budget = shot_budget
        self.seen: dict[bytes, Estimate] = {}
        self.first = None
        self.last_gradient = None

    def _reserve(self, points: int) -> None:
        if self.shot_budget is None:
            return
        per = self.estimator.shots_per_evaluation
        # keep one evaluation in reserve for the final energy
        if self.estimator.shots_used + (points + 1) * per > self.shot_budget:
            from .optimizers.scipy_methods import BudgetExhausted

            raise BudgetExhausted

    def _remember(self, x: np.ndarray, value: Estimate) -> None:
        x = np.array(x, dtype=float)
        self.seen[x.tobytes()] = value
        if self.first is None:
            self.first = (x, value, self.estimator.shots_used)

    def value(self, x) -> float:
        self._reserve(1)
        value = self.estimator.energy(x)
        self._remember(x, value)
        return float(value.value)

    def value_and_gradient(self, x) -> tuple[float, np.ndarray]:
        self._reserve(1 + _gradient_points(self.estimator))
        value, gradient = self.estimator.value_and_gradient(x)
        self._remember(x, value)
        self.last_gradient = gradient.value
        return float(value.value), np.asarray(gradient.value)


def _run_callback(objective: _RunObjective, record, notify):
    """Per SciPy iteration: history entry (the initial point first) and the user callback."""

    def callback(intermediate) -> bool:
        x = np.array(intermediate.x, dtype=float)
        value = objective.seen.get(x.tobytes())
        if value is None:  # a point SciPy reports without having evaluated it exactly
            value = Estimate(float(intermediate.fun), float("nan"), 0)
        if intermediate.nit == 1 and objective.first is not None:
            record(0, *objective.first[:2])
        record(intermediate.nit, x, value)
        return notify(intermediate.nit, x, value)

    return callback
