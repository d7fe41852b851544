"""``RunConfig``: one frozen, typed description of a VQE run.

The CLI (:meth:`RunConfig.from_cli_args`), run files (:meth:`RunConfig.from_toml`),
comparison studies, checkpoints and :class:`~qvopt.vqe.VQEResult` all read and write this
one value; its field defaults are the only defaults of a run. Everything is validated when
the value is made, so a bad setting fails before any circuit is simulated, with an
:class:`~qvopt.errors.InputError` naming the field (``err.field``) and what was expected.

The defaults are the shot-frugal settings measured to reach chemical accuracy with the
fewest shots (``benchmarks/shots_to_accuracy.py``): the ``icans`` optimizer, ``shots=1000``
per energy evaluation split across the measurement groups by ``allocation="variance"``,
and the MP2 start for the ``uccsd`` ansatz; the final energy is measured to a standard
error of 1.6 mHa. ``optimizer``, ``allocation``, ``initial_point`` and
``final_precision`` default to :data:`AUTO` (``"auto"``), resolved when the value is made:
``"icans"`` (for ``ansatz="adapt"``: ``"adam"`` in exact mode, and ``"icans"`` with ``tol``
5e-4 per re-optimization when sampling);
``"variance"`` when sampling and None (no allocation) in exact mode; ``"mp2"`` for
``ansatz="uccsd"`` and None (zeros) for any other ansatz; 1.6e-3 Ha when sampling (ADAPT
included) and None in exact mode. The resolved values are what :meth:`RunConfig.to_dict`
records (and checkpoints keep); :meth:`RunConfig.replace` resolves the fields that were
left to ``"auto"`` again.
``allocation=None`` (``"none"``; ``--allocation none``) makes ``shots`` the shots of
every measurement group instead.

A run file (TOML) holds the same fields; every key but ``molecule`` is optional (a
comment names the default where the example differs from it)::

    molecule = "h2"                  # shipped name or path (relative to the run file)
    ansatz = "uccsd"                 # or {name = "hardware_efficient", layers = 2}
    shots = 1000                     # per energy evaluation; "exact" for noiseless energies
    allocation = "auto"              # variance (exact: none) | uniform | weighted |
                                     # "none": shots per measurement group instead
    seed = 7                         # default: fresh randomness
    maxiter = 120
    shot_budget = 100_000_000        # optional
    gtol = 1e-4                      # optional
    tol = 1e-3                       # stop when at most this (Ha) is left to gain (95%
                                     # bound); default "auto": 1.6e-3; "none": no test
    guard = true                     # reject steps measured worse than the best point
    final_precision = 1.6e-3         # the final energy's standard error (Ha); default
                                     # "auto": 1.6e-3 when sampling; "none": one evaluation
    device = "CPU"                   # Aer device of the statevector backend
    engine = "auto"                  # auto | sector (UCCSD/ADAPT states) | aer
    grouping = "auto"                # sorted_insertion | dsatur (qubit-wise) | fc (fully
                                     # commuting) | fc_split (fc, shared terms split);
                                     # auto, sampling with an allocation: fc_split on
                                     # statevector, fc on circuit backends (not with
                                     # zne); else sorted_insertion
    taper = false                    # remove Z2 symmetries (hardware-efficient ansatz)
    initial_point = "auto"           # mp2 for uccsd, else zeros | "mp2" | "hf" (zeros) |
                                     # a list of angles

    [optimizer]
    name = "icans"                   # default "auto": icans (adam for ansatz "adapt")
    variant = "icans2"               # any option of that optimizer

    [backend]
    name = "fake_manila"             # default "statevector"; aer | fake_<device> |
                                     # ibm:<name> | pennylane:<device>
    mitigation = ["readout", "zne"]  # circuit backends; zne = {scale_factors = [1, 3, 5]}
    mode = "batch"                   # ibm:<name> only: batch or session

    [output]
    result = "result.json"
    checkpoint = "run.ckpt"
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .checks import check_int, field_error
from .errors import InputError, RunFileError
from .run_defaults import (
    ADAPT_OPTIMIZER,
    ADAPT_SAMPLED_OPTIMIZER,
    ADAPT_SAMPLED_TOL,
    ALLOCATIONS,
    AUTO,
    CIRCUIT_GROUPING,
    DEFAULT_ALLOCATION,
    DEFAULT_FINAL_PRECISION,
    DEFAULT_GROUPING,
    DEFAULT_MAXITER,
    DEFAULT_OPTIMIZER,
    DEFAULT_SHOTS,
    DEFAULT_TOL,
    INITIAL_POINTS,
    MIN_FINAL_PRECISION,
    MIN_SHOTS_PER_GROUP,
    QWC_GROUPING,
    default_initial_point,
    default_shots,
    grouping_for_size,
    is_auto,
)
from .setting_checks import (
    check_allocation,
    check_choice,
    check_grouping,
    check_gtol,
    check_molecule,
    check_output,
    check_point,
    check_precision,
    check_shots,
    check_table,
    check_tol,
)

# The defaults (qvopt.run_defaults) and the field checks (qvopt.setting_checks) are
# re-exported: ``from qvopt.config import DEFAULT_MAXITER, check_shots`` keeps working.
__all__ = ["ADAPT_OPTIMIZER", "ALLOCATIONS", "AUTO", "CIRCUIT_GROUPING", "CLI_FLAGS",
           "DEFAULT_ALLOCATION", "DEFAULT_FINAL_PRECISION", "DEFAULT_GROUPING",
           "DEFAULT_MAXITER", "QWC_GROUPING",
           "DEFAULT_OPTIMIZER", "DEFAULT_SHOTS", "DEFAULT_TOL", "INITIAL_POINTS",
           "MIN_FINAL_PRECISION", "MIN_SHOTS_PER_GROUP", "TOML_TABLES", "Resolved",
           "RunConfig", "check_int", "check_shots", "default_initial_point", "default_shots",
           "field_error"]


class Resolved(NamedTuple):
    """The :class:`RunConfig` fields that accept strings (``"auto"``, ``"exact"``,
    ``"none"``), typed as they hold once the value is made (:attr:`RunConfig.resolved`)."""

    shots: int | None
    tol: float | None
    final_precision: float | None


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a VQE run (see the module docstring for the file form).

    Defaults (shot-frugal): ``optimizer="icans"`` (``"adam"`` for an exact ADAPT run),
    ``shots=1000`` per energy evaluation split across the measurement groups by
    ``allocation="variance"``, the MP2 start for ``ansatz="uccsd"`` (zeros for other
    ansätze), ``maxiter=120``, the final energy to ``final_precision=1.6e-3`` Ha.

    ``shots``: with an ``allocation`` the total shots of one energy evaluation (split
    across the measurement groups), with ``allocation=None`` (or ``"none"``) the shots of
    every measurement group per parameter point; ``None``/``"exact"`` = exact energies.
    ``allocation``: ``"auto"`` (the default) is ``"variance"`` when sampling and None in
    exact mode; an allocation given explicitly with ``shots=None`` is an error.
    ``initial_point``: ``"auto"`` (the default) is ``"mp2"`` for the ``uccsd`` ansatz and
    None (zeros) otherwise; None/``"hf"``: zeros (the Hartree–Fock state for UCCSD);
    ``"mp2"``: MP2 doubles (``uccsd`` only); or a list of angles. ``maxiter``: optimizer
    updates. ``final_precision``: the standard error (Ha) the final energy is measured to
    (:mod:`qvopt.final_energy`; ``"auto"``: 1.6e-3 when sampling, None in exact mode;
    None/``"none"``: one evaluation with the run's shots). ``shot_budget``: stop before an
    iteration that would pass it. ``gtol``: stop when the estimated gradient norm is at
    most this (gradient-measuring optimizers only). ``tol``: the noise-aware convergence
    test of :mod:`qvopt.guard` (``"auto"``: :data:`DEFAULT_TOL`; None: off);
    ``guard``: step control against measured energies (:mod:`qvopt.guard`).
    ``checkpoint``/``result``: where the
    run state (after every iteration) and the result JSON are written.

    The ``"auto"`` fields are resolved when the value is made (the attributes and
    :meth:`to_dict` hold the resolved values; :attr:`auto_fields` names them), and resolved
    again by :meth:`replace` unless it sets them. :attr:`resolved` gives ``shots``, ``tol``
    and ``final_precision`` with the types they hold then (no strings).
    """

    molecule: str
    ansatz: str = "uccsd"
    ansatz_options: dict = field(default_factory=dict, hash=False)
    optimizer: str = AUTO
    optimizer_options: dict = field(default_factory=dict, hash=False)
    shots: int | str | None = AUTO
    allocation: str | None = AUTO
    backend: str = "statevector"
    backend_options: dict = field(default_factory=dict, hash=False)
    device: str = "CPU"
    engine: str = "auto"
    grouping: str = AUTO
    taper: bool = False
    seed: int | None = None
    maxiter: int = DEFAULT_MAXITER
    shot_budget: int | None = None
    gtol: float | None = None
    tol: float | str | None = AUTO
    guard: bool = True
    final_precision: float | str | None = AUTO
    initial_point: tuple[float, ...] | str | None = AUTO
    checkpoint: str | None = None
    result: str | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        set_("molecule", check_molecule(self.molecule))
        if not isinstance(self.ansatz, str):
            raise field_error("ansatz", "an ansatz name", self.ansatz)
        for name in ("ansatz_options", "optimizer_options", "backend_options"):
            set_(name, check_table(name, getattr(self, name)))
        auto = frozenset(name for name in ("shots", "optimizer", "allocation",
                                           "initial_point", "final_precision", "tol",
                                           "grouping")
                         if is_auto(getattr(self, name)))
        shots = DEFAULT_SHOTS if "shots" in auto else check_shots(self.shots)
        set_("shots", shots)
        set_("_auto", auto)  # not a field: not compared, not in to_dict
        sampled_adapt = self.ansatz == "adapt" and shots is not None
        if "optimizer" in auto:
            set_("optimizer", DEFAULT_OPTIMIZER if self.ansatz != "adapt" else
                 ADAPT_SAMPLED_OPTIMIZER if sampled_adapt else ADAPT_OPTIMIZER)
        set_("allocation", check_allocation(self.allocation, shots))
        from .estimation.estimator import ENGINES
        from .estimation.statevector import DEVICES

        device = self.device.upper() if isinstance(self.device, str) else self.device
        set_("device", check_choice("device", device, DEVICES))
        set_("engine", check_choice("engine", self.engine, ENGINES))
        set_("grouping", check_grouping(self.grouping, self.backend, self.ansatz,
                                        sampled=shots is not None,
                                        allocated=self.allocation is not None,
                                        zne=_uses_zne(self.backend_options)))
        if not isinstance(self.taper, bool):
            raise field_error("taper", "true or false", self.taper)
        if self.taper and self.ansatz in ("uccsd", "adapt"):
            raise field_error("taper", f"false with ansatz {self.ansatz!r} (excitation "
                              "operators are not tapered; use ansatz 'hardware_efficient')",
                              self.taper)
        set_("seed", check_int("seed", self.seed, 0, optional=True))
        set_("maxiter", check_int("maxiter", self.maxiter, 0))
        set_("shot_budget", check_int("shot_budget", self.shot_budget, 1, optional=True))
        set_("gtol", check_gtol(self.gtol))
        set_("tol", ADAPT_SAMPLED_TOL if sampled_adapt and "tol" in auto
             else check_tol(self.tol))
        if not isinstance(self.guard, bool):
            raise field_error("guard", "true or false", self.guard)
        set_("final_precision", check_precision(self.final_precision, shots))
        set_("initial_point", check_point(self.initial_point, self.ansatz))
        for name in ("checkpoint", "result"):
            set_(name, check_output(name, getattr(self, name)))
        from .io import check_distinct_files

        check_distinct_files([
            ("molecule", self.molecule if Path(self.molecule).is_file() else None),
            ("checkpoint", self.checkpoint), ("result", self.result)])
        self._check_components()

    @property
    def auto_fields(self) -> frozenset[str]:
        """The fields given as ``"auto"`` (their defaults) and resolved from the others."""
        return self.__dict__.get("_auto", frozenset())

    @property
    def resolved(self) -> Resolved:
        """``shots``, ``tol`` and ``final_precision`` with their resolved types: the fields
        are typed for what may be given (``"auto"``, ``"exact"``, ``"none"``), and hold
        only ``int``/``float``/None once the value is made."""
        shots, tol, precision = self.shots, self.tol, self.final_precision
        assert not isinstance(shots, str) and not isinstance(tol, str) \
            and not isinstance(precision, str), "__post_init__ resolves these fields"
        return Resolved(shots, tol, precision)

    def _check_components(self) -> None:
        """Optimizer name and options, ansatz name, backend name: cheap checks, no run."""
        from .ansatz import check_ansatz_options
        from .estimation.registry import validate_backend
        from .optimizers.registry import get_optimizer

        if not isinstance(self.backend, str):
            raise field_error("backend", "a backend name", self.backend)
        if "layers" in self.ansatz_options:
            check_int("layers", self.ansatz_options["layers"], 1)
        checks = (("ansatz", check_ansatz_options, (self.ansatz, self.ansatz_options)),
                  ("optimizer", lambda name, options: get_optimizer(
                      name, vqe_defaults=True, **options),
                   (self.optimizer, self.optimizer_options)),
                  ("backend", validate_backend, (self.backend, self.backend_options)))
        for name, check, arguments in checks:
            try:
                check(*arguments)
            except ValueError as exc:  # InputError, or a plain ValueError of a component
                error = exc if isinstance(exc, InputError) else InputError(str(exc))
                error.field = getattr(exc, "field", None) or name
                raise error from (None if error is exc else exc)
        from .optimizers.registry import uses_gradient

        if self.optimizer == "rosalin" and _uses_zne(self.backend_options):
            raise field_error("optimizer", "an optimizer other than rosalin when mitigation "
                              "includes 'zne' (its randomly drawn groups cannot be "
                              "extrapolated)", self.optimizer)
        if self.gtol is not None and not uses_gradient(self.optimizer):
            raise field_error("gtol", f"None with optimizer {self.optimizer!r}, which measures "
                              "no gradient (stop it with maxiter or shot_budget)", self.gtol)

    # ------------------------------------------------------------------ conversions
    def sized(self, n_qubits: int) -> RunConfig:
        """This config for a problem of ``n_qubits``: an ``"auto"`` grouping becomes what
        :func:`~qvopt.run_defaults.grouping_for_size` makes of it (QWC instead of fc_split
        above 14 qubits), explicit from then on; any other config is returned as is."""
        if "grouping" not in self.auto_fields:
            return self
        grouping = grouping_for_size(self.grouping, n_qubits)
        return self if grouping == self.grouping else self.replace(grouping=grouping)

    def replace(self, **changes) -> RunConfig:
        """A copy with ``changes`` applied (validated again). The fields left to ``"auto"``
        are resolved again unless ``changes`` sets them: ``replace(shots=None)`` of a
        default config is exact mode without an allocation, ``replace(ansatz=
        "hardware_efficient")`` starts at zeros."""
        return dataclasses.replace(self, **{**dict.fromkeys(self.auto_fields, AUTO),
                                            **changes})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data with the ``"auto"`` fields resolved (``from_dict(to_dict())``
        gives an equal config, with those values explicit)."""
        out = dataclasses.asdict(self)
        if isinstance(self.initial_point, tuple):
            out["initial_point"] = list(self.initial_point)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """The inverse of :meth:`to_dict`; unknown keys are an :class:`InputError`."""
        if not isinstance(data, dict):
            raise InputError(f"a run configuration must be a table, got {data!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown run setting(s) {unknown}; valid: {sorted(names)}")
        if "molecule" not in data:
            raise InputError("a run configuration needs 'molecule'")
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | Path) -> RunConfig:
        """A run file (see the module docstring); errors are :class:`RunFileError`."""
        from .runfile import run_file_settings

        path = Path(path)
        settings = run_file_settings(path)
        try:
            settings["molecule"] = check_molecule(settings.get("molecule"), base=path.parent)
            return cls(**settings)
        except InputError as exc:
            if isinstance(exc, RunFileError):
                raise
            where = TOML_TABLES.get(exc.field or "", "")
            raise RunFileError(f"{path}: {where}{' ' if where else ''}{exc}") from exc

    @classmethod
    def from_cli_args(cls, args: Any) -> RunConfig:
        """From ``qvopt run``'s parsed arguments; an error names the command-line flag."""
        settings = {
            "molecule": args.molecule, "ansatz": args.ansatz, "optimizer": args.optimizer,
            "optimizer_options": dict(args.option), "shots": args.shots, "seed": args.seed,
            "allocation": args.allocation, "backend": args.backend, "device": args.device,
            "engine": args.engine, "grouping": args.grouping, "taper": args.taper,
            "backend_options": _backend_options(args),
            "shot_budget": args.shot_budget, "gtol": args.gtol, "tol": args.tol,
            "guard": not args.no_guard,
            "final_precision": args.final_precision,
            "ansatz_options": {**({"layers": args.layers} if args.layers is not None else {}),
                               **dict(getattr(args, "ansatz_option", []))},
            "checkpoint": args.checkpoint, "result": args.out,
            "initial_point": args.initial_point,
        }
        if args.maxiter is not None:
            settings["maxiter"] = args.maxiter
        try:
            return cls(**settings)
        except InputError as exc:
            name = getattr(exc, "field", None)
            if name is None:
                raise
            flag = CLI_FLAGS.get(name, "--" + name.replace("_", "-"))
            error = InputError(f"{flag}: {exc}")
            error.field = name
            raise error from exc


