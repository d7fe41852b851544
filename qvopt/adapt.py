"""ADAPT-VQE: grow the ansatz one pool operator at a time, on one honest shot ledger.

Grimsley et al., Nat. Commun. 10, 3007 (2019). Starting from Hartree–Fock, each growth step

1. **screens the pool**: for every candidate ``A_k`` (a Givens excitation of
   :mod:`qvopt.ansatz.pool`) the derivative of the energy with ``A_k`` appended, at angle 0,

       g_k = ∂E/∂φ_k |_{φ=0},   |ψ(θ, φ_k)⟩ = G_k(φ_k) U(θ)|HF⟩,   G_k(φ) = exp(φ/2 · A_k)

   so ``g_k = ½ ⟨ψ|[H, A_k]|ψ⟩``. Grimsley et al. write ``exp(φ A)`` and get
   ``⟨ψ|[H, A]|ψ⟩``; our gates carry the half angle of PennyLane's Givens gates, so every
   gradient is half of theirs and the choice is the same. ``g_k`` is measured by the gate's
   exact four-term shift rule (:mod:`qvopt.estimation.parameter_shift`)

       g_k = c₊[E(π/2) − E(−π/2)] − c₋[E(3π/2) − E(−3π/2)],   c± = (√2 ± 1)/(4√2)

   on ONE circuit, ``U(θ)`` followed by *every* candidate with its own angle: all 4·m
   shifted points (only ``φ_k`` shifted, the other candidates at 0, i.e. the identity) plus
   the point ``(θ, 0)`` — the energy of the current state — go to the estimator in one
   batched ``Estimator.energy`` call (one sampler call), charged on the run's ledger.
   ``Var g_k = Σ_s c_s² Var E_s`` (independent samples).
2. **selects** ``k* = argmax score_k`` with ``score_k = |g_k|`` (``selection="largest"``) or
   the lower confidence bound ``score_k = |g_k| − z·σ(g_k)`` (``"lcb"``, ``z = lcb_z``,
   default 2: prefers a slightly smaller gradient that is surely non-zero). Scores within
   1e-12 (relative) of the best count as ties and the first in pool order wins, so the
   exact mode is deterministic.
3. **stops** with ``Status.CONVERGED`` if ``score_{k*} < gradient_threshold``, or, with
   ``growth_tol``, when no candidate is predicted to gain more than it (95% bound on
   ``g_k²/(2h_k)``, :func:`~qvopt.pool_screening.pool_gain_test`); otherwise
   appends ``G_{k*}`` with angle 0 (the energy is unchanged) and
4. **re-optimizes all angles** (warm start ``(θ, 0)``, fresh optimizer state) with any qvopt
   optimizer through the one loop of :mod:`qvopt.driver` (``maxiter_per_step`` updates,
   ``gtol``; with ``step_tol``, behind the guard and convergence test of
   :mod:`qvopt.guard`), on an estimator that charges the same ledger.

With shots, a screening in which no gradient is 3σ from zero can be measured again
(``screening_refinements``, pooled: :meth:`_AdaptRun.refine`) before step 2. ``qvopt run``
turns all three on for sampled runs (:func:`run_config`); :func:`adapt_vqe` leaves them off.

The run also stops after ``max_operators`` operators (``Status.MAXITER``), when the next
screening or evaluation would pass ``shot_budget`` (``Status.BUDGET``, one final energy kept
in reserve), or when the callback asks (``Status.CALLBACK``). ``fun`` is a charged energy
estimate at the final angles: measured afresh to ``final_precision`` (the run default from
``qvopt run``/``RunConfig``: 1.6 mHa, as for any run), or without it the last screening's
energy, or one final evaluation.

Randomness: every estimator and optimizer of growth step ``k`` gets its own
``SeedSequence(entropy, spawn_key=(k, role))``, so the pick sequence is a function of the
seed, and a run resumed from a checkpoint (written after each growth step, data only)
continues exactly as the uninterrupted run.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit
from scipy.optimize import OptimizeResult

from .accuracy import CHEMICAL_ACCURACY_MHA, HARTREE_TO_MHA, reached_accuracy
from .ansatz.pool import ANSATZ_OPTIONS, Excitation, build_pool
from .ansatz.uccsd import hartree_fock_circuit
from .checkpoint import (
    ArchiveKind,
    check_molecule,
    ledger_meta,
    molecule_digest,
    read_archive,
    require_arrays,
    restore_ledger,
    write_archive,
)
from .checks import check_int
from .chem.problem import Problem, load_problem
from .driver import Halt, Limits, Loop, Status, drive
from .errors import BackendError, CheckpointError, InputError
from .estimation.base import Estimate, ShotLedger, validate_shots
from .estimation.estimator import Estimator
from .guard import Guarded
from .optimizers.registry import get_optimizer
from .pool_screening import (
    Screening,
    pool_gain_test,
    pool_gradients,
    pool_screening,
    pooled,
    screening_points,
    select_operator,
)
from .result import VQEResult

__all__ = [
    "AdaptResult",
    "AdaptSettings",
    "adapt_circuit",
    "adapt_vqe",
    "pool_gradients",
    "resume_adapt",
    "screening_points",
    "select_operator",
]

SELECTIONS = ("largest", "lcb")
ALLOCATIONS = (None, "uniform", "weighted", "variance")
CHECKPOINT_FORMAT = "qvopt-adapt-checkpoint"
CHECKPOINT_VERSION = 1
# the ADAPT checkpoint in the container of qvopt.checkpoint (it adds pool_gradients.N)
CHECKPOINT = ArchiveKind("ADAPT checkpoint", CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
                         {"settings": dict, "chosen": list, "steps": list,
                          "screenings": list, "history": list, "split": dict}, ("x",))
#: ``max_operators`` may repeat each pool operator at most this often (an operator chosen
#: again is legitimate, hundreds of times is noise being fitted).
MAX_OPERATORS_PER_POOL_OPERATOR = 2
# roles of the per-step random streams: SeedSequence(entropy, spawn_key=(step, role[, r]))
SCREEN, ESTIMATE, OPTIMIZE, FINAL, REFINE = 0, 1, 2, 3, 4
#: A screening is measured again while no pool gradient is this many σ from zero (or more
#: for large pools: :func:`significance_z`).
SIGNIFICANCE_Z = 3.0
#: At most this many refinements (the r-th measures 3·4^r × the screening's shots).
MAX_REFINEMENTS = 5
#: Screening refinements of a sampled ``qvopt run --ansatz adapt`` (RunConfig), unless its
#: ansatz options say otherwise: up to 64× the screening's shots. (Its optimizer and
#: ``tol`` defaults are RunConfig's: :data:`~qvopt.run_defaults.ADAPT_SAMPLED_OPTIMIZER`,
#: :data:`~qvopt.run_defaults.ADAPT_SAMPLED_TOL`.)
SAMPLED_REFINEMENTS = 3


def significance_z(candidates: int) -> float:
    """How many σ from zero a pool gradient must be to end a screening's refinements:
    :data:`SIGNIFICANCE_Z`, or for ``m`` candidates the two-sided 5% Bonferroni level
    ``Φ⁻¹(1 − 0.05/(2m))`` when that is larger (3.1 for H4's 26, 3.5 for LiH's 92). With
    3σ flat, one of LiH's 92 zero gradients crossed by chance in about a fifth of the
    screenings, ended the refining early, and left the growth test too noisy to fire: the
    run grew to all 92 operators (1.0e10 shots; 1.0e9 with this level)."""
    from scipy.stats import norm

    return max(SIGNIFICANCE_Z, float(norm.isf(0.05 / (2 * max(candidates, 1)))))


# ---------------------------------------------------------------- settings
@dataclass(frozen=True)
class AdaptSettings:
    """Everything that defines an ADAPT run (checked on construction; JSON-ready).

    ``seed_entropy`` is the entropy of ``SeedSequence(seed)`` (drawn from the OS when
    ``seed`` is None, and recorded so the run can be resumed and repeated).
    """

    molecule: str | None
    pool: str | tuple[tuple[int, ...], ...] = "singles_doubles"
    optimizer: str = "adam"
    optimizer_options: dict = field(default_factory=dict)
    shots: int | None = 1000
    seed_entropy: int = 0
    max_operators: int | None = None
    gradient_threshold: float = 1e-3
    maxiter_per_step: int = 50
    shot_budget: int | None = None
    allocation: str | None = None
    selection: str = "largest"
    lcb_z: float = 2.0
    gtol: float | None = None
    drain_pool: bool = False
    checkpoint: str | None = None
    screening_shots: int | None = None
    final_precision: float | None = None
    step_tol: float | None = None
    screening_refinements: int = 0
    guard: bool = False
    growth_tol: float | None = None

    def __post_init__(self) -> None:
        for name in ("drain_pool", "guard"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name} must be true or false, got "
                                 f"{getattr(self, name)!r}")
        if self.growth_tol is not None:
            _check_real("growth_tol", self.growth_tol, 0.0)
            if self.shots is None:
                raise InputError("growth_tol needs shots (shots=None is exact: use "
                                 "gradient_threshold)")
        object.__setattr__(self, "shots", validate_shots(self.shots))
        object.__setattr__(self, "screening_shots",
                           validate_shots(self.screening_shots, "screening_shots"))
        if self.screening_shots is not None and self.shots is None:
            raise InputError("screening_shots needs shots (shots=None is exact)")
        if self.step_tol is not None:
            _check_real("step_tol", self.step_tol, 0.0)
        object.__setattr__(self, "screening_refinements", check_int(
            "screening_refinements", self.screening_refinements, 0))
        if self.screening_refinements > MAX_REFINEMENTS:
            raise InputError(f"screening_refinements must be at most {MAX_REFINEMENTS} (the "
                             f"last screening would take {3 * 4 ** MAX_REFINEMENTS}× the "
                             f"shots), got {self.screening_refinements}")
        if self.final_precision is not None:
            _check_real("final_precision", self.final_precision, 1e-5)
            if self.shots is None:
                raise InputError("final_precision needs shots (shots=None is exact)")
        for name, optional in (("max_operators", True), ("maxiter_per_step", False),
                               ("shot_budget", True)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), 1,
                                                     optional=optional))
        _check_real("gradient_threshold", self.gradient_threshold, 0.0)
        _check_real("lcb_z", self.lcb_z, 0.0)
        if self.gtol is not None:
            _check_real("gtol", self.gtol, 0.0)
        if self.selection not in SELECTIONS:
            raise InputError(f"selection must be one of {list(SELECTIONS)}, got "
                             f"{self.selection!r}")
        if self.allocation not in ALLOCATIONS:
            raise InputError(f"allocation must be one of {list(ALLOCATIONS)}, got "
                             f"{self.allocation!r}")
        if self.allocation is not None and self.shots is None:
            raise InputError("allocation needs a total number of shots (shots=None is exact)")
        if not isinstance(self.optimizer, str):
            raise InputError(f"optimizer must be a name, got {self.optimizer!r}")
        if not isinstance(self.optimizer_options, dict):
            raise InputError(f"optimizer_options must be a dict, got "
                             f"{self.optimizer_options!r}")
        if self.checkpoint is not None and self.molecule is None:
            raise InputError("checkpoint needs the problem loaded from a molecule name or file")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pool"] = self.pool if isinstance(self.pool, str) else [list(w) for w in self.pool]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdaptSettings:
        names = {f for f in cls.__dataclass_fields__}
        if isinstance(data, dict):
            # written before qvopt 0.3: one final evaluation, no step test, no refinements
            data = {"final_precision": None, "step_tol": None, "screening_refinements": 0,
                    "growth_tol": None, "guard": False, **data}
        if not isinstance(data, dict) or set(data) != names:
            raise CheckpointError(f"checkpoint field 'settings' must have the keys "
                                  f"{sorted(names)}")
        pool = data["pool"]
        if not isinstance(pool, str):
            pool = tuple(tuple(w) for w in pool)
        try:
            return cls(**{**data, "pool": pool})
        except (InputError, TypeError) as exc:
            raise CheckpointError(f"checkpoint field 'settings' is invalid: {exc}") from None


def _check_real(name: str, value, low: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(float(value)) or value < low:
        raise InputError(f"{name} must be a finite number >= {low}, got {value!r}")


# ---------------------------------------------------------------- result
class AdaptResult(VQEResult):
    """:class:`~qvopt.vqe.VQEResult` fields plus the ADAPT record.

    ``x``: angles of the final circuit, one per operator in ``operators`` order;
    ``operators``: labels (``"D(0,1,2,3)"``) of the chosen operators in circuit order;
    ``operator_wires``: their qubits (rebuild the circuit with
    :func:`adapt_circuit`); ``steps``: one dict per growth step (``step, operator, wires,
    pool_index, gradient, gradient_stderr, score, screening_shots, optimization_shots, nit,
    inner_status, energy_exact, error_mha`` and, once measured, ``energy, stderr``: the
    estimated energy at the step's optimized angles); ``screenings``: one dict per pool
    screening (``step, shots, energy, stderr, energy_exact, best, score``);
    ``pool_gradients``: the gradient vector of each screening; ``screening_shots`` /
    ``optimization_shots`` / ``final_shots``: the ledger split (they sum to
    ``shots_used``); ``pool``: labels of the pool; ``n_params`` = number of operators.
    """

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the pool gradients become lists)."""
        out = super().to_dict()
        out["pool_gradients"] = [np.asarray(g).tolist() for g in self.pool_gradients]
        return out


# ---------------------------------------------------------------- circuits and gradients
def adapt_circuit(problem: Problem, operators: Sequence[Excitation],
                  name: str | None = None) -> QuantumCircuit:
    """``Π_k G_k(θ_k) |HF⟩``: the Hartree–Fock state, then ``operators`` in order, each with
    its own angle ``θ[k]`` (one ParameterVector, so ``circuit.parameters`` keeps the order)."""
    theta = ParameterVector("θ", len(operators))
    circuit = hartree_fock_circuit(problem)
    circuit.name = name or f"adapt_{problem.name}_{len(operators)}"
    for k, op in enumerate(operators):
        circuit.append(op.gate(theta[k]), list(op.wires))
    circuit.metadata = {"ansatz": "adapt", "operators": [list(op.wires) for op in operators]}
    return circuit


# ---------------------------------------------------------------- public entry points
def adapt_vqe(problem: Problem | str | Path, pool: str | Sequence[Sequence[int]]
              = "singles_doubles", optimizer: str = "adam",
              optimizer_options: dict | None = None, shots: int | None = 1000,
              seed: int | None = None, max_operators: int | None = None,
              gradient_threshold: float = 1e-3, maxiter_per_step: int = 50,
              shot_budget: int | None = None, allocation: str | None = None,
              selection: str = "largest", checkpoint: str | Path | None = None,
              callback: Callable[[OptimizeResult], Any] | None = None, *,
              lcb_z: float = 2.0, gtol: float | None = None, drain_pool: bool = False,
              screening_shots: int | None = None, threads: int | None = None,
              final_precision: float | None = None, step_tol: float | None = None,
              screening_refinements: int = 0, growth_tol: float | None = None,
              guard: bool = False) -> AdaptResult:
    """ADAPT-VQE on ``problem`` (a :class:`Problem`, or a molecule name or file path).

    ``pool``: ``"singles_doubles"`` (default), ``"doubles"``, ``"singles"``,
    ``"qubit_excitations"`` or a list of wire lists (see :mod:`qvopt.ansatz.pool`).
    ``optimizer``/``optimizer_options``: any registered qvopt optimizer (VQE defaults fill
    missing options), run for at most ``maxiter_per_step`` updates (and ``gtol``) after each
    growth. ``shots``: per group per point, or the total per evaluation with ``allocation``
    (``"uniform"``, ``"weighted"``, ``"variance"``); ``None`` is exact. ``max_operators``:
    default the pool size. ``gradient_threshold`` stops growth when the best score is
    below it (Ha per radian of our half-angle gates). ``selection``: ``"largest"`` |g| or
    ``"lcb"`` (|g| − ``lcb_z``·σ). ``drain_pool``: never pick an operator twice.
    ``screening_shots``: shots (same meaning as ``shots``) for each point of a pool
    screening; default ``shots``. ``checkpoint``: an ``.npz`` written after each growth step
    (see :func:`resume_adapt`). ``final_precision``: the standard error (Ha) the final
    energy is measured to (None: one evaluation or the last screening's).
    ``step_tol`` (Ha; with shots): each re-optimization runs under the convergence test of
    :mod:`qvopt.guard` with this ``tol`` and ends when converged (None: ``maxiter_per_step``
    updates). ``guard`` (with shots): each re-optimization's steps are checked against
    the measured energies (the step guard of :mod:`qvopt.guard`).
    ``screening_refinements``: how many times a screening in which no gradient is 3σ from
    zero is measured again, the r-th with ``3·4^r`` × its shots, pooled (0: never).
    ``growth_tol`` (Ha; with shots): stop growing when no pool operator is predicted to
    lower the energy by more than this (95% bound, :func:`pool_gain_test`).
    ``callback(intermediate)`` after every optimizer update, with ``x, fun, stderr, nit,
    shots_used, adapt_step, operators``; True or ``StopIteration`` stops the run.
    """
    if seed is not None:
        seed = check_int("seed", seed, 0)
    loaded = problem if isinstance(problem, Problem) else load_problem(problem)
    molecule = loaded.source
    entropy = np.random.SeedSequence(seed).entropy
    assert isinstance(entropy, int)  # an int or None seed gives (or draws) an int entropy
    settings = AdaptSettings(
        molecule=molecule, pool=pool if isinstance(pool, str) else tuple(
            _qubit_indices(w) for w in _wire_lists(pool)),
        optimizer=optimizer, optimizer_options=dict(optimizer_options or {}), shots=shots,
        seed_entropy=entropy, max_operators=max_operators,
        gradient_threshold=gradient_threshold, maxiter_per_step=maxiter_per_step,
        shot_budget=shot_budget, allocation=allocation, selection=selection, lcb_z=lcb_z,
        gtol=gtol, drain_pool=drain_pool, screening_shots=screening_shots,
        checkpoint=None if checkpoint is None else str(checkpoint),
        final_precision=final_precision, step_tol=step_tol,
        screening_refinements=screening_refinements, growth_tol=growth_tol, guard=guard)
    return _AdaptRun(settings, loaded, threads).execute(callback)


def resume_adapt(checkpoint: str | Path, max_operators: int | None = None,
                 callback: Callable[[OptimizeResult], Any] | None = None,
                 threads: int | None = None) -> AdaptResult:
    """Continue the ADAPT run saved in ``checkpoint`` after its last completed growth step:
    the same picks, shots and history as the uninterrupted run (``max_operators`` may raise
    the limit). Refuses if the molecule file changed since the checkpoint was written."""
    meta, arrays = _load_checkpoint(checkpoint)
    try:
        settings = AdaptSettings.from_dict(meta["settings"])
    except CheckpointError as exc:
        raise CheckpointError(f"{checkpoint}: {exc}") from None
    settings = replace(settings, checkpoint=str(checkpoint))
    if max_operators is not None:
        settings = replace(settings, max_operators=max_operators)
    molecule = settings.molecule
    if molecule is None:  # unreachable: settings with a checkpoint name their molecule
        raise CheckpointError(f"{checkpoint}: the checkpoint's settings name no molecule")
    check_molecule(molecule, meta, checkpoint)
    run = _AdaptRun(settings, load_problem(molecule), threads)
    run.restore(meta, arrays, checkpoint)
    return run.execute(callback)


def run_config(config, callback: Callable[[OptimizeResult], Any] | None = None,
               threads: int | None = None) -> AdaptResult:
    """ADAPT for a :class:`~qvopt.config.RunConfig` with ``ansatz="adapt"``.

    ``ansatz_options`` are the ADAPT options of :data:`ANSATZ_OPTIONS`; ``maxiter`` is the
    per-step limit unless ``maxiter_per_step`` is given there; ``optimizer``,
    ``optimizer_options``, ``shots``, ``seed``, ``shot_budget``, ``gtol``, ``allocation``
    and ``checkpoint`` map onto :func:`adapt_vqe`; with shots, ``tol`` becomes ``step_tol``
    and the default ``growth_tol``, ``guard`` is passed on, and ``screening_refinements``
    defaults to :data:`SAMPLED_REFINEMENTS` (RunConfig resolves a sampled ADAPT run's
    optimizer to iCANS and its ``tol`` to 5e-4). Only the statevector backend on the CPU and
    the Hartree–Fock start are supported (anything else is an InputError).
    """
    options = dict(config.ansatz_options)
    unknown = sorted(set(options) - set(ANSATZ_OPTIONS))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for ansatz 'adapt'; valid: "
                         f"{list(ANSATZ_OPTIONS)}")
    if config.backend != "statevector" or config.device != "CPU":
        raise InputError("ansatz 'adapt' runs on the statevector backend (CPU) only, got "
                         f"backend {config.backend!r}, device {config.device!r}")
    if getattr(config, "initial_point", None) is not None:
        raise InputError("ansatz 'adapt' starts from Hartree-Fock: initial_point must be unset")
    options.setdefault("maxiter_per_step", config.maxiter)
    problem, shots = load_problem(config.molecule), config.shots
    auto: frozenset[str] = getattr(config, "auto_fields", frozenset())
    sampled: dict[str, Any] = {}
    if shots is not None:
        step_tol = getattr(config, "tol", None)
        options.setdefault("screening_refinements", SAMPLED_REFINEMENTS)
        options.setdefault("growth_tol", step_tol)
        sampled = {"step_tol": step_tol, "guard": getattr(config, "guard", True)}
    if "shots" in auto and config.allocation is not None:
        # shots="auto" covers every measurement group, as for a fixed circuit (vqe.py)
        from .config import default_shots
        from .estimation.grouping import group_qubitwise_commuting

        shots = default_shots(group_qubitwise_commuting(problem.hamiltonian).n_groups)
    return adapt_vqe(problem, optimizer=config.optimizer,
                     optimizer_options=config.optimizer_options, shots=shots,
                     seed=config.seed, shot_budget=config.shot_budget,
                     allocation=config.allocation, gtol=config.gtol,
                     checkpoint=config.checkpoint, callback=callback, threads=threads,
                     final_precision=getattr(config, "final_precision", None),
                     **sampled, **options)


