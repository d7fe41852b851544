"""The one optimization loop: evaluation, budget, records, callback and halting rules.

Every optimizer in qvopt is driven through a :class:`Loop`. An ask/tell optimizer is run by
:func:`run_ask_tell`; SciPy methods own their loop and are driven through
:func:`run_scipy`, a bridge that sends every
function evaluation and every SciPy iteration through the same :class:`Loop` methods. So
``qvopt.vqe``, ``qvopt.resume`` and ``qvopt.minimize`` share one halting rule:

* ``maxiter`` updates → :attr:`Status.MAXITER` (SciPy's own iteration counters, which
  differ between methods, are only a backstop);
* the next evaluation would push ``shots_used`` past ``shot_budget`` (with the final
  energy kept in reserve) → :attr:`Status.BUDGET`;
* ``‖ĝ‖ ≤ gtol`` after an iteration → :attr:`Status.CONVERGED` (ĝ: the last gradient
  estimate, measured at the iterate before the update; methods that measure no gradient
  never stop on ``gtol``);
* the callback returns True or raises ``StopIteration`` → :attr:`Status.CALLBACK`; it gets
  ``x`` (the new iterate), ``fun``/``stderr`` (the energy measured at ``evaluated_x``: the
  iterate before the update for ask/tell optimizers, ``x`` itself for SciPy), ``nit`` and
  ``shots_used``;
* the backend fails after its retries → :attr:`Status.BACKEND`;
* a non-finite energy, or a SciPy method's abnormal exit → :attr:`Status.FAILED`;
* the optimizer's ``stop_reason(state)`` (the guard of :mod:`qvopt.guard`) says
  ``"converged: …"`` → :attr:`Status.CONVERGED`, or ``"diverged: …"`` →
  :attr:`Status.DIVERGED` (checked after the checkpoint hook and the callback, before
  ``maxiter``).

``KeyboardInterrupt`` is never caught: the checkpoint of the last completed iteration stays.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.optimize import OptimizeResult
from scipy.optimize import minimize as scipy_minimize

from .errors import BackendError
from .estimation.base import Estimate
from .estimation.request import Reply, Request
from .optimizers.scipy_methods import LIMIT_STATUSES, ScipyMethod


class Status(enum.IntEnum):
    """Why a run stopped. ``success`` is True for the planned ends (0–3)."""

    CONVERGED = 0  # gtol reached, or the SciPy method's own convergence test
    MAXITER = 1  # maxiter updates (or a SciPy method's evaluation limit)
    BUDGET = 2  # the shot budget would be exceeded by the next evaluation
    CALLBACK = 3  # the user's callback asked to stop
    FAILED = 4  # non-finite objective or abnormal end of a SciPy method
    BACKEND = 5  # the backend kept failing; the last measured point is reported
    DIVERGED = 6  # steps kept measuring worse than the best point; that point is reported

    @property
    def success(self) -> bool:
        return self in (Status.CONVERGED, Status.MAXITER, Status.BUDGET, Status.CALLBACK)


class Halt(Exception):
    """Raised inside a loop to stop it with ``status`` and ``message``."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Evaluator(Protocol):
    """What the loop needs to answer requests: an Estimator, or a plain function's wrapper.

    ``answer(x, request)`` evaluates the request plus the energy at ``x`` (charging the
    ledger); ``cost(request)`` is the number of shots that call will charge;
    ``shots_per_evaluation`` is what one more energy evaluation costs (kept in reserve
    for the final energy).
    """

    @property
    def shots_used(self) -> int: ...

    @property
    def shots_per_evaluation(self) -> int: ...

    def answer(self, x: np.ndarray, request: Request) -> Reply: ...

    def cost(self, request: Request) -> int: ...


@dataclass(frozen=True)
class Limits:
    """When to stop: ``maxiter`` updates, ``shot_budget`` shots, ``gtol`` gradient norm."""

    maxiter: int
    shot_budget: int | None = None
    gtol: float | None = None


