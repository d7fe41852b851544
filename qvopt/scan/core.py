"""``scan``: one VQE per geometry along a coordinate, resumable, warm-started.

Per point: the molecule file of that geometry is written (``<store>.molecules/`` next to
the store, else the cache folder), its Hamiltonian, HF and FCI energies are computed by
:func:`~qvopt.chem.load_problem` (cached by content; FCI skipped with a note above
:data:`~qvopt.chem.integrals.FCI_MAX_DETERMINANTS` determinants), and VQE runs through
:func:`qvopt.run` with the scan's run settings. With ``warm_start`` (default) a point starts
from the final parameters of the point before it. A finished point is written to the
store at once and never recomputed: re-running an interrupted scan resumes it.

Seeds: with ``seed`` set, point ``n`` runs with a seed derived from ``seed`` and its
geometry (``SeedSequence([seed, h])``), so a point's randomness does not depend on where
the scan starts or how it was interrupted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..chem.molecule import read_molecule_file
from ..config import DEFAULT_MAXITER, RunConfig
from ..errors import InputError
from ..io import write_bytes_atomic, write_json_atomic
from .certify import certified_equilibrium
from .coordinates import Coordinate, input_error, make_coordinate, write_point_molecule
from .store import ScanStore

CHEMICAL_ACCURACY_MHA = 1.6
# Optimizer updates per point unless given. Measured (H2, 0.5:2.5 Å in 0.25 and 0.1 Å steps,
# adam, 1000 shots, 20 seeds): with warm start the worst noiseless error over all points was
# 0.56 mHa at 40 updates and 1.08 mHa at 30; without warm start 40 updates left 4.2 mHa.
SCAN_MAXITER = 40
# Standard error (Ha) of each point's final energy unless given (sampled runs only): the
# equilibrium fit needs energies good to chemical accuracy. On the H2 scan above it adds
# ~2% shots and narrows the equilibrium bond length from ±0.02 Å to ±0.005 Å.
SCAN_FINAL_PRECISION = 1.6e-3
NOT_SCAN_SETTINGS = ("molecule", "checkpoint", "result")
CSV_COLUMNS = ("index", "value", "energy", "stderr", "energy_exact", "e_hf", "e_fci",
               "error_mha", "within_chemical_accuracy", "shots_used", "nit", "wall_time",
               "reference", "grouping", "geometry")
RUN_DEFAULT_SHOTS = next(f.default for f in fields(RunConfig) if f.name == "shots")
Progress = Callable[[int, int, dict | None], Any]


@dataclass
class ScanResult:
    """A finished scan: one record per point (in scan order) and the fitted equilibrium.

    Each record: ``index, value, unit, geometry`` (coordinates, file unit), ``symbols``,
    ``molecule`` (its file), ``energy ± stderr`` (VQE estimate at the final parameters),
    ``energy_exact`` (their noiseless energy), ``e_hf``, ``e_fci`` (None if FCI skipped),
    ``error_mha`` (``energy_exact − e_fci`` in mHa, None without FCI),
    ``within_chemical_accuracy``, ``shots_used`` (all of the point's shots), ``final_shots``
    (those of the final energy), ``nit``, ``wall_time``, ``message``,
    ``reference`` (where e_hf/e_fci came from), ``x`` (final parameters), ``seed``,
    ``grouping`` (the measurement groups the point used: ``"auto"`` resolves by size).
    """

    molecule: str
    coordinate: Coordinate
    config: dict
    warm_start: bool
    points: list[dict]
    equilibrium: dict | None
    reused: int = 0
    wall_time: float = 0.0
    store: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def values(self) -> np.ndarray:
        return np.array([p["value"] for p in self.points])

    @property
    def max_error_mha(self) -> float:
        """Largest |noiseless error| over the points with an FCI reference (NaN if none)."""
        errors = [abs(p["error_mha"]) for p in self.points if p["error_mha"] is not None]
        return max(errors) if errors else float("nan")

    @property
    def shots_used(self) -> int:
        return int(sum(p["shots_used"] for p in self.points))

    def to_dict(self) -> dict:
        """JSON-ready: settings, ``points`` (one record each) and ``equilibrium``."""
        return {"molecule": self.molecule, "coordinate": self.coordinate.to_dict(),
                "config": self.config, "warm_start": self.warm_start,
                "chemical_accuracy_mha": CHEMICAL_ACCURACY_MHA,
                "max_error_mha": _plain(self.max_error_mha), "shots_used": self.shots_used,
                "equilibrium": self.equilibrium, "points": self.points,
                "reused_points": self.reused, "wall_time": self.wall_time,
                "store": self.store, "notes": self.notes}

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` atomically."""
        return write_json_atomic(path, self.to_dict())

    def write_csv(self, path: str | Path) -> Path:
        """One row per point (:data:`CSV_COLUMNS`; geometry as JSON), atomically."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for point in self.points:
            writer.writerow({**point, "geometry": json.dumps(point["geometry"])})
        return write_bytes_atomic(path, buffer.getvalue().encode())

    def plot(self, path: str | Path) -> Path:
        """The scan's PNG (see :func:`qvopt.scan.plot.plot_scan`)."""
        from .plot import plot_scan

        return plot_scan(self, path)

    def write(self, out: str | Path, plot: bool = True) -> list[Path]:
        """``out`` (JSON), the CSV and the PNG beside it (same stem)."""
        out = Path(out)
        paths = [self.write_json(out), self.write_csv(out.with_suffix(".csv"))]
        if plot:
            paths.append(self.plot(out.with_suffix(".png")))
        return paths


# ------------------------------------------------------------------ the scan
def scan(molecule: str | Path, coordinate: str = "bond", values=None, *,
         atoms=None, warm_start: bool = True, store: str | Path | None = None,
         progress: Progress | None = None, threads: int | None = None,
         **settings) -> ScanResult:
    """Scan ``molecule`` along ``coordinate`` (``"bond"``, ``"angle"``, ``"geometries"``).

    ``values``: a list (for ``geometries``: of coordinate lists) or ``"start:stop:step"``;
    ``atoms``: the bond ``(i, j)`` or angle ``(i, j, k)`` atoms (defaults ``(0, 1)`` and
    ``(1, 0, 2)``); ``settings``: :class:`~qvopt.config.RunConfig` fields for every point
    (``optimizer``, ``shots``, ``seed``, ``maxiter``, ``allocation``, …; ``initial_point``
    applies to the first point; defaults differ from a single run's, see
    :func:`scan_defaults`). ``store``: SQLite file that makes the scan resumable
    (None: nothing kept). ``progress(done, total, record)`` after each point (``record``
    None for the first call). Bad input raises :class:`~qvopt.errors.InputError` naming
    it before anything runs.
    """
    started = time.perf_counter()
    spec = read_molecule_file(molecule)
    if not spec.has_geometry:
        raise InputError(f"molecule {str(molecule)!r}: a scan moves atoms, and this problem "
                         "comes from an FCIDUMP file (integrals, no geometry)")
    coord = make_coordinate(coordinate, values, atoms, len(spec.symbols), spec.units)
    template = _template(spec.source, {**scan_defaults(settings, warm_start), **settings})
    folder = _molecule_folder(store)
    paths = [write_point_molecule(spec, coord.geometry(spec.coordinates, n), folder, v)
             for n, v in enumerate(coord.values)]
    template = _sized(template, paths[0])
    with ScanStore(store) as db:
        points, reused = _run_points(db, template, coord, paths, warm_start, progress,
                                     threads)
    model = "morse" if coord.kind == "bond" else "parabola"
    fit = (certified_equilibrium(coord.values, points, model, f" {coord.unit}")
           if coord.kind != "geometries" else None)
    return ScanResult(molecule=str(spec.source), coordinate=coord, config=_settings(template),
                      warm_start=warm_start, points=points, equilibrium=fit, reused=reused,
                      wall_time=time.perf_counter() - started,
                      store=None if store is None else str(store),
                      notes=sorted({p["reference"] for p in points if not p["verified"]}))


def scan_defaults(settings: dict, warm_start: bool) -> dict:
    """Run settings a scan sets unless given: ``maxiter`` (:data:`SCAN_MAXITER` with warm
    start, else the run default) and, for sampled runs, ``final_precision``
    (:data:`SCAN_FINAL_PRECISION`)."""
    defaults: dict[str, float] = {"maxiter": SCAN_MAXITER if warm_start else DEFAULT_MAXITER}
    shots = settings.get("shots", RUN_DEFAULT_SHOTS)
    if not (shots is None or isinstance(shots, str) and shots.strip().lower() in (
            "exact", "none")):
        defaults["final_precision"] = SCAN_FINAL_PRECISION
    return defaults


def _template(source: Path, settings: dict) -> RunConfig:
    """The run settings of every point, validated once (molecule: the original file)."""
    bad = sorted(set(settings) & set(NOT_SCAN_SETTINGS))
    if bad:
        raise input_error(bad[0], "set per point by the scan; remove it")
    return RunConfig(molecule=str(source), **settings)


def _sized(template: RunConfig, path: Path) -> RunConfig:
    """An ``"auto"`` grouping made what the points will measure for their size
    (:func:`~qvopt.run_defaults.grouping_for_size`; every point has the first one's
    qubits), so a point's key names the grouping it runs: above 14 qubits ``auto`` runs
    QWC groups and must not share keys with an explicit ``fc_split``."""
    if "grouping" not in template.auto_fields:
        return template
    from ..chem.problem import load_problem

    return template.sized(load_problem(path).n_qubits)


def _settings(template: RunConfig) -> dict:
    """The template's settings without the per-point fields."""
    data = template.to_dict()
    for name in ("molecule", "checkpoint", "result"):
        data.pop(name, None)
    return data


def _molecule_folder(store: str | Path | None) -> Path:
    """``<store>.molecules/`` next to the store, else ``scan-molecules/`` in the cache."""
    if store is not None:
        store = Path(store)
        return store.with_name(store.name + ".molecules")
    from ..chem.cache import cache_dir

    return cache_dir().parent / "scan-molecules"


def _run_points(db: ScanStore, template: RunConfig, coord: Coordinate, paths: list[Path],
                warm_start: bool, progress: Progress | None, threads: int | None
                ) -> tuple[list[dict], int]:
    """Every point in order: from the store when finished, else run and stored."""
    points, reused = [], 0
    previous = template.initial_point
    if progress:
        progress(0, len(paths), None)
    for n, path in enumerate(paths):
        seed = point_seed(template.seed, path)
        key = point_key(template, path, seed, warm_start)
        record = db.get(key)
        if record is None:
            record = run_point(template.replace(molecule=str(path), seed=seed,
                                                initial_point=previous), threads)
            db.put(key, coord.values[n], record)
        else:
            reused += 1
        record = {**record, "index": n, "value": coord.values[n], "unit": coord.unit}
        points.append(record)
        previous = tuple(record["x"]) if warm_start else template.initial_point
        if progress:
            progress(n + 1, len(paths), record)
    return points, reused


def point_seed(seed: int | None, path: Path) -> int | None:
    """The seed of the point whose molecule file is ``path`` (None stays None)."""
    if seed is None:
        return None
    geometry = int.from_bytes(hashlib.sha256(path.read_bytes()).digest()[:8], "little")
    return int(np.random.SeedSequence([seed, geometry]).generate_state(1)[0])


def point_key(template: RunConfig, path: Path, seed: int | None, warm_start: bool) -> str:
    """What determines a point: its molecule file's content, the run settings (not the
    starting parameters, which follow from the points before it), seed, warm start."""
    settings = _settings(template)
    settings.pop("initial_point", None)
    payload = {"molecule": path.read_text(), "settings": settings, "seed": seed,
               "warm_start": warm_start,
               "initial_point": None if warm_start else template.initial_point}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run_point(config: RunConfig, threads: int | None = None) -> dict:
    """Run VQE for one point's configuration; its record (see :class:`ScanResult`)."""
    from ..api import run
    from ..chem.problem import load_problem

    problem = load_problem(config.molecule)
    spec = problem.spec
    assert spec is not None  # a scan point is a molecule file, never a bare operator
    result = run(config, threads=threads, problem=problem)
    e_fci = _plain(problem.e_fci)
    error = None if e_fci is None else (result.energy_exact - e_fci) * 1000.0
    return {"molecule": config.molecule, "symbols": list(spec.symbols),
            "geometry": [list(row) for row in spec.coordinates],
            "energy": float(result.fun), "stderr": float(result.stderr),
            "energy_exact": float(result.energy_exact), "e_hf": float(problem.e_hf),
            "e_fci": e_fci, "error_mha": error,
            "within_chemical_accuracy": None if error is None
            else abs(error) <= CHEMICAL_ACCURACY_MHA,
            "shots_used": int(result.shots_used), "nit": int(result.nit),
            "final_shots": int(result.get("final_shots") or 0),
            "wall_time": float(result.wall_time), "message": str(result.message),
            "reference": problem.reference_source, "verified": problem.reference_verified,
            "x": [float(v) for v in result.x], "seed": config.seed,
            "grouping": str((result.config or {}).get("grouping", config.grouping))}


def _plain(value: float | None) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)