def _uses_zne(backend_options: dict) -> bool:
    """Whether ``backend_options`` ask for zero-noise extrapolation (malformed mitigation:
    False here, refused by the backend check with its own message)."""
    from .estimation.mitigation import parse_mitigation

    try:
        return "zne" in parse_mitigation(backend_options.get("mitigation"))
    except InputError:
        return False


def _backend_options(args: Any) -> dict:
    """``backend_options`` from ``--mitigation``, ``--zne-*`` and ``--ibm-mode``."""
    options: dict = {}
    if args.mitigation:
        options["mitigation"] = args.mitigation
    zne = {key: value for key, value in (("scale_factors", args.zne_scales),
                                         ("folding", args.zne_folding),
                                         ("extrapolation", args.zne_extrapolation))
           if value is not None}
    if zne:
        options["zne"] = zne
    if args.ibm_mode:
        options["mode"] = args.ibm_mode
    return options


CLI_FLAGS = {"molecule": "MOLECULE", "result": "--out", "optimizer": "--optimizer/-O",
             "ansatz": "--ansatz/--layers", "backend": "--backend/--mitigation"}
TOML_TABLES = {"optimizer": "[optimizer]", "backend": "[backend]", "ansatz": "[ansatz]",
               "result": "[output]", "checkpoint": "[output]"}
