"""Scan coordinates: which geometries a scan visits, and the molecule file of each.

Three kinds of coordinate:

* ``bond`` (atoms ``i, j``; default ``0, 1``): atom ``j`` moves along the ``i → j``
  direction so that ``|r_j − r_i|`` is the value; every other atom stays. Values are in
  the molecule file's length unit (Å unless it says ``bohr``).
* ``angle`` (atoms ``i, j, k``, vertex ``j``; default ``1, 0, 2``): atom ``k`` turns about
  ``j`` in the ``i, j, k`` plane, keeping ``|r_k − r_j|``, so that the angle ``i-j-k`` is
  the value, in degrees (0 < value ≤ 180).
* ``geometries``: a list of full coordinate lists (one row ``[x, y, z]`` per atom, in
  the file's unit); the scan value of geometry ``n`` is ``n``.

Values are given as a list or as ``"start:stop:step"`` (``stop`` included when the steps
reach it, e.g. ``0.5:2.5:0.25`` → 9 values) or ``"a,b,c"``. Every bad specification is an
:class:`~qvopt.errors.InputError` naming the input (``err.field``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import safe_component, write_bytes_atomic

KINDS = ("bond", "angle", "geometries")
DEFAULT_ATOMS = {"bond": (0, 1), "angle": (1, 0, 2), "geometries": ()}
MAX_POINTS = 10_000
RANGE_TOLERANCE = 1e-9  # relative: a stop within this of a step is included


def input_error(name: str, message: str) -> InputError:
    """``InputError("<name>: <message>")`` with ``.field = name``."""
    error = InputError(f"{name}: {message}")
    error.field = name
    return error


# ------------------------------------------------------------------ values
def parse_values(text: str, name: str = "values") -> tuple[float, ...]:
    """``"start:stop:step"`` (stop included when reached) or ``"a,b,c"`` → floats."""
    if not isinstance(text, str) or not text.strip():
        raise input_error(name, f"expected 'start:stop:step' or 'a,b,c', got {text!r}")
    parts = [p.strip() for p in text.split(":")]
    if len(parts) == 1:
        return tuple(_number(p, name, text) for p in parts[0].split(","))
    if len(parts) != 3:
        raise input_error(name, f"expected 'start:stop:step', got {text!r}")
    start, stop, step = (_number(p, name, text) for p in parts)
    return value_range(start, stop, step, name)


def _number(text: str, name: str, whole: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise input_error(name, f"{text!r} in {whole!r} is not a number") from None
    if not math.isfinite(value):
        raise input_error(name, f"{text!r} in {whole!r} is not a finite number")
    return value


def value_range(start: float, stop: float, step: float, name: str = "values"
                ) -> tuple[float, ...]:
    """``start, start + step, …`` up to ``stop`` (included when a step lands on it)."""
    if step == 0:
        raise input_error(name, f"step must not be 0 (range {start}:{stop}:{step})")
    count = (stop - start) / step
    if count < -RANGE_TOLERANCE:
        raise input_error(name, f"empty range {start}:{stop}:{step}: a step of {step} never "
                          f"goes from {start} to {stop}")
    n = math.floor(count + RANGE_TOLERANCE * max(1.0, abs(count))) + 1
    if n > MAX_POINTS:
        raise input_error(name, f"range {start}:{stop}:{step} has {n} points (at most "
                          f"{MAX_POINTS})")
    return tuple(round(start + i * step, 12) for i in range(n))


# ------------------------------------------------------------------ the coordinate
@dataclass(frozen=True)
class Coordinate:
    """What a scan varies: ``kind``, the ``atoms`` it involves, its ``values`` and, for
    ``geometries``, the coordinate lists themselves; ``unit`` of the values."""

    kind: str
    atoms: tuple[int, ...]
    values: tuple[float, ...]
    unit: str
    geometries: tuple[tuple[tuple[float, float, float], ...], ...] = ()

    @property
    def label(self) -> str:
        """Axis label, e.g. ``"bond 0-1 (angstrom)"``."""
        if self.kind == "geometries":
            return "geometry index"
        return f"{self.kind} {'-'.join(map(str, self.atoms))} ({self.unit})"

    def to_dict(self) -> dict:
        """JSON-ready description."""
        return {"kind": self.kind, "atoms": list(self.atoms), "unit": self.unit,
                "values": list(self.values)}

    def geometry(self, coordinates: Sequence[Sequence[float]], index: int
                 ) -> list[list[float]]:
        """The coordinates of point ``index``, from the molecule's ``coordinates``."""
        if self.kind == "geometries":
            return [list(row) for row in self.geometries[index]]
        value = self.values[index]
        if self.kind == "bond":
            i, j = self.atoms
            return bond_geometry(coordinates, i, j, value)
        i, j, k = self.atoms
        return angle_geometry(coordinates, i, j, k, value)


def make_coordinate(kind: str, values, atoms: Sequence[int] | None, n_atoms: int,
                    units: str) -> Coordinate:
    """A validated :class:`Coordinate` for a molecule of ``n_atoms`` in ``units``."""
    if kind not in KINDS:
        raise input_error("coordinate", f"expected one of {list(KINDS)}, got {kind!r}")
    if kind == "geometries":
        geometries = _check_geometries(values, n_atoms)
        return Coordinate(kind, (), tuple(float(i) for i in range(len(geometries))),
                          units, geometries)
    atoms = _check_atoms(kind, atoms, n_atoms)
    values = _check_values(kind, values)
    unit = "degree" if kind == "angle" else units
    return Coordinate(kind, atoms, values, unit)


