"""Optimizers by name: ``get_optimizer("adam", lr=0.05)``, ``available()``.

Every first-order recipe also takes these options, which wrap its chain:

* ``schedule``: a learning-rate schedule spec (see :func:`.schedules.build_schedule`),
  e.g. ``{"name": "cosine_restarts", "T_0": 50}``; it multiplies nothing, it *replaces*
  the constant ``lr`` by ``schedule(k)`` built from ``lr``;
* ``clip_norm`` / ``clip_value``: gradient clipping first in the chain;
* ``plateau``: reduce-on-plateau options (see :func:`.schedules.scale_by_plateau`), e.g.
  ``{"patience": 10, "factor": 0.5, "threshold": 0.002}``.

``VQE_DEFAULTS`` holds the settings used when an optimizer is picked by name for a VQE run
without options (tuned for UCCSD with ~1000 shots per group); ``minimize`` uses the
recipe's own (PyTorch) defaults.

Some options follow from the problem (the Lipschitz bound, first-gradient shots and shot
cap of iCANS/gCANS/Rosalin, the gate frequencies of Rotosolve/NFT): :func:`problem_options`
derives them from the run's Estimator, and ``get_optimizer(name, vqe_defaults=True,
estimator=est)`` fills them in below ``VQE_DEFAULTS`` and the user's options.

Option values are checked when the optimizer is built: every factory validates its own
numbers with :func:`.base.check_number` (SciPy's methods through :data:`SCIPY_OPTION_RULES`
here), and :func:`get_optimizer` puts the optimizer's name in front of any
:class:`~qvopt.errors.InputError`, e.g. ``"adam: option lr must be > 0 (a finite number)
…, got 'abc'"``.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from . import first_order, scipy_methods
from .ask_tell import AskTellOptimizer, FirstOrderOptimizer
from .base import chain, check_flag, check_number
from .clipping import clip_by_global_norm, clip_by_value
from .gcans import GCANS
from .icans import ICANS, Rosalin, lipschitz_bound
from .qng import MomentumQNG, QuantumNaturalGradient
from .rotosolve import GIVENS_FREQUENCIES, NFT, PAULI_FREQUENCIES, Rotosolve
from .schedules import build_schedule, scale_by_plateau
from .spsa import SPSA

FIRST_ORDER_COMMON = ("schedule", "clip_norm", "clip_value", "plateau")


def _option(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=annotation)


_COMMON_PARAMETERS = (_option("schedule", "str | dict | None"),
                      _option("clip_norm", "float | None"),
                      _option("clip_value", "float | None"),
                      _option("plateau", "dict | None"))


@dataclass(frozen=True)
class OptimizerEntry:
    """A registered optimizer: ``build(**options)`` and the options it takes.

    ``parameters`` are the options with their defaults and annotations (from the factory's
    signature), so callers and tests can see which options are numeric.
    """

    name: str
    build: Callable[..., AskTellOptimizer]
    parameters: tuple[inspect.Parameter, ...]
    summary: str

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)


def _plateau_rule(plateau):
    if not isinstance(plateau, dict):
        raise InputError(f"option plateau must be a table of options, got {plateau!r}")
    allowed = set(inspect.signature(scale_by_plateau).parameters)
    unknown = sorted(set(plateau) - allowed)
    if unknown:
        raise InputError(f"unknown plateau option(s) {unknown}; valid: {sorted(allowed)}")
    try:
        return scale_by_plateau(**plateau)
    except InputError as exc:
        raise InputError(f"plateau: {exc}") from exc


def _first_order_entry(name: str, recipe, summary: str) -> OptimizerEntry:
    recipe_parameters = tuple(inspect.signature(recipe).parameters.values())

    def build(**options) -> AskTellOptimizer:
        spec = dict(options)  # as given, for records (lr stays a number)
        common = {k: options.pop(k) for k in FIRST_ORDER_COMMON if k in options}
        if common.get("schedule") is not None:
            if "lr" in options and callable(options["lr"]):
                raise InputError("give either a callable lr or a schedule spec, not both")
            base_lr = options.get("lr", inspect.signature(recipe).parameters["lr"].default)
            options["lr"] = build_schedule(check_number("lr", base_lr, 0.0, low_open=True),
                                           common["schedule"])
        rule = recipe(**options)
        prefix = []
        if common.get("clip_norm") is not None:
            prefix.append(clip_by_global_norm(common["clip_norm"]))
        if common.get("clip_value") is not None:
            prefix.append(clip_by_value(common["clip_value"]))
        if prefix:
            rule = chain(*prefix, rule)
        if common.get("plateau") is not None:
            # chain(plateau, rule): the plateau scale multiplies the gradient before the
            # rule, which for Adam-type rules would cancel; so scale the rule's output.
            rule = chain(rule, _plateau_rule(common["plateau"]))
        return FirstOrderOptimizer(name, rule, spec)

    return OptimizerEntry(name, build, recipe_parameters + _COMMON_PARAMETERS, summary)


_ENTRIES: dict[str, OptimizerEntry] = {}


def register(entry: OptimizerEntry) -> None:
    """Add an optimizer to the registry (names are unique)."""
    if entry.name in _ENTRIES:
        raise ValueError(f"optimizer {entry.name!r} is already registered")
    _ENTRIES[entry.name] = entry


for _name, _recipe, _summary in [
    ("sgd", first_order.sgd, "gradient descent (optional momentum/Nesterov, PyTorch SGD)"),
    ("momentum", first_order.momentum, "heavy-ball momentum (SGD, momentum=0.9)"),
    ("nesterov", first_order.nesterov, "Nesterov momentum (PyTorch form)"),
    ("adagrad", first_order.adagrad, "Adagrad (PyTorch)"),
    ("rmsprop", first_order.rmsprop, "RMSProp, optionally centered (PyTorch)"),
    ("adam", first_order.adam, "Adam (PyTorch)"),
    ("amsgrad", first_order.amsgrad, "AMSGrad (PyTorch Adam, amsgrad=True)"),
    ("nadam", first_order.nadam, "NAdam (PyTorch)"),
    ("adamw", first_order.adamw, "AdamW, decoupled weight decay (PyTorch)"),
]:
    register(_first_order_entry(_name, _recipe, _summary))

_DECAY = {"name": "exponential", "gamma": 0.98}

# SciPy's options, checked here because scipy_methods.py passes them through unchecked:
# option → check_number keyword arguments, or "flag" for a boolean.
SCIPY_OPTION_RULES: dict[str, dict[str, Any] | str] = {
    "ftol": {"low": 0.0}, "gtol": {"low": 0.0}, "xtol": {"low": 0.0},
    "xatol": {"low": 0.0}, "fatol": {"low": 0.0}, "tol": {"low": 0.0},
    "maxcor": {"low": 1, "integer": True}, "maxls": {"low": 1, "integer": True},
    "rhobeg": {"low": 0.0, "low_open": True}, "initial_step": {"low": 0.0, "low_open": True},
    "adaptive": "flag",
}


def _checked(factory, options: dict, rules: dict[str, dict[str, Any] | str]):
    """``factory(**options)`` after checking the options that ``rules`` describe."""
    for key, rule in rules.items():
        if key in options:
            value = options[key]
            options[key] = check_number(key, value, **rule) if isinstance(rule, dict) \
                else check_flag(key, value)
    return factory(**options)


def _plain_entry(name: str, factory, summary: str, fixed: dict | None = None,
                 rules: dict[str, dict[str, Any] | str] | None = None) -> OptimizerEntry:
    fixed, rules = fixed or {}, rules or {}
    parameters = tuple(p for p in inspect.signature(factory).parameters.values()
                       if p.name not in fixed and p.name != "self")
    return OptimizerEntry(name, lambda **opts: _checked(factory, {**fixed, **opts}, rules),
                          parameters, summary)


register(_plain_entry("qng", QuantumNaturalGradient,
                      "quantum natural gradient, Fubini-Study metric (full/block-diag/diag)"))
register(_plain_entry("momentum-qng", MomentumQNG,
                      "quantum natural gradient with heavy-ball momentum"))
register(_plain_entry("icans", ICANS,
                      "iCANS1/iCANS2: gradient descent, adaptive shots per component"))
register(_plain_entry("rosalin", Rosalin,
                      "Rosalin: iCANS shot rule with weighted random operator sampling"))
register(_plain_entry("gcans", GCANS, "gCANS: gradient descent, globally coupled adaptive "
                                      "shots"))
register(_plain_entry("rotosolve", Rotosolve, "Rotosolve: exact coordinate minimization "
                                              "(cyclic), from the gate spectrum"))
register(_plain_entry("nft", NFT, "NFT: exact coordinate minimization (random order), "
                                  "from the gate spectrum"))
register(_plain_entry("spsa", SPSA, "SPSA with calibration, resampling, blocking",
                      {"second_order": None}))
register(_plain_entry("2spsa", SPSA, "second-order SPSA (Hessian estimate, regularized)",
                      {"second_order": "2spsa"}))
register(_plain_entry("qnspsa", SPSA, "quantum-natural SPSA (metric from sampled fidelities)",
                      {"second_order": "qnspsa"}))
register(_plain_entry("lbfgs", scipy_methods.lbfgs, "SciPy L-BFGS-B with parameter-shift gradients",
                      rules=SCIPY_OPTION_RULES))
register(_plain_entry("cobyla", scipy_methods.cobyla, "SciPy COBYLA (gradient-free)",
                      rules=SCIPY_OPTION_RULES))
register(_plain_entry("nelder-mead", scipy_methods.nelder_mead,
                      "SciPy Nelder-Mead (gradient-free)", rules=SCIPY_OPTION_RULES))
register(_plain_entry("powell", scipy_methods.powell, "SciPy Powell (gradient-free)",
                      rules=SCIPY_OPTION_RULES))

VQE_DEFAULTS: dict[str, dict] = {
    # Measured on H2 and LiH (frozen core), UCCSD, 1000 shots per group, 120 steps: Adam
    # with a fixed lr stalls at the shot-noise floor (~1 mHa on LiH with lr 0.02); a decay
    # of 2% per step takes both molecules to ~0.2 mHa or better.
    "sgd": {"lr": 0.2, "schedule": _DECAY},
    "momentum": {"lr": 0.05, "momentum": 0.9, "schedule": _DECAY},
    "nesterov": {"lr": 0.05, "momentum": 0.9, "schedule": _DECAY},
    "adagrad": {"lr": 0.1},
    "rmsprop": {"lr": 0.01, "schedule": _DECAY},
    "adam": {"lr": 0.05, "schedule": _DECAY},
    "amsgrad": {"lr": 0.05, "schedule": _DECAY},
    "nadam": {"lr": 0.05, "schedule": _DECAY},
    "adamw": {"lr": 0.05, "weight_decay": 0.0, "schedule": _DECAY},
    # Early curvature estimates rest on a few samples; without blocking the preconditioned
    # steps can jump far uphill (H2: 544 mHa after 40 rounds without, 0.6 mHa with).
    "2spsa": {"blocking": True},
    "qnspsa": {"blocking": True},
    # Shot-adaptive: an effective Lipschitz constant of 1 Ha/rad² (the Σ|c| bound, 8.9 on
    # lih_fc, is far looser than UCCSD's curvature: it gives 1/L steps and more shots).
    # Measured with allocation="variance", MP2 start, 5 seeds, median S_CA (H2 / lih_fc):
    # icans2 lr 0.5: 3.8e3 / 3.9e5; icans1 lr 0.3: 6.0e3 / 3.9e5; with the Σ|c| bound and
    # lr = 1/L: 9.5e3 / 1.5e6. gcans lr 0.3: 1.5e3 / 6.4e5 (Σ|c| bound: 1.1e4 / 5.9e6).
    # Round 3: the constant L = 1 above diverged on h2o (largest curvature 22 Ha/rad²) and
    # beh2 (5.7); the step now follows the curvature each gradient measures (α_i = β/L_i,
    # see .icans): β = 0.5 is the αL of the round-2 tuning (α 0.5, L 1).
    "icans": {"variant": "icans2", "lipschitz": "measured", "step_fraction": 0.5},
    "gcans": {"lipschitz": "measured", "step_fraction": 0.5},
    # Rosalin, same settings and protocol (4 shots per group for the recorded energy):
    # icans2 lr 0.5: 9.0e3 / 3.1e6; icans1 lr 0.3: 3.7e3 / 7.0e6; icans1 with the Σ|c|
    # bound: 2.1e4 on H2. Weighted random sampling (∝ Σ|c| per group) is a worse split
    # than the variance allocation iCANS uses, and a smaller first gradient (min_shots 20
    # or 100 in total instead of 12 per group) lets early noise undo the MP2 start (lih_fc
    # 2.9e7 / 4.4e7): Rosalin pays off when a gradient needs fewer shots than groups.
    "rosalin": {"variant": "icans2", "lipschitz": "measured", "step_fraction": 0.5},
    # lih_fc, MP2 start, 3000 shots per evaluation (variance): momentum 0.9 diverges to
    # ~17 mHa; 0.5 reaches chemical accuracy in 5/5 seeds (median S_CA 1.1e7).
    "momentum-qng": {"lr": 0.1, "momentum": 0.5},
}


# Measured (benchmarks/shots_to_accuracy.py, MP2 start, variance allocation, icans at its
# VQE defaults), median S_CA by shots per group of the first gradient: lih_fc (24
# parameters, 5 seeds) 3.9e5–6.9e5 with 12, 7.8e5 with 24, ~1e6 with 30 (2.4e6 for
# iCANS1 with 30); lih (92 parameters) 4.2e7–9.3e7 with 46 (5 seeds, two runs),
# 3.6e7 with 92, 4.5e7 with 138 (3 seeds); H2 (3 parameters) 1.5e4 with 2, ~6e3 with 12.
CANS_MIN_SHOTS_PER_GROUP = 12
CANS_MIN_SHOTS_PER_PARAMETER = 1.0
# With an allocation the first gradient's total per shifted point is scaled by the prior
# per-shot variance V₀ instead of the number of groups (problem_options), giving the same
# prior precision with any grouping. The per-group rule gave fully commuting groups (4–5×
# fewer groups, only 1.5× less variance) noisier first steps: lih S_CA 4.5e7 against QWC's
# 1.8e7, and 1.4e7 once their first gradient had QWC's prior precision (10 seeds). σ_ref²
# = 0.04 Ha² was chosen with FC groups (24 seeds each, min_shots swept): S_CA was lowest
# near 2800 on lih_fc (m V₀/σ_ref² = 2204 at 0.04) and 12000–16000 on lih (14345); 1/16
# gave 1.2e6 and 2.2e7. With QWC groups it gives 1.3–2.7× the per-group rule's totals
# (h2 160 vs 60, lih_fc 3392 vs 2040, lih 21518 vs 16284).
CANS_REFERENCE_VARIANCE = 0.04
# The shot rule s_i ∝ ξ_i/χ_i² grows without bound as the gradient vanishes: after chemical
# accuracy a 120-step run spends most of its shots on ever more precise gradients. Capping
# every s_i at this multiple of min_shots left S_CA unchanged (5 seeds, icans defaults,
# 1000 shots per evaluation): H2 1.2e4, lih_fc 7.9e5 with and without the cap, while the
# whole run's shots fell from 3.7e7–9.1e7 to 1.7e6 (H2; final error ≤ 0.18 mHa) and from
# 3.1e8–3.5e8 to 2.7e8–3.0e8 (lih_fc; ≤ 0.07 mHa); 100× cut H2 to 7e6 and lih_fc not at all.
CANS_MAX_SHOTS_FACTOR = 20


def first_gradient_shots(key: str, estimator) -> int:
    """``min_shots`` of iCANS/gCANS/Rosalin for the run's estimator (see
    :func:`problem_options`)."""
    per_parameter = max(CANS_MIN_SHOTS_PER_GROUP,
                        math.ceil(CANS_MIN_SHOTS_PER_PARAMETER * estimator.n_params))
    groups = int(estimator.grouped.n_groups)
    if key == "rosalin":
        return per_parameter * groups
    if getattr(estimator, "allocator", None) is None:
        return per_parameter
    from ..estimation.allocation import prior_energy_variance

    v0 = prior_energy_variance(estimator.grouped)
    return max(math.ceil(per_parameter * v0 / CANS_REFERENCE_VARIANCE), 2 * groups)


def problem_options(name: str, estimator) -> dict[str, Any]:
    """Options of the optimizer ``name`` that follow from the problem, read off the
    :class:`~qvopt.estimation.estimator.Estimator` of the run (its Hamiltonian, circuit,
    groups and allocation).

    * ``icans``/``gcans``/``rosalin``: ``lipschitz`` = :func:`.icans.lipschitz_bound`
      (Σ|c_k| of the non-identity terms) and ``min_shots``, the shots of each shifted
      point of the first gradient, from ``m = max(CANS_MIN_SHOTS_PER_GROUP,
      ⌈CANS_MIN_SHOTS_PER_PARAMETER · n_params⌉)``: ``m`` per group without an
      allocation; with one (``shots`` the total of an evaluation), the total
      ``⌈m V₀ / σ_ref²⌉`` (at least 2 per group), where ``V₀ = (Σ_g σ₀_g)²`` is the
      per-shot variance of an energy under the prior group variances
      ``σ₀_g² = Σ_{t∈g} c_t²``, each term counted whole in one group
      (:func:`~qvopt.estimation.allocation.prior_energy_variance`) and
      ``σ_ref² = CANS_REFERENCE_VARIANCE``: each shifted energy then has the prior standard
      error ``σ_ref/√m`` whatever the grouping; rosalin (which samples terms, not groups):
      ``m · n_groups``. ``max_shots`` = ``CANS_MAX_SHOTS_FACTOR`` × that (× a user's own
      ``min_shots`` when given, see :func:`get_optimizer`). A larger first gradient than
      the papers' ``s_min = 2`` keeps the first, noise-dominated steps from undoing a good
      (MP2) start; the energy those steps add grows like ``n_params / s_min``, hence the
      scaling.
    * ``rotosolve``/``nft``: ``frequencies`` (1.0,) when every parameter enters a
      two-term-rule gate (Pauli rotations), else the Givens spectrum (0.5, 1.0).
    * every other optimizer: ``{}``.

    :func:`get_optimizer` with ``estimator=`` applies them below :data:`VQE_DEFAULTS` and
    the user's options.
    """
    key = _canonical(name)
    if key in ("icans", "gcans", "rosalin"):
        shots = first_gradient_shots(key, estimator)
        return {"lipschitz": lipschitz_bound(estimator.hamiltonian), "min_shots": shots,
                "max_shots": CANS_MAX_SHOTS_FACTOR * shots}
    if key in ("rotosolve", "nft"):
        from ..estimation.parameter_shift import TWO_TERM, shift_rules

        rules = shift_rules(estimator.circuit)
        pauli = bool(rules) and all(rule == TWO_TERM for rule in rules)
        return {"frequencies": PAULI_FREQUENCIES if pauli else GIVENS_FREQUENCIES}
    return {}


#: Optimizers that never measure a gradient (energies only, or SciPy's gradient-free
#: methods): a gradient-norm stop (``gtol``) cannot apply to them.
GRADIENT_FREE = frozenset({"spsa", "2spsa", "qnspsa", "rotosolve", "nft", "cobyla",
                           "nelder-mead", "powell"})


def uses_gradient(name: str) -> bool:
    """Whether the optimizer ``name`` measures gradients (see :data:`GRADIENT_FREE`)."""
    return _canonical(name) not in GRADIENT_FREE


def available() -> list[str]:
    """Names of all registered optimizers, sorted."""
    return sorted(_ENTRIES)


def describe() -> dict[str, str]:
    """``{name: one-line summary}`` for every optimizer."""
    return {name: _ENTRIES[name].summary for name in available()}


def option_parameters(name: str) -> dict[str, inspect.Parameter]:
    """``{option: inspect.Parameter}`` (default, annotation) of the optimizer ``name``."""
    return {p.name: p for p in _ENTRIES[_canonical(name)].parameters}


def _canonical(name: str) -> str:
    key = name.lower().replace("_", "-") if isinstance(name, str) else name
    key = {"gd": "sgd", "nelder_mead": "nelder-mead", "2-spsa": "2spsa"}.get(key, key)
    if key not in _ENTRIES:
        raise InputError(f"unknown optimizer {name!r}: expected one of {available()}")
    return key


def get_optimizer(name: str, vqe_defaults: bool = False, *, estimator=None,
                  **options) -> AskTellOptimizer:
    """Build the optimizer ``name`` with ``options``; unknown names/options are errors.

    With ``vqe_defaults=True`` the options in :data:`VQE_DEFAULTS` fill the ones not given.
    With ``estimator`` (the run's Estimator) the options :func:`problem_options` derives
    from the problem fill the ones still missing (precedence: user options, then
    ``VQE_DEFAULTS``, then the problem's).
    Every option value is checked here, before any evaluation: a bad one raises
    :class:`~qvopt.errors.InputError` ``"NAME: option OPTION must be …, got VALUE"``.
    """
    key = _canonical(name)
    entry = _ENTRIES[key]
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for optimizer {key!r}; valid options: "
                         f"{list(entry.options)}")
    if vqe_defaults:
        defaults = dict(VQE_DEFAULTS.get(key, {}))
        if "lr" in options and defaults.get("lipschitz") == "measured":
            # a learning rate of the user's own means a constant step: L = 1/lr unless given
            defaults.pop("step_fraction", None)
            defaults["lipschitz"] = None
        options = {**defaults, **options}
    if estimator is not None:
        derived = problem_options(key, estimator)
        given_min = options.get("min_shots")
        if "max_shots" in derived and isinstance(given_min, numbers.Integral) \
                and not isinstance(given_min, bool) and int(given_min) > 0:
            derived["max_shots"] = CANS_MAX_SHOTS_FACTOR * given_min  # the cap follows it
        options = {**derived, **options}
    try:
        return entry.build(**options)
    except InputError as exc:
        raise InputError(f"{key}: {exc}") from exc
