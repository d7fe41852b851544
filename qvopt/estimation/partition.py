"""One entry point for every grouping of a Hamiltonian's terms into measurement groups.

=======================  =====================================================  =========
``grouping``             groups                                                  module
=======================  =====================================================  =========
``"sorted_insertion"``   qubit-wise commuting, sorted insertion (default)       :mod:`.grouping`
``"dsatur"``             qubit-wise commuting, DSATUR colouring (fewest QWC)    :mod:`.grouping`
``"fc"``                 fully commuting, sorted insertion, one Clifford each   :mod:`.commuting`
``"fc_split"``           the FC groups extended by every term that commutes     :mod:`.splitting`
                         with them, coefficients split to minimize Σ_g σ_g in
                         a classical proxy state (same number of groups)
=======================  =====================================================  =========
"""

from __future__ import annotations

from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .commuting import group_fully_commuting
from .grouping import GROUPING_METHODS, GroupedHamiltonian, group_qubitwise_commuting
from .splitting import group_split

FC_GROUPINGS = ("fc", "fc_split")
GROUPINGS = (*GROUPING_METHODS, *FC_GROUPINGS)
"""Every value the ``grouping`` argument accepts."""


def form_groups(hamiltonian: SparsePauliOp, grouping: str = "sorted_insertion"
                ) -> GroupedHamiltonian:
    """The measurement groups of ``hamiltonian`` for ``grouping`` (see the module table)."""
    if grouping not in GROUPINGS:
        raise InputError(f"grouping must be one of {list(GROUPINGS)}, got {grouping!r}")
    if grouping == "fc":
        return group_fully_commuting(hamiltonian)
    if grouping == "fc_split":
        return group_split(hamiltonian)
    return group_qubitwise_commuting(hamiltonian, method=grouping)
