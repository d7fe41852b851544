"""Qubit Hamiltonians built elsewhere → a :class:`~qvopt.chem.problem.Problem`.

``problem_from_operator(op, n_electrons=…)`` takes

* a qiskit ``SparsePauliOp`` (qubit ``k`` = the ``k``-th label character from the right);
* a PennyLane operator (``qml.Hamiltonian``, a sum of Pauli products, a ``PauliSentence``;
  wire ``k`` → qubit ``k``, wires must be integers), converted with
  ``qml.pauli.pauli_sentence``;
* an OpenFermion ``QubitOperator`` (qubit index ``k`` → qubit ``k``), or a
  ``FermionOperator``/``InteractionOperator`` mapped by ``openfermion.jordan_wigner``
  (OpenFermion is an optional extra: ``pip install openfermion``).

The Hamiltonian must be Hermitian (imaginary parts of the combined coefficients at most
1e-10 of the largest). For the ``uccsd``/``adapt`` ansätze and the MP2 start, ``n_electrons``
names the reference: qvopt's convention, spin orbitals interleaved (qubit ``2p`` orbital
``p`` spin α, ``2p+1`` spin β, orbitals in energy order), the Hartree–Fock state filling
qubits ``0 … n_electrons − 1`` (OpenFermion's and PennyLane's qchem order). Without it, the
reference is ``|0…0⟩`` (any circuit of your own starts there).

Reference energies are computed by exact diagonalisation up to
:data:`EXACT_REFERENCE_MAX_QUBITS` qubits: ``e_fci`` in the (N/2, N/2) sector with
``n_electrons``, else over the whole qubit space (said so in ``reference_source``). Given
``e_hf``/``e_fci`` are checked against them, or kept unverified above that size.
A run names such a problem ``operator:<sha256>`` (:func:`operator_digest`), which is what
its checkpoints hold instead of a molecule file's digest.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .hamiltonian import hf_energy_of, sector_ground_energy
from .problem import REFERENCE_TOLERANCE_HA, Problem

EXACT_REFERENCE_MAX_QUBITS = 16
HERMITIAN_TOLERANCE = 1e-10


def as_pauli_op(operator: Any, n_qubits: int | None = None) -> SparsePauliOp:
    """``operator`` as a real-coefficient ``SparsePauliOp`` (see the module docstring for
    the accepted kinds and qubit order); ``n_qubits`` pads it to that many qubits."""
    if isinstance(operator, SparsePauliOp):
        op = operator
    elif _from_module(operator, "pennylane"):
        op = _from_pennylane(operator)
    elif _from_module(operator, "openfermion"):
        op = _from_openfermion(operator)
    else:
        raise InputError(
            f"cannot use a {type(operator).__name__} as a Hamiltonian: expected a molecule "
            "name or file, a qvopt Problem, a qiskit SparsePauliOp, a PennyLane operator or "
            "an OpenFermion QubitOperator/FermionOperator/InteractionOperator")
    if n_qubits is not None:
        if n_qubits < op.num_qubits:
            raise InputError(f"n_qubits = {n_qubits} is below the operator's "
                             f"{op.num_qubits} qubits")
        if n_qubits > op.num_qubits:  # identity on the added (higher) qubits
            op = SparsePauliOp("I" * (n_qubits - op.num_qubits)).tensor(op)
    return _real(op.simplify(atol=0.0))


def _from_module(operator: Any, package: str) -> bool:
    return type(operator).__module__.split(".")[0] == package


def _real(op: SparsePauliOp) -> SparsePauliOp:
    coeffs = np.asarray(op.coeffs, dtype=complex)
    scale = max(float(np.max(np.abs(coeffs), initial=0.0)), 1.0)
    if not np.all(np.isfinite(coeffs)):
        raise InputError("the Hamiltonian has NaN or infinite coefficients")
    if np.max(np.abs(coeffs.imag), initial=0.0) > HERMITIAN_TOLERANCE * scale:
        worst = int(np.argmax(np.abs(coeffs.imag)))
        raise InputError(f"the Hamiltonian is not Hermitian: term {op.paulis[worst]} has "
                         f"coefficient {coeffs[worst]:.6g} (expected real coefficients)")
    return SparsePauliOp(op.paulis, coeffs.real)


def _labelled(words: list[tuple[dict[int, str], complex]], what: str) -> SparsePauliOp:
    """Pauli words ``{qubit: 'X'|'Y'|'Z'}`` with coefficients → ``SparsePauliOp``."""
    qubits = [q for word, _ in words for q in word]
    bad = [q for q in qubits if not isinstance(q, (int, np.integer)) or q < 0]
    if bad:
        raise InputError(f"{what} acts on wire {bad[0]!r}: expected non-negative integer "
                         "wires (wire k is qubit k)")
    n = max((int(q) for q in qubits), default=0) + 1
    labels, coeffs = [], []
    for word, coeff in words:
        chars = ["I"] * n
        for qubit, pauli in word.items():
            chars[n - 1 - int(qubit)] = str(pauli)
        labels.append("".join(chars))
        coeffs.append(complex(coeff))
    if not labels:
        return SparsePauliOp("I" * n, 0.0)
    return SparsePauliOp(labels, np.asarray(coeffs))


def _from_pennylane(operator: Any) -> SparsePauliOp:
    import pennylane as qml

    try:
        sentence = operator if isinstance(operator, qml.pauli.PauliSentence) \
            else qml.pauli.pauli_sentence(operator)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InputError(f"PennyLane operator {type(operator).__name__} is not a sum of "
                         f"Pauli products ({exc})") from exc
    words = [({wire: pauli for wire, pauli in word.items()}, coeff)
             for word, coeff in sentence.items()]
    return _labelled(words, "the PennyLane operator")


def _from_openfermion(operator: Any) -> SparsePauliOp:
    import openfermion

    if not isinstance(operator, openfermion.QubitOperator):
        try:
            operator = openfermion.jordan_wigner(operator)
        except TypeError as exc:
            raise InputError(f"OpenFermion {type(operator).__name__} cannot be mapped to "
                             f"qubits ({exc})") from exc
    words = [({int(q): p for q, p in term}, coeff) for term, coeff in operator.terms.items()]
    return _labelled(words, "the OpenFermion operator")


def operator_digest(hamiltonian: SparsePauliOp, n_electrons: int | None) -> str:
    """SHA-256 of the Pauli labels, the float64 coefficients (terms sorted by label) and the
    electron count: the identity of an operator problem in results and checkpoints."""
    labels = np.asarray(hamiltonian.paulis.to_labels())
    order = np.argsort(labels, kind="stable")
    digest = hashlib.sha256(f"qvopt-operator-v1 {n_electrons}\n".encode())
    digest.update("\n".join(labels[order]).encode())
    digest.update(np.ascontiguousarray(np.real(hamiltonian.coeffs)[order],
                                       dtype="<f8").tobytes())
    return digest.hexdigest()


def problem_from_operator(operator: Any, *, n_electrons: int | None = None,
                          name: str = "operator", n_qubits: int | None = None,
                          e_hf: float | None = None, e_fci: float | None = None) -> Problem:
    """A :class:`Problem` for a qubit Hamiltonian built elsewhere (module docstring)."""
    from .integrals import max_qubits
    from .molecule import MAX_NAME_LENGTH

    hamiltonian = as_pauli_op(operator, n_qubits)
    n = hamiltonian.num_qubits
    if n > max_qubits():
        raise InputError(f"the Hamiltonian has {n} qubits, above the limit of {max_qubits()} "
                         "(set QVOPT_MAX_QUBITS to raise it)")
    if n_electrons is not None and (isinstance(n_electrons, bool) or not isinstance(
            n_electrons, (int, np.integer)) or not 0 <= n_electrons <= n or n_electrons % 2):
        raise InputError(f"n_electrons must be an even integer from 0 to the {n} qubits "
                         f"(closed shell), got {n_electrons!r}")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH \
            or not name.isprintable() or "/" in name:
        raise InputError(f"name must be 1–{MAX_NAME_LENGTH} printable characters without "
                         f"'/', got {name!r}")
    electrons = int(n_electrons or 0)
    occupation = tuple(1 if q < electrons else 0 for q in range(n))
    computed_hf = hf_energy_of(hamiltonian, occupation)
    references = _references(hamiltonian, n_electrons, computed_hf, e_hf, e_fci)
    return Problem(name=name, hamiltonian=hamiltonian, n_qubits=n, n_electrons=electrons,
                   hf_occupation=occupation, e_hf=references[0], e_fci=references[1],
                   reference_source=references[2], spec=None,
                   reference_verified=references[3],
                   operator_sha256=operator_digest(hamiltonian, n_electrons))


def _references(hamiltonian: SparsePauliOp, n_electrons: int | None, computed_hf: float,
                e_hf: float | None, e_fci: float | None) -> tuple[float, float, str, bool]:
    """``(e_hf, e_fci, source text, verified)``; given values checked when computable."""
    _check_given("e_hf", e_hf, computed_hf)
    state = "the Hartree–Fock state" if n_electrons else "|0…0⟩"
    hf_text = f"e_hf = ⟨ref|H|ref⟩ of {state}"
    n = hamiltonian.num_qubits
    if n > EXACT_REFERENCE_MAX_QUBITS:
        if e_fci is None:
            return computed_hf, float("nan"), f"{hf_text}; e_fci unknown ({n} qubits, above " \
                f"the {EXACT_REFERENCE_MAX_QUBITS} diagonalised here)", False
        return computed_hf, float(e_fci), f"{hf_text}; e_fci given, UNVERIFIED", False
    if n_electrons is not None:
        exact = sector_ground_energy(hamiltonian, n_electrons // 2, n_electrons // 2)
        where = f"the ({n_electrons // 2}, {n_electrons // 2}) α/β sector"
    else:
        exact = _ground_energy(hamiltonian)
        where = "the whole qubit space (no electron count given)"
    _check_given("e_fci", e_fci, exact)
    return computed_hf, exact, f"{hf_text}; e_fci = lowest eigenvalue in {where}", True


def _ground_energy(hamiltonian: SparsePauliOp) -> float:
    from scipy.sparse.linalg import eigsh

    matrix = hamiltonian.to_matrix(sparse=True)
    if matrix.shape[0] <= 64:
        return float(np.linalg.eigvalsh(matrix.toarray())[0])
    return float(eigsh(matrix, k=1, which="SA", tol=1e-12)[0][0])


def _check_given(name: str, given: float | None, computed: float) -> None:
    if given is not None and not abs(float(given) - computed) <= REFERENCE_TOLERANCE_HA:
        raise InputError(f"{name} = {given!r} Ha does not match the value computed for this "
                         f"Hamiltonian, {computed:.10f} Ha (tolerance "
                         f"{REFERENCE_TOLERANCE_HA:g} Ha): correct it or leave it out")
