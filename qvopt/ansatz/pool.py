"""Operator pools for adaptive ansätze (ADAPT-VQE): Givens excitations to pick from.

A pool is a list of :class:`Excitation`; each one is a Givens gate of
:mod:`qvopt.ansatz.gates`, ``G(θ) = exp(θ/2 · A)`` with ``A = |to⟩⟨from| − |from⟩⟨to|``,
applied to fixed qubits. These gates carry no Jordan–Wigner parity strings: they are the
*qubit* excitations of Yordanov et al. (Phys. Rev. A 102, 062612 (2020)), the same gates as
PennyLane's ``SingleExcitation``/``DoubleExcitation`` and this package's UCCSD.

* ``"singles_doubles"``: the spin-conserving (Δ S_z = 0) excitations from Hartree–Fock
  occupied to virtual spin orbitals, doubles first then singles (the order of
  :func:`qvopt.ansatz.uccsd.uccsd` and of PennyLane's ``qchem.excitations``);
* ``"doubles"`` / ``"singles"``: one half of it;
* ``"qubit_excitations"``: the generalized pool: every spin-conserving single ``[p, q]``
  (``p < q``, same spin) and double ``[p, q, r, s]`` (``{p, q}`` and ``{r, s}`` disjoint,
  equal total S_z), whatever the Hartree–Fock occupation; singles first, then doubles,
  in lexicographic order;
* a list of wire lists (length 2: a single, length 4: a double), taken as given.

Spin orbital ``q`` has spin α for even ``q`` and β for odd ``q`` (see :class:`~qvopt.chem.Problem`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from qiskit.circuit import Gate, ParameterExpression

from ..chem.problem import Problem
from ..errors import InputError
from .gates import GivensDouble, GivensSingle

POOLS = ("singles_doubles", "doubles", "singles", "qubit_excitations")


@dataclass(frozen=True)
class Excitation:
    """One Givens excitation on ``wires`` (2 qubits: single; 4 qubits: double)."""

    wires: tuple[int, ...]

    @property
    def kind(self) -> str:
        return "single" if len(self.wires) == 2 else "double"

    @property
    def label(self) -> str:
        """``"S(0,2)"`` or ``"D(0,1,2,3)"``."""
        return f"{'S' if self.kind == 'single' else 'D'}({','.join(map(str, self.wires))})"

    def gate(self, theta: float | ParameterExpression) -> Gate:
        """The Givens gate of this excitation with angle ``theta``."""
        return GivensSingle(theta) if self.kind == "single" else GivensDouble(theta)


def build_pool(problem: Problem, pool: str | Sequence[Sequence[int]] = "singles_doubles"
               ) -> list[Excitation]:
    """The pool ``pool`` (a name of :data:`POOLS`, or a list of wire lists) for ``problem``.

    :class:`~qvopt.errors.InputError` naming the bad value for an unknown name, wires out of
    range, repeated wires, a length other than 2 or 4, or an empty pool.
    """
    if isinstance(pool, str):
        excitations = _named_pool(problem, pool)
    else:
        excitations = [_checked_excitation(problem, wires) for wires in _wire_lists(pool)]
    if not excitations:
        raise InputError(f"pool {pool!r} is empty for problem {problem.name!r}")
    return excitations


def _named_pool(problem: Problem, name: str) -> list[Excitation]:
    if name not in POOLS:
        raise InputError(f"unknown pool {name!r}: expected one of {list(POOLS)} or a list of "
                         "wire lists")
    if name == "qubit_excitations":
        return generalized_excitations(problem.n_qubits)
    from .uccsd import excitation_lists

    singles, doubles = excitation_lists(problem)
    chosen = {"singles_doubles": doubles + singles, "doubles": doubles, "singles": singles}
    return [Excitation(tuple(w)) for w in chosen[name]]


def generalized_excitations(n_qubits: int) -> list[Excitation]:
    """All spin-conserving singles and doubles on ``n_qubits`` spin orbitals (see module)."""
    spin = [q % 2 for q in range(n_qubits)]
    singles = [Excitation((p, q)) for p, q in combinations(range(n_qubits), 2)
               if spin[p] == spin[q]]
    pairs = list(combinations(range(n_qubits), 2))
    doubles = [Excitation(a + b) for a, b in combinations(pairs, 2)
               if not set(a) & set(b) and spin[a[0]] + spin[a[1]] == spin[b[0]] + spin[b[1]]]
    return singles + doubles


def _wire_lists(pool) -> list:
    try:
        return [list(w) for w in pool]
    except TypeError:
        raise InputError(f"pool must be a name {list(POOLS)} or a list of wire lists, got "
                         f"{pool!r}") from None


def _checked_excitation(problem: Problem, wires: list) -> Excitation:
    if len(wires) not in (2, 4) or not all(
            isinstance(w, numbers.Integral) and not isinstance(w, bool) for w in wires):
        raise InputError(f"pool entry {wires!r} must be 2 (single) or 4 (double) qubit "
                         "indices")
    if len(set(wires)) != len(wires) or not all(0 <= w < problem.n_qubits for w in wires):
        raise InputError(f"pool entry {wires!r} needs distinct qubits in 0..{problem.n_qubits - 1}")
    return Excitation(tuple(int(w) for w in wires))


#: The options of ``ansatz="adapt"`` (``RunConfig.ansatz_options``), checked here so the
#: run description never imports :mod:`qvopt.adapt`, which reads them.
ANSATZ_OPTIONS = ("pool", "max_operators", "gradient_threshold", "maxiter_per_step",
                  "selection", "lcb_z", "drain_pool", "screening_shots",
                  "screening_refinements", "growth_tol")