def _check_atoms(kind: str, atoms, n_atoms: int) -> tuple[int, ...]:
    atoms = DEFAULT_ATOMS[kind] if atoms is None else atoms
    need = len(DEFAULT_ATOMS[kind])
    try:
        atoms = tuple(atoms)
    except TypeError:
        raise input_error("atoms", f"expected {need} atom indices, got {atoms!r}") from None
    if len(atoms) != need or not all(isinstance(a, int) and not isinstance(a, bool)
                                     for a in atoms):
        raise input_error("atoms", f"a {kind} needs {need} atom indices, got {list(atoms)}")
    for a in atoms:
        if not 0 <= a < n_atoms:
            raise input_error("atoms", f"unknown atom index {a}: the molecule has {n_atoms} "
                              f"atoms (indices 0 to {n_atoms - 1})")
    if len(set(atoms)) != need:
        raise input_error("atoms", f"atom indices must be different, got {list(atoms)}")
    return atoms


def _check_values(kind: str, values) -> tuple[float, ...]:
    if isinstance(values, str):
        values = parse_values(values, "values")
    try:
        values = tuple(values)
    except TypeError:
        raise input_error("values", f"expected a list of numbers, got {values!r}") from None
    if not values:
        raise input_error("values", "empty: give at least one value")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise input_error("values", f"expected finite numbers, got {v!r}")
        if kind == "bond" and v <= 0:
            raise input_error("values", f"bond lengths must be positive, got {v}")
        if kind == "angle" and not 0 < v <= 180:
            raise input_error("values", f"angles must be in (0, 180] degrees, got {v}")
    return tuple(float(v) for v in values)


def _check_geometries(geometries, n_atoms: int):
    if isinstance(geometries, str) or not isinstance(geometries, Sequence) or not geometries:
        raise input_error("geometries", "expected a non-empty list of coordinate lists")
    out = []
    for n, geometry in enumerate(geometries):
        rows = np.asarray(geometry, dtype=float) if _is_table(geometry) else None
        if rows is None or rows.shape != (n_atoms, 3) or not np.isfinite(rows).all():
            raise input_error("geometries", f"geometry {n} must be {n_atoms} rows of three "
                              f"finite numbers (one per atom), got {geometry!r}")
        out.append(tuple(tuple(float(v) for v in row) for row in rows))
    return tuple(out)


def _is_table(geometry) -> bool:
    try:
        np.asarray(geometry, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


# ------------------------------------------------------------------ geometry changes
def bond_geometry(coordinates, i: int, j: int, length: float) -> list[list[float]]:
    """Move atom ``j`` along ``i → j`` so that ``|r_j − r_i| = length``."""
    xyz = np.array(coordinates, dtype=float)
    direction = xyz[j] - xyz[i]
    norm = np.linalg.norm(direction)
    unit = direction / norm if norm > 0 else np.array([0.0, 0.0, 1.0])
    xyz[j] = xyz[i] + length * unit
    return xyz.tolist()


def angle_geometry(coordinates, i: int, j: int, k: int, degrees: float
                   ) -> list[list[float]]:
    """Turn atom ``k`` about vertex ``j`` (in the ``i, j, k`` plane, same ``|r_k − r_j|``)
    so that the angle ``i-j-k`` is ``degrees``."""
    xyz = np.array(coordinates, dtype=float)
    u = _unit(xyz[i] - xyz[j])
    arm = xyz[k] - xyz[j]
    w = arm - (arm @ u) * u
    if np.linalg.norm(w) < 1e-10:  # collinear: any direction perpendicular to u
        w = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
    theta = math.radians(degrees)
    xyz[k] = xyz[j] + np.linalg.norm(arm) * (math.cos(theta) * u + math.sin(theta) * _unit(w))
    return xyz.tolist()


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    if norm == 0:
        raise input_error("atoms", "two atoms of the angle are at the same position")
    return vector / norm


# ------------------------------------------------------------------ molecule files
def molecule_toml(spec, coordinates, name: str) -> str:
    """A molecule file for ``spec`` at ``coordinates`` (no ``[reference]``: the energies of
    the original geometry do not apply; they are computed)."""
    # ensure_ascii=False: JSON's \\uD83D surrogate escapes of a non-BMP character (an emoji
    # in a name) are not valid TOML; the characters themselves are
    lines = [f"name = {json.dumps(name, ensure_ascii=False)}",
             f"description = {json.dumps(f'{spec.name} scan point', ensure_ascii=False)}",
             f"basis = {json.dumps(spec.basis)}", f"charge = {spec.charge}",
             f"multiplicity = {spec.multiplicity}", "", "[geometry]",
             f"units = {json.dumps(spec.units)}",
             f"symbols = {json.dumps(list(spec.symbols))}", "coordinates = ["]
    lines += [f"  [{', '.join(_float(v) for v in row)}]," for row in coordinates]
    lines.append("]")
    if spec.active_electrons is not None:
        lines += ["", "[active_space]", f"electrons = {spec.active_electrons}",
                  f"orbitals = {spec.active_orbitals}"]
    return "\n".join(lines) + "\n"


def _float(value: float) -> str:
    value = round(float(value), 10) + 0.0  # no "-0.0"
    return repr(value)


def write_point_molecule(spec, coordinates, folder: Path, value: float) -> Path:
    """Write the molecule file of one scan point into ``folder`` (named by its content,
    so the same geometry is the same file and hits the Hamiltonian cache)."""
    label = safe_component(f"{spec.name}_{value:g}".replace("-", "m"))
    text = molecule_toml(spec, coordinates, label)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = Path(folder) / f"{label}-{digest}.toml"
    if not path.is_file() or path.read_text() != text:
        write_bytes_atomic(path, text.encode())
    return path
