"""``qvopt molecules``, ``qvopt optimizers`` and ``qvopt cache``: what is available."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table


def add_info_parsers(sub) -> None:
    """The ``cache``, ``molecules`` and ``optimizers`` sub-commands."""
    cache = sub.add_parser("cache", help="show or clear the Hamiltonian cache")
    cache.add_argument("action", choices=["info", "clear"])
    sub.add_parser("molecules", help="list the shipped molecules")
    sub.add_parser("optimizers", help="list the optimizers")


def cmd_molecules(console: Console) -> int:
    from ..chem import known_molecules, read_molecule_file

    table = Table(title="molecules")
    for col in ("name", "qubits", "basis", "E_HF (Ha)", "E_FCI (Ha)", "description"):
        table.add_column(col)
    for name in known_molecules():
        spec = read_molecule_file(name)
        orbitals = spec.active_orbitals
        qubits = str(2 * orbitals) if orbitals else _qubits_without_active_space(spec)
        table.add_row(name, qubits, spec.basis,
                      f"{spec.e_hf:.6f}" if spec.e_hf is not None else "-",
                      f"{spec.e_fci:.6f}" if spec.e_fci is not None else "-",
                      spec.description)
    console.print(table)
    return 0


def _qubits_without_active_space(spec) -> str:
    from pyscf import gto

    mol = gto.M(atom=list(zip(spec.symbols, spec.coordinates, strict=True)), basis=spec.basis,
                charge=spec.charge, spin=spec.multiplicity - 1, unit=spec.units, verbose=0)
    return str(2 * mol.nao_nr())


def cmd_cache(args, console: Console) -> int:
    from ..chem.cache import cache_dir, clear_cache

    if args.action == "clear":
        console.print(f"removed {clear_cache()} cached Hamiltonian(s) from {cache_dir()}",
                      soft_wrap=True)
        return 0
    entries = list(cache_dir().glob("*.npz")) if cache_dir().is_dir() else []
    size = sum(p.stat().st_size for p in entries)
    console.print(f"{cache_dir()}: {len(entries)} cached Hamiltonian(s), {size / 1e6:.1f} MB",
                  soft_wrap=True)
    return 0


def cmd_optimizers(console: Console) -> int:
    from ..optimizers.registry import VQE_DEFAULTS, describe

    table = Table(title="optimizers")
    table.add_column("name")
    table.add_column("description")
    table.add_column("VQE defaults")
    for name, summary in describe().items():
        table.add_row(name, summary, json.dumps(VQE_DEFAULTS.get(name, {})))
    console.print(table)
    return 0
