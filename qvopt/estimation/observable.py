"""``SampledObservable``: expectation values of a Pauli-sum observable on given statevectors.

Exact: ``⟨ψ|O|ψ⟩`` from the sparse matrix of ``O``. Sampled: the honest scheme of
:mod:`.sampling` (QWC groups, one multinomial sample of ``shots`` outcomes per group and
state). The Estimator uses it for the Hamiltonian, the metric for generator products.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from .grouping import group_qubitwise_commuting, outcome_classes
from .sampling import rotated_probabilities, sample_class_means


class SampledObservable:
    """Precomputed groups and outcome classes of one observable ``O``."""

    def __init__(self, observable: SparsePauliOp):
        self.observable = observable
        self.n_qubits = observable.num_qubits
        self.grouped = group_qubitwise_commuting(observable)
        self.classes = [outcome_classes(g, self.n_qubits) for g in self.grouped.groups]
        self.bases = [g.basis for g in self.grouped.groups]
        self._matrix = None

    @property
    def n_groups(self) -> int:
        return self.grouped.n_groups

    def exact(self, states: np.ndarray) -> np.ndarray:
        """``⟨ψ_k|O|ψ_k⟩`` for each row of ``states``."""
        if self._matrix is None:
            self._matrix = self.observable.to_matrix(sparse=True).tocsr()
        return np.einsum("pi,pi->p", states.conj(), (self._matrix @ states.T).T).real

    def sample(self, states: np.ndarray, shots: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
        """Sampled means and their variances for each row of ``states`` (see module doc).

        Costs ``len(states) × n_groups`` circuit executions of ``shots`` shots.
        """
        means = np.full(len(states), self.grouped.constant)
        variances = np.zeros(len(states))
        # Class probabilities of every group first, then draws in group order, so the random
        # stream does not depend on the order in which the rotation trie visits groups.
        class_probs = [None] * self.n_groups
        for k, probs in rotated_probabilities(states, self.bases):
            class_probs[k] = self.classes[k].probabilities(probs)
        for k, classes in enumerate(self.classes):
            mean, var = sample_class_means(class_probs[k], classes.values, shots, rng)
            means += mean
            variances += var
        return means, variances