@dataclass(frozen=True)
class Record:
    """One evaluated point of the trajectory: the energy estimate at the iterate ``x``."""

    iteration: int
    x: np.ndarray
    value: Estimate
    shots_used: int
    time: float


def wants_stop(callback: Callable[[OptimizeResult], Any] | None,
               intermediate: OptimizeResult) -> bool:
    """Call the user's callback; True (returned) or ``StopIteration`` (raised) means stop."""
    if callback is None:
        return False
    try:
        return bool(callback(intermediate))
    except StopIteration:
        return True


@dataclass
class Loop:
    """State shared by every way of driving an optimizer (see the module docstring).

    ``on_iteration(loop, state)`` runs after every completed update, before the callback
    (the VQE driver writes its checkpoint there). ``records`` and ``nit`` may start from
    a checkpoint; ``elapsed`` is the time already spent before this process.
    """

    evaluator: Evaluator
    limits: Limits
    callback: Callable[[OptimizeResult], Any] | None = None
    on_iteration: Callable[[Loop, Any], None] | None = None
    records: list[Record] = field(default_factory=list)
    nit: int = 0
    last_gradient: np.ndarray | None = None
    elapsed: float = 0.0
    _start: float = field(default_factory=time.perf_counter, repr=False)

    def clock(self) -> float:
        """Seconds since the run began (time before a resume included)."""
        return self.elapsed + time.perf_counter() - self._start

    def evaluate(self, x: np.ndarray, request: Request) -> Reply:
        """Answer ``request`` at the iterate ``x``, or :class:`Halt` (budget, backend, NaN)."""
        budget = self.limits.shot_budget
        if budget is not None:
            needed = self.evaluator.cost(request) + self.evaluator.shots_per_evaluation
            if self.evaluator.shots_used + needed > budget:
                raise Halt(Status.BUDGET, f"shot budget ({budget}) reached")
        try:
            reply = self.evaluator.answer(x, request)
        except BackendError as exc:
            raise Halt(Status.BACKEND, f"stopped: {exc}") from exc
        if not np.isfinite(reply.value.value):
            raise Halt(Status.FAILED, f"the objective is not finite ({reply.value.value}) "
                                      f"at iteration {self.nit}")
        if reply.gradient is not None:
            self.last_gradient = np.asarray(reply.gradient.value, dtype=float)
        return reply

    def record(self, iteration: int, x: np.ndarray, value: Estimate) -> None:
        self.records.append(Record(iteration, np.array(x, dtype=float), value,
                                   self.evaluator.shots_used, self.clock()))

    def completed(self, x: np.ndarray, value: Estimate, evaluated: np.ndarray,
                  state: Any = None, verdict: str = "") -> None:
        """One update done, now at ``x``; ``value`` is the energy measured at ``evaluated``
        (the iterate before the update, for ask/tell; ``x`` itself for SciPy). Runs the
        checkpoint hook, then the halting rules (``verdict``: the optimizer's own stop
        reason, see :func:`verdict_halt`); :class:`Halt` to stop."""
        self.nit += 1
        if self.on_iteration is not None:
            self.on_iteration(self, state)
        if self.callback is not None and wants_stop(self.callback, OptimizeResult(
                x=np.array(x), fun=float(value.value), stderr=float(value.stderr),
                evaluated_x=np.array(evaluated), nit=self.nit,
                shots_used=self.evaluator.shots_used)):
            raise Halt(Status.CALLBACK, "stopped by callback")
        verdict_halt(verdict)
        self.check_limits()

    def check_limits(self) -> None:
        """``gtol`` on the last gradient estimate, then ``maxiter``: :class:`Halt` if met."""
        gtol = self.limits.gtol
        if gtol is not None and self.last_gradient is not None \
                and np.linalg.norm(self.last_gradient) <= gtol:
            raise Halt(Status.CONVERGED, f"gradient norm below gtol ({gtol})")
        if self.nit >= self.limits.maxiter:
            raise Halt(Status.MAXITER,
                       f"maximum number of iterations ({self.limits.maxiter}) reached")