def is_adapt_checkpoint(path: str | Path) -> bool:
    """True if ``path`` is a readable ADAPT checkpoint (for the CLI's ``--resume``)."""
    try:
        _load_checkpoint(path)
    except CheckpointError:
        return False
    return True


def _qubit_indices(wires) -> tuple[int, ...]:
    """A pool entry's qubits as ints; anything but whole numbers (0.5, "a", True) is an
    InputError naming the entry (never silently truncated)."""
    import numbers

    if not all(isinstance(q, numbers.Integral) and not isinstance(q, bool) for q in wires):
        raise InputError(f"pool entry {list(wires)!r} must list qubit indices (integers)")
    return tuple(int(q) for q in wires)


def _wire_lists(pool) -> list:
    try:
        return [list(w) for w in pool]
    except TypeError:
        raise InputError(f"pool must be a name or a list of wire lists, got {pool!r}") from None


# ---------------------------------------------------------------- one run
class _AdaptRun:
    """The state of one ADAPT run: chosen operators, angles, records, one ledger."""

    def __init__(self, settings: AdaptSettings, problem: Problem, threads: int | None):
        self.started = time.perf_counter()
        self.settings, self.problem, self.threads = settings, problem, threads
        self.pool = build_pool(problem, settings.pool if isinstance(settings.pool, str)
                               else [list(w) for w in settings.pool])
        self.max_operators = settings.max_operators or len(self.pool)
        limit = MAX_OPERATORS_PER_POOL_OPERATOR * len(self.pool)
        if self.max_operators > limit:
            raise InputError(f"max_operators ({self.max_operators}) must be at most "
                             f"{limit} ({MAX_OPERATORS_PER_POOL_OPERATOR} × the "
                             f"{len(self.pool)} operators of the pool): under shot noise a "
                             "pool gradient never reaches the threshold and the same "
                             "operators are appended again and again")
        self.optimizer = get_optimizer(settings.optimizer, vqe_defaults=True,
                                       **settings.optimizer_options)
        self.ledger = ShotLedger()
        self.chosen: list[int] = []  # pool indices, in circuit order
        self.x = np.zeros(0)
        self.steps: list[dict] = []
        self.screenings: list[dict] = []
        self.gradients: list[np.ndarray] = []
        self.history: list[dict] = []
        self.split = {"screening": 0, "optimization": 0, "final": 0}
        self.nit = 0
        self.elapsed = 0.0
        self.measured = False  # is the energy at self.x measured (by a screening)?
        if settings.checkpoint is not None and settings.molecule is not None:
            self.digest = molecule_digest(settings.molecule)

    # ------------------------------------------------------------ pieces
    @property
    def operators(self) -> list[Excitation]:
        return [self.pool[i] for i in self.chosen]

    def seed(self, step: int, role: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.settings.seed_entropy, spawn_key=(step, role))

    def estimator(self, operators: Sequence[Excitation], step: int, role: int) -> Estimator:
        s = self.settings
        shots = s.screening_shots if role == SCREEN and s.screening_shots else s.shots
        return Estimator(self.problem.hamiltonian, adapt_circuit(self.problem, operators),
                         shots=shots, seed=self.seed(step, role), ledger=self.ledger,
                         allocation=s.allocation, threads=self.threads)

    def step_optimizer(self, estimator: Estimator):
        """The optimizer of one re-optimization, with the options derived from that step's
        circuit and groups (:func:`~qvopt.optimizers.registry.problem_options`: the
        shot-adaptive methods' Lipschitz bound and shot floor grow with the circuit)."""
        s = self.settings
        optimizer = get_optimizer(s.optimizer, vqe_defaults=True, estimator=estimator,
                                  **s.optimizer_options)
        if (s.step_tol is not None or s.guard) and s.shots is not None:
            optimizer = Guarded(optimizer, s.step_tol, guard=s.guard)
        return optimizer

    def clock(self) -> float:
        return self.elapsed + time.perf_counter() - self.started

    def log(self, step: int, kind: str, x: np.ndarray, value: Estimate, exact: float,
            shots_used: int, at: float) -> None:
        self.history.append({"iteration": self.nit, "step": step, "kind": kind,
                             "energy": float(value.value), "stderr": float(value.stderr),
                             "energy_exact": float(exact), "shots": int(shots_used),
                             "time": float(at), "n_operators": len(x)})

    # ------------------------------------------------------------ the growth loop
    def execute(self, callback) -> AdaptResult:
        try:
            while True:
                step = len(self.chosen)
                if step >= self.max_operators:
                    raise Halt(Status.MAXITER, f"maximum number of operators "
                                               f"({self.max_operators}) reached")
                index = self.screen(step)
                self.grow(step, index, callback)
                self.save()
        except Halt as halt:
            status, message = halt.status, halt.message
        final = self.final_energy(status)
        return self.result(status, message, final)

    def screen(self, step: int) -> int:
        """Measure the pool gradients at the current angles; the chosen pool index, or
        :class:`Halt` (threshold, budget, backend, drained pool)."""
        s = self.settings
        estimator = self.estimator(self.operators + self.pool, step, SCREEN)
        n_points = 1 + int(sum(len(r.shifts) for r in estimator.shift_rules()[len(self.x):]))
        cost = n_points * estimator.shots_per_evaluation
        if s.shot_budget is not None and self.ledger.shots_used + cost \
                + estimator.shots_per_evaluation > s.shot_budget:
            raise Halt(Status.BUDGET, f"shot budget ({s.shot_budget}) reached")
        before = self.ledger.shots_used
        excluded = self.chosen if s.drain_pool else ()
        try:
            screening = pool_screening(estimator, self.x)
            energy, gradient, curvature, refinements = self.refine(step, estimator, screening,
                                                                    excluded)
        except BackendError as exc:
            raise Halt(Status.BACKEND, f"stopped: {exc}") from exc
        if not np.isfinite(energy.value) or not np.all(np.isfinite(gradient.value)):
            raise Halt(Status.FAILED, f"non-finite pool gradients at growth step {step}")
        spent = self.ledger.shots_used - before
        self.split["screening"] += spent
        exact = self.exact_energy(self.x)
        self.log(step, "screening", self.x, energy, exact, self.ledger.shots_used, self.clock())
        self.measured = True
        if self.steps:
            self.steps[-1].update(energy=float(energy.value), stderr=float(energy.stderr))
        index, score = select_operator(gradient, s.selection, s.lcb_z, excluded)
        values = np.array(gradient.value, dtype=float)
        stderrs = np.asarray(gradient.stderr, dtype=float)
        self.gradients.append(values)
        self.screenings.append({
            "step": step, "shots": spent, "energy": float(energy.value),
            "stderr": float(energy.stderr), "energy_exact": exact,
            "best": None if index < 0 else self.pool[index].label, "score": score,
            "refinements": refinements,
            "pool_stderr": stderrs.tolist(),
            "gradient": None if index < 0 else float(values[index]),
            "gradient_stderr": None if index < 0 else float(stderrs[index])})
        if index < 0:
            raise Halt(Status.CONVERGED, "the pool is drained")
        quiet = None if s.growth_tol is None else \
            pool_gain_test(gradient, curvature, s.growth_tol, excluded)
        if quiet is not None:
            raise Halt(Status.CONVERGED, quiet)
        if score < s.gradient_threshold:
            raise Halt(Status.CONVERGED, f"largest pool gradient score {score:.3g} below "
                                         f"gradient_threshold ({s.gradient_threshold})")
        return index

    def refine(self, step: int, estimator: Estimator, screening: Screening,
               excluded: Sequence[int] = ()) -> tuple[Estimate, Estimate, Estimate, int]:
        """While no pool gradient (``excluded`` ones aside) is :func:`significance_z` σ from
        zero, measure the screening again (refinement ``r`` with ``3·4^r`` × its shots, so
        each one at least halves σ; at most ``screening_refinements``, within the shot
        budget) and pool all of them with weights proportional to their shots:
        ``ĝ = Σ_r w_r ĝ_r``, ``σ² = Σ_r w_r² σ_r²``, and the same for the energy and the
        curvatures. Each round is unbiased, but *when* the rounds stop depends on the data
        (it stops once a gradient looks large), so the pooled gradients lean away from
        zero: by up to 0.3σ of the first round for a true gradient of 1–3σ (a simulation
        of this rule by a reviewer). That makes the growth test more cautious, never less;
        the recorded ``pool_gradients`` carry the same lean. Returns the pooled energy,
        gradients, curvatures and the number of refinements made."""
        s = self.settings
        base = s.screening_shots or s.shots
        rounds = [(1, screening)]
        gradient = screening.gradient
        for r in range(s.screening_refinements if base is not None else 0):
            values = np.abs(np.asarray(gradient.value, dtype=float))
            z = significance_z(len(values) - len(excluded))
            margin = values - z * np.asarray(gradient.stderr, dtype=float)
            margin[list(excluded)] = -np.inf
            if np.any(margin > 0):
                break
            factor = 3 * 4**r
            if s.shot_budget is not None and self.ledger.shots_used + factor * (
                    screening.energy.shots + screening.gradient.shots) \
                    + estimator.shots_per_evaluation > s.shot_budget:
                break
            more = Estimator(self.problem.hamiltonian, estimator.circuit, shots=factor * base,
                             seed=np.random.SeedSequence(s.seed_entropy,
                                                         spawn_key=(step, REFINE, r)),
                             ledger=self.ledger, allocation=s.allocation,
                             threads=self.threads)
            rounds.append((factor, pool_screening(more, self.x)))
            gradient = pooled([(w, one.gradient) for w, one in rounds])
        return (pooled([(w, one.energy) for w, one in rounds]), gradient,
                pooled([(w, one.curvature) for w, one in rounds]), len(rounds) - 1)

    def grow(self, step: int, index: int, callback) -> None:
        """Append pool operator ``index`` (angle 0) and re-optimize every angle."""
        s = self.settings
        self.chosen.append(index)
        self.measured = False
        labels = [op.label for op in self.operators]
        estimator = self.estimator(self.operators, step, ESTIMATE)
        before, t0, nit0 = self.ledger.shots_used, self.clock(), self.nit
        loop = Loop(estimator, Limits(s.maxiter_per_step, s.shot_budget, s.gtol),
                    callback=_step_callback(callback, step, labels, self.nit))
        outcome = drive(self.step_optimizer(estimator), loop, np.append(self.x, 0.0),
                        np.random.default_rng(self.seed(step, OPTIMIZE)))
        self.x = np.array(outcome.x, dtype=float)
        exact = np.atleast_1d(estimator.exact_energy(np.array([r.x for r in loop.records]))) \
            if loop.records else np.empty(0)
        for record, e in zip(loop.records, exact, strict=True):
            self.nit = nit0 + record.iteration
            self.log(step, "optimization", record.x, record.value, e, record.shots_used,
                     t0 + record.time)
        self.nit = nit0 + loop.nit
        spent = self.ledger.shots_used - before
        self.split["optimization"] += spent
        final_exact = self.exact_energy(self.x)
        screening = self.screenings[-1]
        self.steps.append({
            "step": step, "operator": self.pool[index].label,
            "wires": list(self.pool[index].wires), "pool_index": index,
            "gradient": screening["gradient"], "gradient_stderr": screening["gradient_stderr"],
            "score": screening["score"], "screening_shots": screening["shots"],
            "optimization_shots": spent, "nit": loop.nit,
            "inner_status": int(outcome.status), "inner_message": outcome.message,
            "energy_exact": final_exact,
            "error_mha": (final_exact - self.problem.e_fci) * HARTREE_TO_MHA,
            "energy": None, "stderr": None})
        if outcome.status in (Status.BUDGET, Status.CALLBACK, Status.BACKEND):
            raise Halt(outcome.status, outcome.message)
        if outcome.status == Status.FAILED and not np.all(np.isfinite(self.x)):
            raise Halt(outcome.status, outcome.message)

    def exact_energy(self, x: np.ndarray) -> float:
        """Noiseless energy at angles ``x`` of the current operators (not charged)."""
        ops = self.operators
        if not ops:  # the Hartree–Fock state, on a circuit with one idle candidate
            ops, x = self.pool[:1], np.zeros(1)
        circuit = adapt_circuit(self.problem, ops)
        return float(Estimator(self.problem.hamiltonian, circuit, shots=None,
                               threads=self.threads).exact_energy(x))

    def final_energy(self, status: Status) -> Estimate:
        """The charged energy at the final angles: with ``final_precision``, measured afresh
        to that standard error (:func:`~qvopt.final_energy.measure_to_precision`, within
        what the shot budget leaves); else the last screening's if it measured them, or one
        fresh evaluation (none after a backend failure)."""
        precision = self.settings.final_precision
        if self.measured and precision is None:
            last = self.screenings[-1]
            return Estimate(last["energy"], last["stderr"], 0)
        if status == Status.BACKEND:
            record = self.history[-1] if self.history else None
            return Estimate(float("nan") if record is None else record["energy"],
                            float("nan") if record is None else record["stderr"], 0)
        step = len(self.chosen)
        ops, x = self.operators, self.x
        if not ops:  # the Hartree–Fock state, on a circuit with one idle candidate
            ops, x = self.pool[:1], np.zeros(1)
        estimator = self.estimator(ops, step, FINAL)
        before = self.ledger.shots_used
        if precision is not None:
            from .final_energy import measure_to_precision

            budget = self.settings.shot_budget
            value, _ = measure_to_precision(estimator, x, precision,
                                            None if budget is None else budget - before)
        else:
            value = estimator.energy(x)
        self.split["final"] += self.ledger.shots_used - before
        exact = self.exact_energy(self.x)
        self.log(step, "final", self.x, value, exact, self.ledger.shots_used, self.clock())
        if self.steps:
            self.steps[-1].update(energy=float(value.value), stderr=float(value.stderr))
        return value

    # ------------------------------------------------------------ result
    def result(self, status: Status, message: str, final: Estimate) -> AdaptResult:
        problem, s = self.problem, self.settings
        energy_exact = self.history[-1]["energy_exact"] if self.history else problem.e_hf
        reached = reached_accuracy(self.history, problem.e_fci)
        ops = self.operators
        return AdaptResult(
            x=self.x.copy(), fun=float(final.value), stderr=float(final.stderr), jac=None,
            nit=self.nit, nfev=self.ledger.evaluations, success=status.success,
            status=status, message=message, energy_exact=energy_exact, e_fci=problem.e_fci,
            e_hf=problem.e_hf, error_mha=(energy_exact - problem.e_fci) * HARTREE_TO_MHA,
            shots_used=self.ledger.shots_used, wall_time=self.clock(), history=self.history,
            molecule=problem.name, ansatz="adapt", optimizer=f"adapt+{self.optimizer.name}",
            optimizer_options=dict(s.optimizer_options), shots=s.shots,
            seed_entropy=s.seed_entropy, n_qubits=problem.n_qubits, n_params=len(ops),
            allocation=s.allocation, backend="statevector",
            operators=[op.label for op in ops], operator_wires=[list(op.wires) for op in ops],
            steps=self.steps, screenings=self.screenings, pool_gradients=self.gradients,
            pool=[op.label for op in self.pool], screening_shots=self.split["screening"],
            optimization_shots=self.split["optimization"], final_shots=self.split["final"],
            shots_to_chemical_accuracy=None if reached is None else reached["shots"],
            iterations_to_chemical_accuracy=None if reached is None else reached["iteration"],
            chemical_accuracy_mha=CHEMICAL_ACCURACY_MHA, config=s.to_dict())

    # ------------------------------------------------------------ checkpoints
    def save(self) -> None:
        """Write the run after its last completed growth step (atomically, data only)."""
        s = self.settings
        if s.checkpoint is None:
            return
        meta = {"settings": s.to_dict(), "molecule_sha256": self.digest,
                "chosen": self.chosen, "steps": self.steps, "screenings": self.screenings,
                "history": self.history, "split": self.split, "nit": self.nit,
                "elapsed": self.clock(), "ledger": ledger_meta(self.ledger)}
        arrays = {"x": self.x, **{f"pool_gradients.{i}": g
                                  for i, g in enumerate(self.gradients)}}
        write_archive(s.checkpoint, CHECKPOINT, meta, arrays)

    def restore(self, meta: dict, arrays: dict, path) -> None:
        """Put the saved growth steps, angles, records and ledger into this run."""
        chosen = meta["chosen"]
        if not all(isinstance(i, int) and 0 <= i < len(self.pool) for i in chosen):
            raise CheckpointError(f"{path}: checkpoint field 'chosen' does not fit the pool")
        if arrays["x"].shape != (len(chosen),):
            raise CheckpointError(f"{path}: checkpoint field 'x' has shape "
                                  f"{arrays['x'].shape}, expected ({len(chosen)},)")
        self.chosen = list(chosen)
        self.x = np.array(arrays["x"], dtype=float)
        self.steps, self.screenings = meta["steps"], meta["screenings"]
        self.history, self.split = meta["history"], meta["split"]
        self.nit, self.elapsed = meta["nit"], float(meta["elapsed"])
        self.gradients = [np.array(arrays[f"pool_gradients.{i}"])
                          for i in range(len(self.screenings))]
        restore_ledger(self.ledger, meta)


def _step_callback(callback, step: int, labels: list[str], nit0: int):
    """The user's callback, told the growth step, the operators and the global update count."""
    if callback is None:
        return None

    def inner(intermediate: OptimizeResult):
        intermediate["adapt_step"] = step
        intermediate["operators"] = list(labels)
        intermediate["nit"] = nit0 + intermediate["nit"]
        return callback(intermediate)

    return inner


def _load_checkpoint(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of an ADAPT checkpoint, checked field by field (no pickle)."""
    meta, arrays = read_archive(path, CHECKPOINT)
    require_arrays(arrays, [f"pool_gradients.{i}" for i in range(len(meta["screenings"]))],
                   path)
    return meta, arrays
