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


def make_study(molecules, optimizers, shots, seeds: int = 5, study_seed: int = 0,
               shot_budget: int | None = None, maxiter: int = 100, ansatz: str = "uccsd",
               allocation: str | None = None) -> Study:
    """Validate everything before any run starts; clear errors name the bad input."""
    molecules = tuple(molecules)
    if isinstance(optimizers, (list, tuple)):
        optimizers = {name: {} for name in optimizers}
    if not molecules or not optimizers or not shots:
        raise ValueError("empty grid: give at least one molecule, one optimizer and one "
                         "shot setting")
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    for molecule in molecules:
        read_molecule_file(molecule)  # unknown molecule / malformed file → clear error
    for name, options in optimizers.items():
        if not isinstance(options, dict):
            raise ValueError(f"options of optimizer {name!r} must be a table, got {options!r}")
        get_optimizer(name, vqe_defaults=True, **options)  # unknown optimizer/option → error
    clean_shots = []
    for value in shots:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value <= 0):
            raise ValueError(f"shot settings must be positive integers, got {value!r}")
        clean_shots.append(value)
    if shot_budget is not None and (not isinstance(shot_budget, int) or shot_budget <= 0):
        raise ValueError(f"shot_budget must be a positive integer, got {shot_budget!r}")
    if not isinstance(maxiter, int) or maxiter < 1:
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}")
    return Study(molecules, {k: dict(v) for k, v in optimizers.items()}, tuple(clean_shots),
                 seeds, int(study_seed), shot_budget, maxiter, ansatz, allocation)


def load_study_file(path: str | Path) -> Study:
    """A :class:`Study` from a TOML file (see the module docstring); unknown keys rejected."""
    path = Path(path)
    data = read_toml(path, "study file")
    reject_unknown_keys(data, STUDY_KEYS, path)
    for key in ("molecules", "optimizers", "shots"):
        if key not in data:
            raise ValueError(f"{path}: missing key {key!r}")
    return make_study(data["molecules"], data["optimizers"], data["shots"],
                      seeds=data.get("seeds", 5), study_seed=data.get("study_seed", 0),
                      shot_budget=data.get("shot_budget"), maxiter=data.get("maxiter", 100),
                      ansatz=data.get("ansatz", "uccsd"), allocation=data.get("allocation"))
