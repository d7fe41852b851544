"""Molecule files: TOML data → a validated :class:`MoleculeSpec`.

A molecule file holds data only::

    name = "h2"
    basis = "sto-3g"
    charge = 0
    multiplicity = 1

    [geometry]
    units = "angstrom"               # or "bohr"
    symbols = ["H", "H"]
    coordinates = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.7414]]

    [active_space]                   # optional: frozen-core / active-space reduction
    electrons = 2
    orbitals = 5

    [reference]                      # optional: computed when absent
    e_hf = -1.116684
    e_fci = -1.137270
    program = "PySCF"
    version = "2.14.0"

Every error names the file and the offending field (``geometry.symbols[i]`` for atom ``i``).
Conventions: ``multiplicity = 2S + 1`` (default 1), ``charge`` default 0; atoms must be at
least 0.1 Å apart.

Integrals written by another program come as an FCIDUMP file (:mod:`.fcidump`): give its
path instead of a molecule file (whole orbital space, electrons from its header), or name it
in a molecule file instead of ``basis`` and ``[geometry]``, to add a name, an
``[active_space]`` (the lowest orbitals frozen) or ``[reference]`` energies::

    name = "n2_cas"
    fcidump = "n2.fcidump"           # relative to this file
    [active_space]
    electrons = 6
    orbitals = 6
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import MoleculeFileError
from .elements import atomic_number
from .fcidump import looks_like_fcidump, read_header


def molecules_dir() -> Path:
    """Folder of the shipped molecule files.

    ``$QVOPT_MOLECULES_DIR`` if set; else ``molecules/`` of the source checkout (editable
    installs); else the copy a regular install puts in ``<prefix>/share/qvopt/molecules``.
    """
    override = os.environ.get("QVOPT_MOLECULES_DIR")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[2] / "molecules"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "qvopt" / "molecules"

_UNITS = ("angstrom", "bohr")
BOHR_IN_ANGSTROM = 0.529177210903  # CODATA 2018
MIN_DISTANCE_ANGSTROM = 0.1  # closer atoms are a typo (PySCF fails with "singular matrix")


@dataclass(frozen=True)
class MoleculeSpec:
    """The validated content of one molecule file."""

    name: str
    symbols: tuple[str, ...]
    coordinates: tuple[tuple[float, float, float], ...]
    units: str
    basis: str
    charge: int
    multiplicity: int
    active_electrons: int | None
    active_orbitals: int | None
    e_hf: float | None
    e_fci: float | None
    reference_program: str | None
    source: Path
    description: str = ""
    fcidump: Path | None = None  # integrals from this FCIDUMP file instead of PySCF's SCF

    @property
    def has_geometry(self) -> bool:
        """Whether the problem is built from atoms (False: from an FCIDUMP file)."""
        return self.fcidump is None


def known_molecules() -> list[str]:
    """Names of the molecule files shipped in ``molecules/``, sorted."""
    return sorted(p.stem for p in molecules_dir().glob("*.toml"))


def resolve_molecule_path(name_or_path: str | Path) -> Path:
    """Map a shipped molecule name (``"h2"``) or a file path to an existing file."""
    candidate = Path(name_or_path)
    shipped = molecules_dir() / f"{name_or_path}.toml"
    looks_like_path = candidate.suffix in (".toml", ".fcidump") or "/" in str(name_or_path)
    if not looks_like_path and shipped.is_file():  # a shipped name wins over ./h2
        return shipped
    if looks_like_path or candidate.exists():
        if candidate.is_dir():
            raise MoleculeFileError(f"molecule file {str(candidate)!r} is a directory, "
                                    "expected a molecule .toml file or an FCIDUMP file")
        if not candidate.is_file():
            raise MoleculeFileError(f"molecule file {str(candidate)!r} does not exist")
        return candidate
    if not shipped.is_file():
        raise MoleculeFileError(
            f"unknown molecule {str(name_or_path)!r}: expected one of {known_molecules()} "
            "or a path to a .toml molecule file or an FCIDUMP file"
        )
    return shipped


def _reject_unknown(table: dict, allowed: set[str], path: Path, prefix: str = "") -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        names = [f"{prefix}{k}" for k in unknown]
        raise MoleculeFileError(f"{path}: unknown field(s) {names}; allowed: "
                                f"{sorted(prefix + k for k in allowed)}")


def _field(table: dict, key: str, kind, path: Path, prefix: str = "", required: bool = True):
    full = f"{prefix}{key}"
    if key not in table:
        if required:
            raise MoleculeFileError(f"{path}: missing field {full!r}")
        return None
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise MoleculeFileError(
            f"{path}: field {full!r} must be of type {kind.__name__}, got {value!r}"
        )
    return value


def _load_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise MoleculeFileError(f"{path}: cannot read molecule file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MoleculeFileError(f"{path}: not valid TOML ({exc})") from exc


def _parse_geometry(geometry: dict, path: Path
                    ) -> tuple[list[str], list[tuple[float, float, float]], str]:
    """``(symbols, coordinates, units)`` of the ``[geometry]`` table, shapes checked."""
    _reject_unknown(geometry, {"units", "symbols", "coordinates"}, path, "geometry.")
    symbols = _field(geometry, "symbols", list, path, "geometry.")
    coords = _field(geometry, "coordinates", list, path, "geometry.")
    units = (_field(geometry, "units", str, path, "geometry.", required=False) or "angstrom")
    if units.lower() not in _UNITS:
        raise MoleculeFileError(
            f"{path}: field 'geometry.units' must be one of {list(_UNITS)}, got {units!r}"
        )
    if not symbols or not all(isinstance(s, str) and s for s in symbols):
        raise MoleculeFileError(f"{path}: field 'geometry.symbols' must be a non-empty list of "
                                "element symbols")
    if len(coords) != len(symbols):
        raise MoleculeFileError(
            f"{path}: field 'geometry.coordinates' has {len(coords)} rows but "
            f"'geometry.symbols' has {len(symbols)} atoms"
        )
    parsed_coords: list[tuple[float, float, float]] = []
    for i, row in enumerate(coords):
        if (not isinstance(row, list) or len(row) != 3
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           and math.isfinite(v) for v in row)):
            raise MoleculeFileError(
                f"{path}: field 'geometry.coordinates[{i}]' must be three finite numbers, "
                f"got {row!r}"
            )
        x, y, z = (float(v) for v in row)
        parsed_coords.append((x, y, z))
    return symbols, parsed_coords, units.lower()


def _electron_count(symbols: list[str], charge: int, path: Path) -> int:
    """Σ Z − charge; every symbol must be a chemical element (index named if not)."""
    protons = 0
    for i, symbol in enumerate(symbols):
        z = atomic_number(symbol)
        if z is None:
            raise MoleculeFileError(
                f"{path}: field 'geometry.symbols[{i}]' (atom {i}) is {symbol!r}: expected a "
                "chemical element symbol such as 'H', 'Li' or 'O'"
            )
        protons += z
    if protons - charge < 1:
        raise MoleculeFileError(f"{path}: field 'charge' = {charge} leaves "
                                f"{protons - charge} electrons: expected a charge < {protons}")
    return protons - charge


def _check_multiplicity(multiplicity: int, n_electrons: int, path: Path) -> None:
    """``multiplicity = 2S + 1 ≥ 1``; ``2S`` unpaired electrons: at most N, same parity as N."""
    if multiplicity < 1:
        raise MoleculeFileError(f"{path}: field 'multiplicity' must be an integer >= 1 "
                                f"(2S + 1), got {multiplicity}")
    unpaired = multiplicity - 1
    if unpaired > n_electrons or unpaired % 2 != n_electrons % 2:
        hint = 1 if n_electrons % 2 == 0 else 2
        raise MoleculeFileError(
            f"{path}: field 'multiplicity' = {multiplicity} does not fit {n_electrons} "
            f"electrons: multiplicity - 1 must be at most the electron count and have its "
            f"parity (e.g. multiplicity = {hint})"
        )


def _check_distances(symbols: list[str], coords: list, units: str, path: Path) -> None:
    """No two atoms closer than :data:`MIN_DISTANCE_ANGSTROM` (both indices named)."""
    scale = BOHR_IN_ANGSTROM if units == "bohr" else 1.0
    for i, j in itertools.combinations(range(len(coords)), 2):
        distance = math.dist(coords[i], coords[j]) * scale
        if distance < MIN_DISTANCE_ANGSTROM:
            raise MoleculeFileError(
                f"{path}: atoms {i} ({symbols[i]}) and {j} ({symbols[j]}) in field "
                f"'geometry.coordinates' are {distance:.3g} Å apart: expected at least "
                f"{MIN_DISTANCE_ANGSTROM} Å between atoms"
            )


def _parse_active_space(active, n_electrons: int, path: Path
                        ) -> tuple[int | None, int | None]:
    if active is None:
        return None, None
    if not isinstance(active, dict):
        raise MoleculeFileError(f"{path}: field 'active_space' must be a table")
    _reject_unknown(active, {"electrons", "orbitals"}, path, "active_space.")
    n_act_e = _field(active, "electrons", int, path, "active_space.")
    n_act_o = _field(active, "orbitals", int, path, "active_space.")
    if n_act_e < 1 or n_act_o < 1:
        raise MoleculeFileError(f"{path}: fields 'active_space.electrons' and "
                                "'active_space.orbitals' must be positive")
    if n_act_e > n_electrons or (n_electrons - n_act_e) % 2:
        raise MoleculeFileError(
            f"{path}: field 'active_space.electrons' = {n_act_e} must be at most "
            f"{n_electrons} and leave an even number of core electrons"
        )
    return n_act_e, n_act_o


def _parse_reference(ref, path: Path) -> tuple[float | None, float | None, str | None]:
    if not isinstance(ref, dict):
        raise MoleculeFileError(f"{path}: field 'reference' must be a table")
    _reject_unknown(ref, {"e_hf", "e_fci", "program", "version", "method"}, path, "reference.")
    e_hf = _field(ref, "e_hf", float, path, "reference.", required=False)
    e_fci = _field(ref, "e_fci", float, path, "reference.", required=False)
    program = _field(ref, "program", str, path, "reference.", required=False)
    version = _field(ref, "version", str, path, "reference.", required=False)
    if program and version:
        program = f"{program} {version}"
    return e_hf, e_fci, program


def _optional_int(data: dict, key: str, default: int, path: Path) -> int:
    value = _field(data, key, int, path, required=False)
    return default if value is None else value


MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 2000


def _check_name(name: str, path: Path) -> str:
    """A molecule name is a label shown to users and stored in results: at most
    :data:`MAX_NAME_LENGTH` printable characters, no path separators (file names built from
    it go through :func:`qvopt.io.safe_component` as well)."""
    if len(name) > MAX_NAME_LENGTH or not name.isprintable() or any(
            c in name for c in "/\\") or name.strip(".") == "":
        shown = name[:40] + ("…" if len(name) > 40 else "")
        raise MoleculeFileError(f"{path}: field 'name' must be at most {MAX_NAME_LENGTH} "
                                f"printable characters without '/' or '\\' (not only dots), "
                                f"got {shown!r} ({len(name)} characters)")
    return name


def read_molecule_file(name_or_path: str | Path) -> MoleculeSpec:
    """Parse and validate a molecule file (or a shipped molecule by name).

    Everything that needs no quantum chemistry is checked here, before PySCF runs: field
    types, element symbols, electron count vs. charge and multiplicity, and that no two
    atoms are closer than :data:`MIN_DISTANCE_ANGSTROM`.
    """
    path = resolve_molecule_path(name_or_path)
    if looks_like_fcidump(path):
        return _fcidump_spec(path, {}, path)
    data = _load_toml(path)
    if "fcidump" in data:
        return _fcidump_spec(path, data, _fcidump_path(data, path))
    allowed = {"name", "description", "basis", "charge", "multiplicity", "geometry",
               "active_space", "reference"}
    _reject_unknown(data, allowed, path)

    name = _check_name(_field(data, "name", str, path, required=False) or path.stem, path)
    basis = _field(data, "basis", str, path)
    if not basis.strip() or len(basis) > MAX_NAME_LENGTH:
        raise MoleculeFileError(f"{path}: field 'basis' must name a basis set (e.g. "
                                f"\"sto-3g\"), got {basis[:40]!r}")
    charge = _optional_int(data, "charge", 0, path)
    multiplicity = _optional_int(data, "multiplicity", 1, path)
    symbols, coords, units = _parse_geometry(_field(data, "geometry", dict, path), path)
    n_electrons = _electron_count(symbols, charge, path)
    _check_multiplicity(multiplicity, n_electrons, path)
    _check_distances(symbols, coords, units, path)
    n_act_e, n_act_o = _parse_active_space(data.get("active_space"), n_electrons, path)
    e_hf, e_fci, program = _parse_reference(data.get("reference") or {}, path)

    return MoleculeSpec(
        name=name, symbols=tuple(symbols), coordinates=tuple(coords),
        units=units, basis=basis, charge=charge, multiplicity=multiplicity,
        active_electrons=n_act_e, active_orbitals=n_act_o, e_hf=e_hf, e_fci=e_fci,
        reference_program=program, source=path,
        description=_check_description(
            _field(data, "description", str, path, required=False) or "", path),
    )


def _fcidump_path(data: dict, path: Path) -> Path:
    """The FCIDUMP a molecule file names (relative to the molecule file)."""
    target = Path(_field(data, "fcidump", str, path))
    target = target if target.is_absolute() else path.parent / target
    if not target.is_file():
        raise MoleculeFileError(f"{path}: field 'fcidump' = {str(target)!r}: no such file")
    return target


def _fcidump_spec(path: Path, data: dict, fcidump: Path) -> MoleculeSpec:
    """A :class:`MoleculeSpec` whose integrals come from ``fcidump`` (``data``: the molecule
    file naming it, or empty for an FCIDUMP given directly)."""
    _reject_unknown(data, {"name", "description", "fcidump", "active_space", "reference"},
                    path)
    header = read_header(fcidump)[0]
    stem = fcidump.stem if fcidump.suffix else fcidump.name
    default_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:64]
    name = _check_name(_field(data, "name", str, path, required=False) or default_name, path)
    n_act_e, n_act_o = _parse_active_space(data.get("active_space"), header.n_electrons, path)
    e_hf, e_fci, program = _parse_reference(data.get("reference") or {}, path)
    return MoleculeSpec(
        name=name, symbols=(), coordinates=(), units="bohr", basis="", charge=0,
        multiplicity=header.ms2 + 1, active_electrons=n_act_e, active_orbitals=n_act_o,
        e_hf=e_hf, e_fci=e_fci, reference_program=program, source=path,
        description=_check_description(
            _field(data, "description", str, path, required=False) or "", path),
        fcidump=fcidump)


def content_digest(spec: MoleculeSpec) -> str:
    """SHA-256 of what defines the problem: the molecule file's bytes, followed (after a
    NUL byte) by those of the FCIDUMP it names, if it names one."""
    import hashlib

    digest = hashlib.sha256(spec.source.read_bytes())
    if spec.fcidump is not None and spec.fcidump != spec.source:
        digest.update(b"\0")
        digest.update(spec.fcidump.read_bytes())
    return digest.hexdigest()


def _check_description(text: str, path: Path) -> str:
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise MoleculeFileError(f"{path}: field 'description' must be at most "
                                f"{MAX_DESCRIPTION_LENGTH} characters, got {len(text)}")
    return text
