"""A comparison study: the grid molecules × optimizers × shot settings × seeds.

Every run is described by a plain, JSON-serialisable configuration; its identity is the
SHA-256 of that configuration's canonical JSON (so the same study resumes, and a changed
option makes a new run). Its random seed is derived from the study seed and the run's grid
coordinates only, so the numbers are the same whatever the number of workers.

A study can come from arguments or from a TOML file::

    molecules = ["h2", "lih_fc"]
    shots = [100, 1000]
    seeds = 10
    study_seed = 0
    shot_budget = 20_000_000     # every run stops at the same total (fair), or
    maxiter = 120                # at this many iterations (either or both; default 120)
    tol = 1e-3                   # optional: let each run stop by the convergence test of
                                 # qvopt.guard (default: none, runs go to maxiter/budget)
    ansatz = "uccsd"
    grouping = "auto"            # optional: measurement groups (qvopt run --grouping)

    [optimizers.adam]            # per-optimizer options; {} = the VQE defaults
    lr = 0.05
    [optimizers.spsa]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..chem.problem import load_problem
from ..config import (
    DEFAULT_MAXITER,
    RunConfig,
    check_int,
    check_shots,
    default_initial_point,
)
from ..errors import InputError, RunFileError
from ..io import read_toml, reject_unknown_keys
from ..run_defaults import AUTO, DEFAULT_GROUPING, QWC_GROUPING, grouping_for_size, is_auto
from ..setting_checks import check_grouping

STUDY_KEYS = {"molecules", "optimizers", "shots", "seeds", "study_seed", "shot_budget",
              "maxiter", "ansatz", "allocation", "tol", "grouping"}


@dataclass(frozen=True)
class Study:
    """The grid and the settings shared by all of its runs."""

    molecules: tuple[str, ...]
    optimizers: dict[str, dict] = field(hash=False)
    shots: tuple[int | None, ...]
    seeds: int = 5
    study_seed: int = 0
    shot_budget: int | None = None
    maxiter: int = DEFAULT_MAXITER
    ansatz: str = "uccsd"
    allocation: str | None = None
    tol: float | None = None
    grouping: str = AUTO

    def runs(self) -> list[dict]:
        """Every run's configuration, in a fixed order."""
        configs = []
        qubits: dict[str, int] = {}
        for molecule in self.molecules:
            for name, options in self.optimizers.items():
                for shots in self.shots:
                    for index in range(self.seeds):
                        configs.append({
                            "molecule": molecule, "optimizer": name,
                            "optimizer_options": dict(options), "shots": shots,
                            "seed_index": index, "study_seed": self.study_seed,
                            "maxiter": self.maxiter, "shot_budget": self.shot_budget,
                            "ansatz": self.ansatz, "allocation": self.allocation,
                            "initial_point": default_initial_point(self.ansatz),
                            # runs are compared on the optimization's shots and exact
                            # errors: one final evaluation, not a staged measurement
                            "final_precision": None,
                            # no convergence test unless asked (runs stop at the same
                            # maxiter or budget); only then in the identity
                            **({} if self.tol is None else {"tol": self.tol}),
                            **self._grouping_entry(molecule, shots, qubits),
                        })
        for config in configs:
            config["run_id"] = run_id(config)
            config["seed"] = derived_seed(config)
        return configs


    def _grouping_entry(self, molecule: str, shots, qubits: dict[str, int]) -> dict:
        """The grouping a run measures, in its configuration and hence its identity: the
        setting resolved for the run's mode and allocation and, for ``"auto"``, for the
        molecule's size (QWC above 14 qubits: :func:`~qvopt.run_defaults.grouping_for_size`;
        ``qubits`` caches the sizes). Absent only where the run measures QWC groups with
        shots per group (``allocation=None``) or no shots: every version measured those in
        QWC groups, so earlier stores resume. A run with an allocation always names its
        grouping: stores written before the grouping was recorded hold such runs measured
        in fc_split or QWC groups, undistinguishable, and they are redone rather than taken
        for either (they stay in the store)."""
        resolved = check_grouping(self.grouping, "statevector", self.ansatz,
                                  sampled=shots is not None,
                                  allocated=self.allocation is not None)
        if is_auto(self.grouping) and resolved == DEFAULT_GROUPING:
            if molecule not in qubits:
                qubits[molecule] = load_problem(molecule).n_qubits
            resolved = grouping_for_size(resolved, qubits[molecule])
        if resolved == QWC_GROUPING and (shots is None or self.allocation is None):
            return {}
        return {"grouping": resolved}


