"""``load_problem``: a molecule name or file → :class:`Problem` (qubit Hamiltonian + references)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from .hamiltonian import qubit_hamiltonian
from .integrals import active_space_integrals, fci_energy
from .molecule import MoleculeSpec, read_molecule_file


@dataclass(frozen=True)
class Problem:
    """A ground-state problem on qubits.

    Attributes:
        name: the molecule's name.
        hamiltonian: Jordan–Wigner ``SparsePauliOp``; qubit ``2p`` is orbital ``p`` spin α,
            qubit ``2p+1`` orbital ``p`` spin β (qiskit little-endian labels).
        n_qubits: number of qubits (twice the active orbitals).
        n_electrons: active electrons.
        hf_occupation: occupation (0/1) of each qubit in the Hartree–Fock state, qubit 0 first.
        e_hf: Hartree–Fock energy (Ha), equal to ⟨HF|H|HF⟩.
        e_fci: FCI energy (Ha) of the same basis and active space.
        reference_source: where ``e_hf``/``e_fci`` came from (file or a fresh computation).
    """

    name: str
    hamiltonian: SparsePauliOp
    n_qubits: int
    n_electrons: int
    hf_occupation: tuple[int, ...]
    e_hf: float
    e_fci: float
    reference_source: str
    spec: MoleculeSpec = field(repr=False, compare=False)

    @property
    def hf_bitstring(self) -> str:
        """Hartree–Fock basis state as a qiskit bitstring (qubit 0 is the rightmost character)."""
        return "".join(str(b) for b in reversed(self.hf_occupation))

    @property
    def hf_index(self) -> int:
        """Index of the Hartree–Fock basis state in a qiskit statevector."""
        return int(self.hf_bitstring, 2)


def load_problem(name_or_path: str | Path, cache: bool = True) -> Problem:
    """Load a shipped molecule by name (``"h2"``, ``"lih_fc"``, …) or a molecule TOML file.

    Integrals come from PySCF (RHF, optional frozen core / active space), the qubit
    Hamiltonian from the Jordan–Wigner mapping. Reference energies missing from the file
    are computed: ``e_hf`` by RHF, ``e_fci`` by FCI in the HF state's (N_α, N_β) sector.
    With ``cache=True`` the Hamiltonian and computed energies are cached on disk, keyed by
    the file's content (see :mod:`qvopt.chem.cache`).
    """
    from . import cache as disk

    spec = read_molecule_file(name_or_path)
    entry = disk.load_cached(spec.source) if cache else None
    if entry is None:
        integrals = active_space_integrals(spec)
        hamiltonian = qubit_hamiltonian(integrals)
        n_electrons = integrals.n_electrons
        computed_hf = integrals.e_hf
        computed_fci = fci_energy(integrals) if spec.e_fci is None else float("nan")
        if cache:
            disk.store(spec.source, hamiltonian, n_electrons, computed_hf, computed_fci)
    else:
        hamiltonian = entry["hamiltonian"]
        n_electrons = int(entry["n_electrons"])
        computed_hf, computed_fci = float(entry["e_hf"]), float(entry["e_fci"])
    n_qubits = hamiltonian.num_qubits
    occupation = tuple(1 if q < n_electrons else 0 for q in range(n_qubits))

    program = spec.reference_program or "unknown program"
    if spec.e_hf is not None:
        e_hf, hf_source = spec.e_hf, f"e_hf from file ({program})"
    else:
        e_hf, hf_source = computed_hf, "e_hf computed (PySCF RHF)"
    if spec.e_fci is not None:
        e_fci, fci_source = spec.e_fci, f"e_fci from file ({program})"
    else:
        e_fci, fci_source = computed_fci, "e_fci computed (PySCF FCI)"
    return Problem(
        name=spec.name, hamiltonian=hamiltonian, n_qubits=n_qubits, n_electrons=n_electrons,
        hf_occupation=occupation, e_hf=float(e_hf), e_fci=float(e_fci),
        reference_source=f"{hf_source}; {fci_source}", spec=spec,
    )


def hf_energy_of(hamiltonian: SparsePauliOp, occupation: tuple[int, ...]) -> float:
    """⟨b|H|b⟩ for the computational basis state with the given per-qubit occupation."""
    z = hamiltonian.paulis.z
    x = hamiltonian.paulis.x
    occ = np.asarray(occupation, dtype=bool)
    diagonal = ~x.any(axis=1)
    signs = np.where((z & occ).sum(axis=1) % 2 == 1, -1.0, 1.0)
    return float(np.sum(hamiltonian.coeffs.real[diagonal] * signs[diagonal]))