@dataclass(frozen=True)
class Outcome:
    """How a drive ended: the final iterate, why, and the optimizer state (ask/tell only)."""

    x: np.ndarray
    status: Status
    message: str
    state: Any = None


def verdict_halt(verdict: str) -> None:
    """:class:`Halt` for an optimizer's stop reason: ``"converged: …"`` →
    :attr:`Status.CONVERGED`, ``"diverged: …"`` → :attr:`Status.DIVERGED`; "" → nothing."""
    if verdict:
        status = Status.DIVERGED if verdict.startswith("diverged") else Status.CONVERGED
        raise Halt(status, verdict)


def run_ask_tell(optimizer, loop: Loop, state: Any) -> Outcome:
    """``ask → evaluate (+ energy at θ) → record → tell → completed`` until a halting rule."""
    stop_reason = getattr(optimizer, "stop_reason", lambda state: "")
    try:
        verdict_halt(stop_reason(state))  # a resumed run that had already stopped
        loop.check_limits()  # maxiter = 0, or a resumed run that had already converged
        while True:
            x = optimizer.params(state)
            reply = loop.evaluate(x, optimizer.ask(state))
            loop.record(loop.nit, x, reply.value)
            state = optimizer.tell(state, reply)
            loop.completed(optimizer.params(state), reply.value, x, state,
                           stop_reason(state))
    except Halt as halt:
        return Outcome(optimizer.params(state), halt.status, halt.message, state)


def drive(optimizer, loop: Loop, x0: np.ndarray, rng: np.random.Generator,
          state: Any = None) -> Outcome:
    """Run ``optimizer`` from ``x0`` (or from a restored ``state``) through ``loop``."""
    if isinstance(optimizer, ScipyMethod):  # SciPy owns its loop: the bridge below
        return run_scipy(optimizer, loop, x0)
    if state is None:
        state = optimizer.init(np.array(x0, dtype=float), rng)
    return run_ask_tell(optimizer, loop, state)


def run_scipy(method: ScipyMethod, loop: Loop, x0: np.ndarray) -> Outcome:
    """Run a SciPy method (:mod:`qvopt.optimizers.scipy_methods`) with every function
    evaluation going through ``loop.evaluate`` and every SciPy iteration through
    ``loop.completed``; SciPy's exit codes map to :class:`Status` by ``LIMIT_STATUSES``."""
    x0 = np.array(x0, dtype=float)
    measured: dict[bytes, Estimate] = {}
    request = (lambda x: Request(gradient=x)) if method.uses_gradient else \
        (lambda x: Request())

    def fun(x):
        reply = loop.evaluate(x, request(x))
        if not loop.records:  # the starting point is the trajectory's iteration 0
            loop.record(0, x, reply.value)
        measured[np.asarray(x, dtype=float).tobytes()] = reply.value
        value = float(reply.value.value)
        return (value, loop.last_gradient.copy()) if method.uses_gradient else value

    def on_iteration(intermediate_result):
        x = np.array(intermediate_result.x, dtype=float)
        value = measured.get(x.tobytes(),
                             Estimate(float(intermediate_result.fun), float("nan"), 0))
        loop.record(loop.nit + 1, x, value)
        loop.completed(x, value, x)

    last = lambda: loop.records[-1].x if loop.records else x0  # noqa: E731
    try:
        loop.check_limits()  # maxiter = 0: SciPy would still evaluate
        result = scipy_minimize(fun, x0.copy(), jac=method.uses_gradient or None,
                                method=method.method, callback=on_iteration,
                                options=method.scipy_options(x0, loop.limits.maxiter))
    except Halt as halt:
        return Outcome(last(), halt.status, halt.message)
    message = f"{method.method}: {result.message}"
    if result.success:
        status = Status.CONVERGED
    elif int(result.status) in LIMIT_STATUSES[method.method]:
        status = Status.MAXITER
    else:
        status = Status.FAILED
    return Outcome(np.array(result.x, dtype=float), status, message)
