"""MP2 starting point for the UCCSD (Givens) ansatz.

PySCF's RMP2 on the Problem's active space (the frozen core *and* the virtual orbitals above
the active space are frozen, so the amplitudes live on exactly the Problem's orbitals) gives
the spatial amplitudes ``t2[i, j, a, b] = (ia|jb) / (ε_i + ε_j − ε_a − ε_b)``. For the
spin-orbital double excitation ``I, J → A, B`` (qubit ``2p`` = orbital ``p`` α, ``2p+1`` β;
``σ`` the spin of a qubit) the antisymmetrized amplitude is

    t_{IJ}^{AB} = δ_{σI σA} δ_{σJ σB} t2[i, j, a, b] − δ_{σI σB} δ_{σJ σA} t2[i, j, b, a]

and the first-order wavefunction is ``|HF⟩ + Σ_{I<J, A<B} t_{IJ}^{AB} a†_A a†_B a_J a_I |HF⟩``.
Under Jordan–Wigner, ``a†_A a†_B a_J a_I |HF⟩ = s · |to⟩`` with ``|to⟩`` the qubit basis
state with ``I, J`` empty and ``A, B`` filled and ``s = ±1`` the JW parity sign. The Givens
double on ``[I, J, A, B]`` makes ``cos(θ/2)|HF⟩ + sin(θ/2)|to⟩``, so to first order

    θ_d = 2 s t_{IJ}^{AB},       θ_singles = 0

(Brillouin: the MP1 singles vanish for canonical RHF orbitals). Checked against exact
energies in ``tests/test_mp2.py``: the MP2 point is below HF for lih_fc, lih, beh2, h4.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

from ..errors import InputError
from .problem import Problem


def mp2_t2(problem: Problem) -> np.ndarray:
    """Spatial RMP2 amplitudes ``t2[i, j, a, b]`` on the Problem's active space (PySCF),
    occupied ``i, j`` and virtual ``a, b`` counted from the first active orbital/virtual."""
    from pyscf import mp

    from .integrals import _build_scf

    spec = problem.spec
    mol, mf = _build_scf(spec)
    n_orb = mf.mo_coeff.shape[1]
    n_act_e = spec.active_electrons if spec.active_electrons is not None else mol.nelectron
    n_act_o = spec.active_orbitals if spec.active_orbitals is not None else n_orb
    n_core = (mol.nelectron - n_act_e) // 2
    frozen = list(range(n_core)) + list(range(n_core + n_act_o, n_orb))
    solver = mp.MP2(mf, frozen=frozen or None)
    solver.verbose = 0
    solver.kernel()
    return np.asarray(solver.t2)


def jordan_wigner_sign(occupation: np.ndarray, annihilate: list[int],
                       create: list[int]) -> int:
    """Sign ``s`` of ``a†_{c_1} a†_{c_2} … a_{n_2} a_{n_1} |occupation⟩ = s |result⟩``
    (annihilators applied first, in the order given, then creators, last one first)."""
    occ = np.array(occupation, dtype=int)
    sign = 1
    for q in annihilate:
        if not occ[q]:
            raise ValueError(f"qubit {q} is empty: cannot annihilate")
        sign *= (-1) ** int(occ[:q].sum())
        occ[q] = 0
    for q in reversed(create):
        if occ[q]:
            raise ValueError(f"qubit {q} is occupied: cannot create")
        sign *= (-1) ** int(occ[:q].sum())
        occ[q] = 1
    return sign


def mp2_initial_point(problem: Problem, circuit: QuantumCircuit) -> np.ndarray:
    """UCCSD parameters from MP2: doubles ``θ_d = 2 s t_{IJ}^{AB}``, singles 0 (see module).

    ``circuit`` must be qvopt's ``uccsd`` ansatz of ``problem`` (its ``metadata`` lists the
    excitations, doubles first as in ``circuit.parameters``).
    """
    metadata = circuit.metadata or {}
    if metadata.get("ansatz") != "uccsd":
        raise InputError("initial_point='mp2' needs the 'uccsd' ansatz (its parameters are "
                         f"excitation angles), got circuit {circuit.name!r}")
    doubles, singles = metadata["doubles"], metadata["singles"]
    t2 = mp2_t2(problem)
    n_occ = problem.n_electrons // 2
    occupation = np.asarray(problem.hf_occupation, dtype=int)
    theta = np.zeros(len(doubles) + len(singles))
    for k, (qi, qj, qa, qb) in enumerate(doubles):
        i, j = qi // 2, qj // 2
        a, b = qa // 2 - n_occ, qb // 2 - n_occ
        si, sj, sa, sb = qi % 2, qj % 2, qa % 2, qb % 2
        amplitude = 0.0
        if si == sa and sj == sb:
            amplitude += t2[i, j, a, b]
        if si == sb and sj == sa:
            amplitude -= t2[i, j, b, a]
        sign = jordan_wigner_sign(occupation, [qi, qj], [qa, qb])
        theta[k] = 2.0 * sign * amplitude
    return theta
