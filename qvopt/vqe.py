"""One VQE run of a fixed circuit: a :class:`~qvopt.config.RunConfig` → estimator +
optimizer → :class:`~qvopt.result.VQEResult` (``qvopt.run``/``qvopt.vqe`` in
:mod:`qvopt.api` dispatch here).

Each iteration ``k`` the optimizer asks for its evaluations at its current point θ_k; the
estimator answers them together with the energy at θ_k (so every optimizer pays the same
for the record), the loop records θ_k, tells the optimizer, checkpoints, and calls the
callback (see :mod:`qvopt.driver` for the halting rules, shared with ``qvopt.minimize``).
After the last update the energy at the final point is estimated once more (charged) and
reported as ``fun``. ``energy_exact`` of every history entry is the noiseless energy of
that iterate (a reference, not charged).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from .accuracy import CHEMICAL_ACCURACY_MHA, HARTREE_TO_MHA, reached_accuracy
from .ansatz import build_ansatz
from .chem.problem import OPERATOR_PREFIX, Problem, load_problem
from .config import DEFAULT_MAXITER, RunConfig, default_shots
from .driver import Limits, Loop, Outcome, Status, drive
from .errors import InputError
from .estimation.base import Estimate
from .estimation.estimator import Estimator
from .estimation.grouping import GroupedHamiltonian
from .estimation.partition import form_groups
from .guard import GUARD_Z, Guarded
from .optimizers.registry import get_optimizer, uses_gradient
from .optimizers.scipy_methods import ScipyMethod
from .result import VQEResult

__all__ = ["CHEMICAL_ACCURACY_MHA", "DEFAULT_MAXITER", "Status", "VQEResult", "resume",
           "run_vqe"]


# ---------------------------------------------------------------- entry points
def run_vqe(config: RunConfig, callback: Callable[[OptimizeResult], Any] | None = None,
            threads: int | None = None, **objects) -> VQEResult:
    """Run the fixed-circuit VQE described by ``config`` (``qvopt.run`` dispatches here,
    and to :mod:`qvopt.adapt` for ``ansatz="adapt"``). ``objects`` (``problem``,
    ``circuit``, ``optimizer``, ``backend``) replace the named parts."""
    if config.ansatz == "adapt" and not any(v is not None for v in objects.values()):
        raise InputError("ansatz 'adapt' grows its circuit: run it with qvopt.run / "
                         "qvopt.vqe (qvopt.adapt.run_config)")
    return _Run(config, threads, **objects).execute(callback)


#: The constant steps round 2's VQE defaults gave the shot-adaptive optimizers: a round-2
#: checkpoint that did not record them resumes with them (its state holds that step).
ROUND_2_STEPS: dict[str, dict[str, Any]] = {
    "icans": {"variant": "icans2", "lr": 0.5, "lipschitz": 1.0},
    "rosalin": {"variant": "icans2", "lr": 0.5, "lipschitz": 1.0},
    "gcans": {"lr": 0.3, "lipschitz": 1.0}}


#: A gradient-free run's final point and its start are measured once more, each to half the
#: smaller of their standard errors, when their fresh values differ by less than this many
#: standard errors of the difference (:meth:`_Run._not_above_start`): Nelder–Mead on lih_fc
#: (seed 0) ended 1.64 mHa above its start, which one measurement of each (0.64–1.6 mHa)
#: did not show.
START_COMPARE_Z = 2.0


def pooled(first: Estimate, second: Estimate) -> Estimate:
    """Two independent estimates of one energy as one: the inverse-variance mean, its
    standard error ``(1/σ₁² + 1/σ₂²)^{-1/2}`` and the shots of both (an estimate with
    ``σ = 0`` is exact and is kept as it is)."""
    shots = int(first.shots) + int(second.shots)
    for exact in (first, second):
        if float(exact.stderr) == 0.0:
            return Estimate(float(exact.value), 0.0, shots)
    w1, w2 = float(first.stderr) ** -2.0, float(second.stderr) ** -2.0
    return Estimate(float((w1 * first.value + w2 * second.value) / (w1 + w2)),
                    float((w1 + w2) ** -0.5), shots)


def record_z(n_records: int) -> float:
    """``z`` for comparing a fresh estimate with the best of ``n`` noisy records: the
    one-sided ``0.135%`` level of :data:`~qvopt.guard.GUARD_Z` (3σ) divided among the
    ``n`` records (Bonferroni): 3.0 for one record, 3.97 for 37, 4.24 for 120."""
    from scipy.stats import norm

    tail = norm.sf(GUARD_Z) / max(int(n_records), 1)
    return float(max(GUARD_Z, norm.isf(tail)))


def resume(checkpoint: str | Path, maxiter: int | None = None,
           callback: Callable[[OptimizeResult], Any] | None = None,
           threads: int | None = None, problem: Problem | None = None) -> VQEResult:
    """Continue the run saved in ``checkpoint``: the same trajectory, shots and history as
    an uninterrupted run. ``maxiter`` may raise the run's iteration limit; the checkpoint
    keeps being updated. Refuses if the molecule file changed since it was written. A run
    on a Hamiltonian given as an operator needs that ``problem`` again
    (:func:`~qvopt.chem.operators.problem_from_operator`; checked by its digest)."""
    from .checkpoint import check_molecule, load, saved_config

    meta, arrays = load(checkpoint)
    config = saved_config(meta, checkpoint)
    # the checkpoint is the file the caller named; a result path stored inside it is not
    # obeyed (checkpoints are passed around: qvopt.io's write policy)
    changes: dict[str, Any] = {"checkpoint": str(checkpoint), "result": None}
    if maxiter is not None:
        changes["maxiter"] = maxiter
    options = config.optimizer_options
    if "guard" not in meta["config"]:
        # written before the guard and the convergence test (qvopt 0.2): the optimizer
        # state has no guard part; continue as the run started
        changes.update(guard=False, tol=None)
        if config.optimizer in ROUND_2_STEPS and "lipschitz" not in options:
            # older still: built with round 2's constant step, which its state holds
            options = {**ROUND_2_STEPS[config.optimizer], **options}
            changes["optimizer_options"] = options
    if "grouping" not in meta["config"]:  # written before FC groups (qvopt 0.3): QWC
        changes["grouping"] = "sorted_insertion"
    if config.optimizer in ("icans", "gcans") and "max_shots" not in options:
        # written before checkpoints held every built option and before the problem-derived
        # shot cap: resume without the cap, as the run started
        changes["optimizer_options"] = {**options, "max_shots": None}
    config = config.replace(**changes)
    check_molecule(config.molecule, meta, checkpoint, problem)
    run = _Run(config, threads, problem=problem if problem is not None
               and config.molecule.startswith(OPERATOR_PREFIX) else None)
    run.earlier_final_shots = meta["earlier_final_shots"]
    return run.execute(callback, saved=(meta, arrays))


# ---------------------------------------------------------------- one run
class _Run:
    """The parts of one run built from its configuration (or given as objects)."""

    def __init__(self, config: RunConfig, threads: int | None = None, problem=None,
                 circuit=None, optimizer=None, backend=None):
        import time

        self.started = time.perf_counter()
        self.config = config
        self.earlier_final_shots = 0  # set by resume(): see qvopt.checkpoint.save
        self.given = {name for name, part in (("ansatz", circuit), ("optimizer", optimizer),
                                              ("backend", backend)) if part is not None}
        self.problem = problem if problem is not None else load_problem(config.molecule,
                                                                         taper=config.taper)
        self.circuit = circuit if circuit is not None else build_ansatz(
            config.ansatz, self.problem, **config.ansatz_options)
        estimator_seed, self.optimizer_seed = np.random.SeedSequence(config.seed).spawn(2)
        config, grouped = self._enough_shots(config.sized(self.problem.n_qubits))
        self.config = config
        resolved = config.resolved
        self.estimator = Estimator(
            self.problem.hamiltonian, self.circuit, shots=resolved.shots, seed=estimator_seed,
            device=config.device, engine=config.engine, allocation=config.allocation,
            grouping=config.grouping,
            backend=backend if backend is not None else config.backend,
            backend_options=config.backend_options or None, threads=threads,
            grouped=grouped)
        # options the problem determines (Lipschitz bound, minimum shots, gate spectrum)
        # fill what neither the user nor VQE_DEFAULTS gave
        self.optimizer = optimizer if optimizer is not None else get_optimizer(
            config.optimizer, vqe_defaults=True, estimator=self.estimator,
            **config.optimizer_options)
        # measured energies are all the run knows of progress for these (see _not_above_start)
        self._compare_with_start = isinstance(self.optimizer, ScipyMethod) or (
            optimizer is None and not uses_gradient(config.optimizer))
        if not isinstance(self.optimizer, ScipyMethod) and (config.guard
                                                            or resolved.tol is not None):
            self.optimizer = Guarded(self.optimizer, resolved.tol, guard=config.guard)
        if config.checkpoint is not None:
            self._check_checkpointable(problem, circuit, optimizer, backend)
        self.x0 = self._initial_point()
        self._check_capacity()
        budget, floor = config.shot_budget, self.estimator.shots_per_evaluation
        if budget is not None and budget < floor:
            raise _named(InputError(f"shot_budget ({budget}) is below the {floor} shots of "
                                    "one energy evaluation (the final energy alone)"),
                         "shot_budget")

    def points_per_gradient(self) -> int:
        """Parameter points one gradient iteration samples: the iterate and every shifted
        point of the parameter-shift rules."""
        from .estimation.parameter_shift import points_per_parameter

        return 1 + int(points_per_parameter(self.estimator.shift_rules()).sum())

    def gradient_cost(self):
        """The predicted time and memory of one gradient (:func:`qvopt.capacity.gradient_cost`,
        probed once per run: the capacity check and the dry run share it)."""
        if not hasattr(self, "_gradient_cost"):
            from .capacity import gradient_cost

            self._gradient_cost = gradient_cost(self.estimator, self.x0,
                                                self.points_per_gradient())
        return self._gradient_cost

    def _check_capacity(self) -> None:
        """Refuse up front a sampled run whose gradient will not fit in memory (problems
        of :data:`~qvopt.capacity.CHECK_FROM_QUBITS` qubits or more; :mod:`qvopt.capacity`)."""
        from .capacity import CHECK_FROM_QUBITS, check_fits

        if self.problem.n_qubits < CHECK_FROM_QUBITS or self.estimator.shots is None:
            return
        check_fits(self.gradient_cost(), f"molecule {self.problem.name!r}")

    def _enough_shots(self, config: RunConfig) -> tuple[RunConfig, GroupedHamiltonian | None]:
        """The default shots (``"auto"``) with an allocation cover every measurement group
        of this problem (:func:`~qvopt.config.default_shots`); the result and checkpoints
        record the number used. Shots given explicitly are kept (too few: an error). Also
        returns the groups it formed (None if none), for the estimator to reuse."""
        if "shots" not in config.auto_fields or config.allocation is None:
            return config, None
        grouped = form_groups(self.problem.hamiltonian, config.grouping)
        shots = default_shots(grouped.n_groups)
        return (config if shots == config.shots else config.replace(shots=shots)), grouped

    def _check_checkpointable(self, problem, circuit, optimizer, backend) -> None:
        if self.given:
            raise InputError("checkpointing needs the ansatz, the optimizer and the backend "
                             "given by name")
        if isinstance(self.optimizer, ScipyMethod):
            raise InputError(f"optimizer {self.config.optimizer!r} runs inside SciPy and "
                             "cannot be checkpointed between iterations")

    @property
    def _start(self) -> tuple[float, ...] | str | None:
        """The configured start; the default (``"auto"``: MP2 for ``"uccsd"``) is zeros for
        a circuit given as an object (its parameters are not known excitations)."""
        start = self.config.initial_point
        if start == "mp2" and "ansatz" in self.given \
                and "initial_point" in self.config.auto_fields:
            return None
        return start

    def _initial_point(self) -> np.ndarray:
        """Zeros (``None``/``"hf"``: the Hartree–Fock state for UCCSD), MP2 amplitudes
        (``"mp2"``, UCCSD only; the default for ``"uccsd"``) or the given vector."""
        n, start = self.circuit.num_parameters, self._start
        if start is None or start == "hf":
            return np.zeros(n)
        if start == "mp2":
            if self.config.ansatz != "uccsd" or "ansatz" in self.given:
                raise InputError("initial_point='mp2' needs the uccsd ansatz given by name")
            from .chem.mp2 import mp2_initial_point

            return np.asarray(mp2_initial_point(self.problem, self.circuit), dtype=float)
        points, single = self.estimator.check_points(np.array(start), name="initial_point")
        if not single:
            raise InputError(f"initial_point must be one parameter vector of length {n}")
        return points[0]

    def execute(self, callback, saved: tuple[dict, dict] | None = None) -> VQEResult:
        config = self.config
        loop = Loop(self.estimator, Limits(config.maxiter, config.shot_budget, config.gtol),
                    callback=callback, on_iteration=self._checkpointer())
        state = None
        if saved is not None:
            from .checkpoint import restore

            template = self.optimizer.init(self.x0.copy(), np.random.default_rng(0))
            state = restore(*saved, loop, self.estimator, template)
        try:
            outcome = drive(self.optimizer, loop, self.x0,
                            np.random.default_rng(self.optimizer_seed), state)
            after_loop = self.estimator.shots_used
            final = self._final_energy(loop, outcome)
            outcome, final = self._better_point(loop, outcome, final)
            outcome, final = self._not_above_start(loop, outcome, final)
        finally:  # e.g. an IBM Session stops being billed now, not when collected
            getattr(self.estimator.sampler, "close", lambda: None)()
        spent_after_loop = self.estimator.shots_used - after_loop
        if spent_after_loop and config.checkpoint is not None \
                and Path(config.checkpoint).exists():
            from .checkpoint import note_final_shots

            note_final_shots(config.checkpoint, spent_after_loop)
        if loop.records and loop.records[-1].iteration == loop.nit:
            loop.records.pop()  # SciPy's last iterate: replaced by its fresh final measurement
        loop.record(loop.nit, outcome.x, final)
        return self._result(loop, outcome, final)

    def _checkpointer(self):
        path = self.config.checkpoint
        if path is None:
            return None
        from .checkpoint import molecule_digest, save

        digest = molecule_digest(self.config.molecule)
        # every option the optimizer was built with (the user's, VQE_DEFAULTS and the
        # problem's): a resumed run rebuilds exactly this optimizer even if those defaults
        # change in a later version
        built = json.loads(json.dumps(self.optimizer.options))
        saved = self.config.replace(optimizer_options=built)

        def write(loop: Loop, state) -> None:
            save(path, saved, loop, state, self.estimator, digest, self.earlier_final_shots)

        return write

    def _better_point(self, loop: Loop, outcome: Outcome, final: Estimate
                      ) -> tuple[Outcome, Estimate]:
        """The point to report: the final iterate, unless its fresh final measurement is
        measurably worse than the best recorded point (lowest ``E_j + zσ_j`` over the
        ``n`` records; worse: ``E_f − zσ_f > E_b + zσ_b``, with ``z`` = :func:`record_z`
        of ``n``: the lowest of many noisy records is low by about ``√(2 ln n)`` σ, so a
        fixed 3σ fired on luck; measured: hf_fc seed 1 moved from 0.76 to 3.84 mHa). Then
        the best point is measured afresh (charged, to ``final_precision``); it is
        reported only if that fresh value is lower than the final one, and then measured
        once more for the report (choosing by one measurement and reporting another keeps
        the winner's curse out of ``fun``). Only measured energies decide; SciPy's methods
        are covered as well."""
        measured = [r for r in loop.records
                    if np.isfinite(r.value.value) and np.isfinite(r.value.stderr)]
        if outcome.status == Status.BACKEND or not measured or not self._budget_allows():
            return outcome, final
        z = record_z(len(measured))
        best = min(measured, key=lambda r: r.value.value + z * r.value.stderr)
        bound = best.value.value + z * best.value.stderr
        if np.array_equal(best.x, outcome.x) or not (final.value - z * final.stderr > bound):
            return outcome, final
        moved = Outcome(np.array(best.x), outcome.status,
                        outcome.message + f"; the last iterate measured worse than iteration "
                        f"{best.iteration}, which is reported (measured again)",
                        outcome.state)
        return self._confirmed(loop, outcome, final, moved)

    def _not_above_start(self, loop: Loop, outcome: Outcome, final: Estimate
                         ) -> tuple[Outcome, Estimate]:
        """An optimizer that measures no gradient (SPSA, Rotosolve/NFT, SciPy's methods)
        never sees the curvature the guard scales steps by, and its noisy energy records
        cannot show a drift of a few mHa: such a run may end worse than it began (measured
        at VQE defaults: SPSA, 2-SPSA, NFT, Nelder–Mead, COBYLA, Powell on h2/lih_fc). For
        those runs the start is measured afresh as the final point was (charged). When the
        two values are within :data:`START_COMPARE_Z` standard errors of their difference,
        both points are measured again to half the smaller standard error and each pair
        pooled (only when the shot budget allows both)
        (:func:`pooled`). If the start measures lower, it is measured once more and that
        value is reported (choosing by one measurement and reporting another keeps the
        winner's curse out of ``fun``)."""
        if not self._compare_with_start or outcome.status == Status.BACKEND \
                or np.array_equal(outcome.x, self.x0) or not self._budget_allows():
            return outcome, final
        start = Outcome(np.array(self.x0), outcome.status,
                        outcome.message + "; the start measured lower than the final point "
                        "and is reported (measured again)", outcome.state)
        at_start, at_final = self._final_energy(loop, start), final
        difference = np.hypot(at_start.stderr, at_final.stderr)
        precision = self.config.resolved.final_precision
        if (precision is not None and np.isfinite(difference) and difference > 0
                and abs(at_start.value - at_final.value) < START_COMPARE_Z * difference
                and self._budget_allows()):
            # too close to call: both measured again, to half the precision, and pooled
            again = min(float(at_start.stderr), float(at_final.stderr)) / 2
            more_start = self._final_energy(loop, start, again)
            if self._budget_allows():  # both or neither: one pooled side would be unfair
                at_start = pooled(at_start, more_start)
                at_final = pooled(at_final, self._final_energy(loop, outcome, again))
        return self._confirmed(loop, outcome, final, start, at_start, at_final)

    def _confirmed(self, loop: Loop, outcome: Outcome, final: Estimate,
                   candidate: Outcome, measured: Estimate | None = None,
                   against: Estimate | None = None) -> tuple[Outcome, Estimate]:
        """``candidate`` if a fresh (charged) measurement of it (``measured``, when already
        made) is lower than ``final`` (or ``against``, a better estimate of the same point),
        and then with a second fresh measurement (choosing by one measurement and reporting
        another keeps the winner's curse out of ``fun``); else ``outcome`` and ``final``."""
        if measured is None:
            measured = self._final_energy(loop, candidate)
        if measured.value >= (final if against is None else against).value \
                or not self._budget_allows():
            return outcome, final
        return candidate, self._final_energy(loop, candidate)

    def _budget_allows(self) -> bool:
        """Whether the shot budget leaves room for one more final measurement."""
        budget = self.config.shot_budget
        return budget is None or (budget - self.estimator.shots_used
                                  >= self.estimator.shots_per_evaluation)

    def _final_energy(self, loop: Loop, outcome: Outcome, precision: float | None = None
                      ) -> Estimate:
        """A fresh (charged) estimate at the final point — to ``final_precision`` (or
        ``precision``) when set (:mod:`qvopt.final_energy`; within what the shot budget
        leaves, the loop having kept one evaluation in reserve); after a backend failure,
        the last measured value (nothing more is measured)."""
        if outcome.status != Status.BACKEND:
            if precision is None:
                precision = self.config.resolved.final_precision
            if precision is not None:
                from .final_energy import measure_to_precision

                budget = self.config.shot_budget
                left = None if budget is None else budget - self.estimator.shots_used
                final, _ = measure_to_precision(self.estimator, outcome.x, precision,
                                                max_shots=left)
                return final
            return self.estimator.energy(outcome.x)
        if loop.records:
            last = loop.records[-1].value
            return Estimate(float(last.value), float(last.stderr), 0)
        return Estimate(float("nan"), float("nan"), 0)

    def _result(self, loop: Loop, outcome: Outcome, final: Estimate) -> VQEResult:
        import time

        records, problem, config = loop.records, self.problem, self.config
        exact = np.atleast_1d(self.estimator.exact_energy(np.array([r.x for r in records])))
        history = [{"iteration": r.iteration, "energy": float(r.value.value),
                    "stderr": float(r.value.stderr), "energy_exact": float(e),
                    "shots": r.shots_used, "time": r.time} for r, e in zip(records, exact,
                                                                            strict=True)]
        reached = reached_accuracy(history, problem.e_fci)
        message = outcome.message
        if outcome.status == Status.BACKEND and config.checkpoint is not None:
            message += f"; checkpoint {config.checkpoint} is intact"
        if self.earlier_final_shots:
            message += (f"; {self.earlier_final_shots:,} shots of final-energy measurements "
                         "made before resuming are not in shots_used (earlier_final_shots)")
        precision = config.resolved.final_precision
        if precision is not None and final.stderr > precision:
            message += (f"; final energy ± {final.stderr * 1e3:.2f} mHa, not the requested "
                        f"{precision * 1e3:.2f} mHa"
                        + (" (the shot budget left too few shots)"
                           if config.shot_budget is not None else ""))
        return VQEResult(
            x=outcome.x, fun=float(final.value), stderr=float(final.stderr),
            jac=loop.last_gradient, nit=loop.nit, nfev=self.estimator.ledger.evaluations,
            success=outcome.status.success, status=outcome.status, message=message,
            energy_exact=history[-1]["energy_exact"], e_fci=problem.e_fci, e_hf=problem.e_hf,
            error_mha=(history[-1]["energy_exact"] - problem.e_fci) * HARTREE_TO_MHA,
            shots_used=self.estimator.shots_used,
            wall_time=loop.elapsed + time.perf_counter() - self.started, history=history,
            molecule=problem.name, ansatz=self._config_record()["ansatz"],
            optimizer=self.optimizer.name,
            optimizer_options=_plain(getattr(self.optimizer, "options", {})),
            shots=config.shots, seed=config.seed, n_qubits=problem.n_qubits,
            n_params=self.circuit.num_parameters, n_groups=self.estimator.grouped.n_groups,
            allocation=config.allocation, backend=self.estimator.backend_name,
            config=self._config_record(),
            final_shots=int(final.shots), earlier_final_shots=self.earlier_final_shots,
            shots_to_chemical_accuracy=None if reached is None else reached["shots"],
            iterations_to_chemical_accuracy=None if reached is None else reached["iteration"])

    def _config_record(self) -> dict[str, Any]:
        """The configuration; parts given as objects are described, not reproducible."""
        record = self.config.to_dict()
        described = {"ansatz": self.circuit.name, "optimizer": self.optimizer.name,
                     "backend": self.estimator.backend_name}
        record.update({name: described[name] for name in self.given})
        if "ansatz" in self.given:
            start = self._start
            record["initial_point"] = list(start) if isinstance(start, tuple) else start
        return record


def _named(error: InputError, field: str) -> InputError:
    """``error`` tagged with the run setting it is about (the CLI names the flag)."""
    error.field = field
    return error


def _plain(options: dict) -> dict:
    return {k: (v if isinstance(v, (int, float, str, bool, list, dict, tuple, type(None)))
                else repr(v)) for k, v in options.items()}
