"""One entry point for every grouping of a Hamiltonian's terms into measurement groups.

=======================  =====================================================  =========
``grouping``             groups                                                  module
=======================  =====================================================  =========
``"sorted_insertion"``   qubit-wise commuting, sorted insertion (default)       :mod:`.grouping`
``"dsatur"``             qubit-wise commuting, DSATUR colouring (fewest QWC)    :mod:`.grouping`
``"fc"``                 fully commuting, sorted insertion, one Clifford each   :mod:`.commuting`
=======================  =====================================================  =========
"""

from __future__ import annotations

from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .commuting import group_fully_commuting
from .grouping import GROUPING_METHODS, GroupedHamiltonian, group_qubitwise_commuting

FC_GROUPINGS = ("fc",)
GROUPINGS = (*GROUPING_METHODS, *FC_GROUPINGS)
"""Every value the ``grouping`` argument accepts."""


def form_groups(hamiltonian: SparsePauliOp, grouping: str = "sorted_insertion"
                ) -> GroupedHamiltonian:
    """The measurement groups of ``hamiltonian`` for ``grouping`` (see the module table)."""
    if grouping not in GROUPINGS:
        raise InputError(f"grouping must be one of {list(GROUPINGS)}, got {grouping!r}")
    if grouping in FC_GROUPINGS:
        return group_fully_commuting(hamiltonian)
    return group_qubitwise_commuting(hamiltonian, method=grouping)