def canonical(config: dict) -> str:
    body = {k: v for k, v in config.items() if k not in ("run_id", "seed")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def run_id(config: dict) -> str:
    """Identity of a run: SHA-256 of its canonical configuration (first 20 hex digits)."""
    return hashlib.sha256(canonical(config).encode()).hexdigest()[:20]


def derived_seed(config: dict) -> int:
    """A 63-bit seed from the study seed and the run's grid coordinates."""
    coords = json.dumps([config["study_seed"], config["molecule"], config["optimizer"],
                         config["optimizer_options"], config["shots"], config["seed_index"]],
                        sort_keys=True)
    return int.from_bytes(hashlib.sha256(coords.encode()).digest()[:8], "big") >> 1


RUN_FIELDS = ("molecule", "ansatz", "optimizer", "optimizer_options", "shots", "seed",
              "maxiter", "shot_budget", "allocation", "initial_point", "final_precision")


def to_run_config(config: dict) -> RunConfig:
    """The :class:`~qvopt.config.RunConfig` of one grid point of :meth:`Study.runs`."""
    return RunConfig(**{key: config[key] for key in RUN_FIELDS}, tol=config.get("tol"),
                     grouping=config.get("grouping", QWC_GROUPING))


def check_shot_list(shots) -> tuple[int | None, ...]:
    """The shot settings as a tuple: each a positive integer, or None for exact energies."""
    if isinstance(shots, (str, bytes)) or not hasattr(shots, "__iter__"):
        raise InputError(f"shots must be a list of shot settings, got {shots!r}")
    clean = tuple(shots)
    for value in clean:
        if isinstance(value, float):  # 1e3 from TOML is fine, 0.5 is not
            raise InputError(f"shots: shot settings must be positive integers or exact "
                             f"(None), got {value!r} in {list(clean)!r}")
        try:
            check_shots(value)
        except InputError:
            raise InputError(f"shots: shot settings must be positive integers or exact "
                             f"(None), got {value!r} in {list(clean)!r}") from None
    return clean


def parse_shot_list(text: str) -> list[int | None]:
    """``"100,1000,exact"`` → ``[100, 1000, None]``; anything else raises InputError."""
    values: list[int | None] = []
    for item in text.split(","):
        item = item.strip()
        if item.lower() in ("exact", "none"):
            values.append(None)
            continue
        try:
            values.append(int(item))
        except ValueError:
            raise InputError(f"--shots must be comma-separated positive integers or 'exact', "
                             f"got {item!r} in {text!r}") from None
    return list(check_shot_list(values))


def _optimizer_table(optimizers) -> dict[str, dict]:
    """``["adam", …]`` or ``{"adam": {options}, …}`` → ``{name: options}``."""
    if isinstance(optimizers, (list, tuple)):
        optimizers = {name: {} for name in optimizers}
    if not isinstance(optimizers, dict):
        raise InputError(f"optimizers must be a list of names or a table of options, got "
                         f"{optimizers!r}")
    for name, options in optimizers.items():
        if not isinstance(options, dict):
            raise InputError(f"options of optimizer {name!r} must be a table, got {options!r}")
    return {k: dict(v) for k, v in optimizers.items()}


def make_study(molecules, optimizers, shots, seeds: int = 5, study_seed: int = 0,
               shot_budget: int | None = None, maxiter: int = DEFAULT_MAXITER,
               ansatz: str = "uccsd", allocation: str | None = None,
               tol: float | None = None, grouping: str = AUTO) -> Study:
    """Validate everything before any run starts; errors (:class:`InputError`) name the
    bad input. Every grid point's :class:`RunConfig` is built once (molecule read,
    optimizer constructed with its options, shots/allocation/ansatz checked)."""
    if isinstance(molecules, str):
        molecules = [molecules]
    molecules = tuple(molecules)
    if not molecules or not optimizers or not shots:
        raise InputError("empty grid: give at least one molecule, one optimizer and one "
                         "shot setting")
    shots = check_shot_list(shots)
    check_int("seeds", seeds, 1)
    check_int("study_seed", study_seed, 0)
    check_int("maxiter", maxiter, 1)
    study = Study(molecules, _optimizer_table(optimizers), shots, seeds, study_seed,
                  shot_budget, maxiter, ansatz, allocation, tol, grouping)
    seen = set()
    for config in study.runs():
        point = (config["molecule"], config["optimizer"], config["shots"])
        if point not in seen:
            seen.add(point)
            to_run_config(config)
    return study


def load_study_file(path: str | Path) -> Study:
    """A :class:`Study` from a TOML file (see the module docstring); unknown keys rejected.

    Every problem raises :class:`RunFileError` naming the file and the bad key or value.
    """
    path = Path(path)
    data = read_toml(path, "study file", error=RunFileError)
    reject_unknown_keys(data, STUDY_KEYS, path, error=RunFileError)
    for key in ("molecules", "optimizers", "shots"):
        if key not in data:
            raise RunFileError(f"{path}: missing key {key!r}")
    try:
        return make_study(data["molecules"], data["optimizers"], data["shots"],
                          seeds=data.get("seeds", 5), study_seed=data.get("study_seed", 0),
                          shot_budget=data.get("shot_budget"),
                          maxiter=data.get("maxiter", DEFAULT_MAXITER),
                          ansatz=data.get("ansatz", "uccsd"),
                          allocation=data.get("allocation"), tol=data.get("tol"),
                          grouping=data.get("grouping", AUTO))
    except RunFileError:
        raise
    except InputError as exc:
        raise RunFileError(f"{path}: {exc}") from exc
