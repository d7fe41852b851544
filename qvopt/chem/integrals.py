"""Electronic-structure input from PySCF: active-space integrals, HF and FCI energies.

The spatial-orbital Hamiltonian in the active space is

    H = E_core + Σ_pq h_pq Σ_σ a†_pσ a_qσ
        + ½ Σ_pqrs (pq|rs) Σ_στ a†_pσ a†_rτ a_sτ a_qσ,

with ``(pq|rs)`` in chemists' notation and ``E_core`` the nuclear repulsion plus the
energy of the frozen (doubly occupied) core, whose mean field is folded into ``h``.
The frozen core is the lowest ``(n_electrons - active_electrons) / 2`` RHF orbitals;
the active orbitals follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from .molecule import MoleculeFileError, MoleculeSpec


@dataclass(frozen=True)
class ActiveSpaceIntegrals:
    """Integrals of the active space in the RHF molecular-orbital basis."""

    core_energy: float
    one_body: np.ndarray  # (n, n) h_pq
    two_body: np.ndarray  # (n, n, n, n) (pq|rs), chemists' notation
    n_electrons: int  # active electrons
    n_alpha: int
    n_beta: int
    e_hf: float


def _build_scf(spec: MoleculeSpec):
    from pyscf import gto, scf
    from pyscf.lib.exceptions import BasisNotFoundError

    mol = gto.Mole()
    mol.atom = [(s, c) for s, c in zip(spec.symbols, spec.coordinates, strict=True)]
    mol.unit = "Angstrom" if spec.units == "angstrom" else "Bohr"
    mol.basis = spec.basis
    mol.charge = spec.charge
    mol.spin = spec.multiplicity - 1
    mol.verbose = 0
    try:
        mol.build()
    except BasisNotFoundError as exc:
        raise MoleculeFileError(f"{spec.source}: field 'basis' = {spec.basis!r}: PySCF has no "
                                f"such basis for these elements ({exc})") from exc
    except (RuntimeError, KeyError, ValueError) as exc:
        raise MoleculeFileError(f"{spec.source}: PySCF cannot build this molecule ({exc})") from exc
    _check_size(spec, mol.nao_nr())
    if mol.nelectron > 2 * mol.nao_nr():
        raise MoleculeFileError(
            f"{spec.source}: {mol.nelectron} electrons (charge {spec.charge}) do not fit in "
            f"the {mol.nao_nr()} orbitals of basis {spec.basis!r}")
    if mol.spin != 0:
        raise MoleculeFileError(
            f"{spec.source}: field 'multiplicity' = {spec.multiplicity}: only closed-shell "
            "singlets (multiplicity = 1) are supported"
        )
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-12
    try:
        mf.kernel()
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        raise MoleculeFileError(f"{spec.source}: RHF failed for this molecule ({exc})"
                                ) from exc
    if not mf.converged:
        raise MoleculeFileError(f"{spec.source}: RHF did not converge for this geometry "
                                "(check the coordinates, charge and multiplicity)")
    return mol, mf


#: The largest problem qvopt builds unless told otherwise (``QVOPT_MAX_QUBITS``): a 20-qubit
#: Hamiltonian has ~10⁴ Pauli terms and its states 10⁶ amplitudes; beyond it the Hamiltonian
#: alone takes minutes and gigabytes.
DEFAULT_MAX_QUBITS = 20


def max_qubits() -> int:
    """The qubit limit: ``$QVOPT_MAX_QUBITS`` when set (a positive integer), else 20."""
    import os

    text = os.environ.get("QVOPT_MAX_QUBITS")
    if text is None:
        return DEFAULT_MAX_QUBITS
    if not text.strip().isdigit() or int(text) < 1:
        raise MoleculeFileError(f"QVOPT_MAX_QUBITS must be a positive integer, got {text!r}")
    return int(text)


def _check_size(spec: MoleculeSpec, n_basis: int) -> None:
    """Refuse, before any SCF or integral, a problem of more qubits than :func:`max_qubits`
    (2 per active spatial orbital)."""
    orbitals = spec.active_orbitals if spec.active_orbitals is not None else n_basis
    check_qubit_count(spec, 2 * orbitals, n_basis)


def check_qubit_count(spec: MoleculeSpec, n_qubits: int, n_basis: int | None = None) -> None:
    """:class:`MoleculeFileError` when ``n_qubits`` exceeds :func:`max_qubits` (also for a
    Hamiltonian read from the cache, so the limit means the same either way)."""
    orbitals = n_qubits // 2
    limit = max_qubits()
    n_basis = orbitals if n_basis is None else n_basis
    if n_qubits > limit:
        where = f"basis {spec.basis!r}" if spec.fcidump is None else "the FCIDUMP"
        raise MoleculeFileError(
            f"{spec.source}: {orbitals} active orbitals in {where} "
            f"({n_basis} basis functions) make {n_qubits} qubits, above the limit of "
            f"{limit}: choose an [active_space] (e.g. orbitals = {limit // 2}) or set "
            "QVOPT_MAX_QUBITS to raise the limit")


def active_space_integrals(spec: MoleculeSpec) -> ActiveSpaceIntegrals:
    """Run RHF with PySCF and return the active-space integrals (read from the FCIDUMP
    file instead when the spec names one: :func:`fcidump_active_space`)."""
    if spec.fcidump is not None:
        return fcidump_active_space(spec)
    from pyscf import mcscf

    mol, mf = _build_scf(spec)
    n_orb = mf.mo_coeff.shape[1]
    n_elec = mol.nelectron
    n_act_e = spec.active_electrons if spec.active_electrons is not None else n_elec
    n_act_o = spec.active_orbitals if spec.active_orbitals is not None else n_orb
    n_core_e = n_elec - n_act_e
    if n_core_e < 0 or n_core_e % 2:
        raise MoleculeFileError(
            f"{spec.source}: field 'active_space.electrons' = {n_act_e} must be at most "
            f"{n_elec} and leave an even number of core electrons"
        )
    n_core = n_core_e // 2
    if n_core + n_act_o > n_orb or 2 * n_act_o < n_act_e:
        raise MoleculeFileError(
            f"{spec.source}: field 'active_space.orbitals' = {n_act_o} does not fit: "
            f"{n_orb} orbitals in total, {n_core} frozen, {n_act_e} active electrons"
        )
    cas = mcscf.CASCI(mf, n_act_o, n_act_e)
    h1, e_core = cas.get_h1eff()
    h2 = cas.get_h2eff()
    from pyscf import ao2mo

    eri = ao2mo.restore(1, h2, n_act_o)
    return ActiveSpaceIntegrals(
        core_energy=float(e_core), one_body=np.asarray(h1), two_body=np.asarray(eri),
        n_electrons=n_act_e, n_alpha=n_act_e // 2, n_beta=n_act_e // 2, e_hf=float(mf.e_tot),
    )


#: The most orbitals an FCIDUMP with an active space may hold (its dense (pq|rs) tensor
#: takes 8 n⁴ bytes: 0.8 GB at 100).
MAX_FCIDUMP_ORBITALS = 100


def fcidump_active_space(spec: MoleculeSpec) -> ActiveSpaceIntegrals:
    """The active space of an FCIDUMP file: its lowest ``(N − N_active)/2`` orbitals frozen
    (:func:`~qvopt.chem.fcidump.frozen_core`), the next ``active_space.orbitals`` active.
    ``e_hf`` is the energy of the determinant filling the lowest ``N/2`` orbitals of the
    file (its RHF energy when the file holds canonical RHF orbitals in energy order)."""
    from .fcidump import determinant_energy, frozen_core, read_fcidump

    assert spec.fcidump is not None
    whole = read_fcidump(spec.fcidump, max_orbitals=max(1, max_qubits() // 2)
                         if spec.active_orbitals is None else MAX_FCIDUMP_ORBITALS)
    n, n_elec = whole.header.n_orbitals, whole.header.n_electrons
    n_act_e = spec.active_electrons if spec.active_electrons is not None else n_elec
    n_act_o = spec.active_orbitals if spec.active_orbitals is not None else n
    n_core = (n_elec - n_act_e) // 2
    if n_core + n_act_o > n or 2 * n_act_o < n_act_e:
        raise MoleculeFileError(
            f"{spec.source}: field 'active_space.orbitals' = {n_act_o} does not fit: "
            f"{n} orbitals in the FCIDUMP, {n_core} frozen, {n_act_e} active electrons")
    check_qubit_count(spec, 2 * n_act_o, n)
    e_hf = determinant_energy(whole.core_energy, whole.one_body, whole.two_body, n_elec // 2)
    core_energy, h1, eri = frozen_core(whole, n_core, n_act_o)
    return ActiveSpaceIntegrals(core_energy=core_energy, one_body=h1, two_body=eri,
                                n_electrons=n_act_e, n_alpha=n_act_e // 2,
                                n_beta=n_act_e // 2, e_hf=e_hf)


FCI_MAX_DETERMINANTS = 1_000_000  # PySCF's direct FCI takes seconds up to about this size


def fci_determinants(n_orbitals: int, n_alpha: int, n_beta: int) -> int:
    """Size of the FCI space: ``C(n, N_α) · C(n, N_β)`` determinants."""
    return comb(n_orbitals, n_alpha) * comb(n_orbitals, n_beta)


def fci_is_cheap(n_orbitals: int, n_alpha: int, n_beta: int, limit: int | None = None
                 ) -> bool:
    """Whether FCI of this active space is quick: at most ``limit`` determinants
    (default :data:`FCI_MAX_DETERMINANTS`, read when called)."""
    limit = FCI_MAX_DETERMINANTS if limit is None else limit
    return fci_determinants(n_orbitals, n_alpha, n_beta) <= limit


def fci_energy(integrals: ActiveSpaceIntegrals) -> float:
    """FCI (CASCI) energy in the active space, in the (N_α, N_β) sector of the HF state."""
    from pyscf import fci

    n = integrals.one_body.shape[0]
    solver = fci.direct_spin1.FCI()
    solver.conv_tol = 1e-12
    e, _ = solver.kernel(integrals.one_body, integrals.two_body, n,
                         (integrals.n_alpha, integrals.n_beta), ecore=integrals.core_energy)
    return float(e)
