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
    maxiter = 100                # at this many iterations (either or both)
    ansatz = "uccsd"

    [optimizers.adam]            # per-optimizer options; {} = the VQE defaults
    lr = 0.05
    [optimizers.spsa]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..chem.molecule import read_molecule_file
from ..errors import InputError, QvoptError, RunFileError
from ..io import read_toml, reject_unknown_keys
from ..optimizers.registry import get_optimizer

STUDY_KEYS = {"molecules", "optimizers", "shots", "seeds", "study_seed", "shot_budget",
              "maxiter", "ansatz", "allocation"}


@dataclass(frozen=True)
class Study:
    """The grid and the settings shared by all of its runs."""

    molecules: tuple[str, ...]
    optimizers: dict[str, dict] = field(hash=False)
    shots: tuple[int | None, ...]
    seeds: int = 5
    study_seed: int = 0
    shot_budget: int | None = None
    maxiter: int = 100
    ansatz: str = "uccsd"
    allocation: str | None = None

    def runs(self) -> list[dict]:
        """Every run's configuration, in a fixed order."""
        configs = []
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
                        })
        for config in configs:
            config["run_id"] = run_id(config)
            config["seed"] = derived_seed(config)
        return configs


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


ALLOCATIONS = (None, "uniform", "weighted", "variance")


def _positive_int(name: str, value, optional: bool = False) -> int | None:
    """``value`` if it is a positive integer (or None when ``optional``), else InputError."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_shots(shots) -> tuple[int | None, ...]:
    """The shot settings as a tuple: each a positive integer, or None for exact energies."""
    if isinstance(shots, (str, bytes)) or not hasattr(shots, "__iter__"):
        raise InputError(f"shots must be a list of shot settings, got {shots!r}")
    clean = tuple(shots)
    for value in clean:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value <= 0):
            raise InputError(f"shots: shot settings must be positive integers or exact "
                             f"(None), got {value!r} in {list(clean)!r}")
    return clean


def parse_shot_list(text: str) -> list[int | None]:
    """``"100,1000,exact"`` → ``[100, 1000, None]``; anything else raises InputError."""
    values = []
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
    return list(check_shots(values))


def _check_optimizers(optimizers) -> dict[str, dict]:
    """Every optimizer constructed once with its options, so a bad one fails up front."""
    if isinstance(optimizers, (list, tuple)):
        optimizers = {name: {} for name in optimizers}
    if not isinstance(optimizers, dict):
        raise InputError(f"optimizers must be a list of names or a table of options, got "
                         f"{optimizers!r}")
    for name, options in optimizers.items():
        if not isinstance(options, dict):
            raise InputError(f"options of optimizer {name!r} must be a table, got {options!r}")
        try:
            get_optimizer(name, vqe_defaults=True, **options)
        except QvoptError:
            raise
        except (ValueError, TypeError) as exc:  # unknown optimizer / option / bad value
            raise InputError(f"optimizer {name!r}: {exc}") from exc
    return {k: dict(v) for k, v in optimizers.items()}


def _check_settings(ansatz: str, allocation: str | None) -> None:
    """The ansatz and the shot allocation are names qvopt knows."""
    from ..ansatz import ANSATZE

    if ansatz not in set(ANSATZE) | {"hea"}:
        raise InputError(f"unknown ansatz {ansatz!r}: expected one of {sorted(ANSATZE)} "
                         "or 'hea'")
    if allocation not in ALLOCATIONS:
        raise InputError(f"allocation must be one of {list(ALLOCATIONS[1:])} or None, got "
                         f"{allocation!r}")


def make_study(molecules, optimizers, shots, seeds: int = 5, study_seed: int = 0,
               shot_budget: int | None = None, maxiter: int = 100, ansatz: str = "uccsd",
               allocation: str | None = None) -> Study:
    """Validate everything before any run starts; errors (:class:`InputError`) name the
    bad input. Every optimizer is constructed with its options, every molecule read."""
    if isinstance(molecules, str):
        molecules = [molecules]
    molecules = tuple(molecules)
    if not molecules or not optimizers or not shots:
        raise InputError("empty grid: give at least one molecule, one optimizer and one "
                         "shot setting")
    clean_shots = check_shots(shots)
    _positive_int("seeds", seeds)
    _positive_int("shot_budget", shot_budget, optional=True)
    _positive_int("maxiter", maxiter)
    if isinstance(study_seed, bool) or not isinstance(study_seed, int):
        raise InputError(f"study_seed must be an integer, got {study_seed!r}")
    _check_settings(ansatz, allocation)
    for molecule in molecules:
        read_molecule_file(molecule)  # unknown molecule / malformed file → MoleculeFileError
    return Study(molecules, _check_optimizers(optimizers), clean_shots, seeds, study_seed,
                 shot_budget, maxiter, ansatz, allocation)


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
                          maxiter=data.get("maxiter", 100), ansatz=data.get("ansatz", "uccsd"),
                          allocation=data.get("allocation"))
    except RunFileError:
        raise
    except InputError as exc:
        raise RunFileError(f"{path}: {exc}") from exc
