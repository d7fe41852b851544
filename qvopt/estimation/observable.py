"""``SampledObservable``: expectation values of a Pauli-sum observable on given statevectors.

Exact: ``⟨ψ|O|ψ⟩`` from the sparse matrix of ``O``. Sampled: the honest scheme of
:mod:`.sampling` (one multinomial sample of ``shots`` outcomes per group and state, over
the group's outcome classes). QWC groups are rotated by the shared rotation trie
(:class:`~.sampling.RotationProgram`), fully commuting groups by their Clifford circuits
(:class:`~.clifford_rotation.CliffordProgram`). The Estimator uses it for the Hamiltonian,
the metric for generator products (QWC).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import overload

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from ..memory import refuse_unless_fits
from .clifford_rotation import CliffordProgram
from .grouping import GroupedHamiltonian, OutcomeClasses, outcome_classes
from .partition import form_groups
from .sampling import RotationProgram, sample_class_means

#: Bytes per outcome that a group's outcome table keeps (int32 class labels).
TABLE_BYTES_PER_OUTCOME = 4
#: Bytes per outcome that building one table (:func:`~.grouping.outcome_classes`) takes at
#: its peak on top of what it keeps (values, rounded keys, ``np.unique``'s sort and inverse):
#: ``tracemalloc`` on H10's first 40 groups (2^20 outcomes) peaked at 69 MB, 66 bytes.
BUILD_BYTES_PER_OUTCOME = 66
#: Outcome tables are kept up to this many bytes in all (group order); the groups beyond it
#: rebuild their table on each use. H8's 959 × 2^16 (0.25 GB) are all kept; H10's 2,363 ×
#: 2^20 would keep 9.9 GB, so 256 of them are kept (1 GB) and the rest rebuilt (0.24 s a
#: group), which the sector engine does once at set-up and once for a two-stage draw.
TABLE_KEEP_BYTES = 2**30


class OutcomeTables(Sequence[OutcomeClasses]):
    """The outcome tables (:func:`~.grouping.outcome_classes`) of ``groups``, built on first
    use and kept for the first groups up to ``keep_bytes`` (:data:`TABLE_KEEP_BYTES`); a
    group beyond that builds its table again on each use (same table: same labels and
    values)."""

    def __init__(self, groups, n_qubits: int, keep_bytes: float = TABLE_KEEP_BYTES):
        self._groups = groups
        self._n_qubits = n_qubits
        self.kept_groups = min(len(groups),
                               int(keep_bytes // (TABLE_BYTES_PER_OUTCOME * 2**n_qubits)))
        self._kept: dict[int, OutcomeClasses] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._groups)

    @overload
    def __getitem__(self, k: int) -> OutcomeClasses: ...

    @overload
    def __getitem__(self, k: slice) -> list[OutcomeClasses]: ...

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        k = range(len(self))[k]  # IndexError, negative indices
        table = self._kept.get(k)
        if table is None:
            table = outcome_classes(self._groups[k], self._n_qubits)
            if k < self.kept_groups:
                with self._lock:
                    table = self._kept.setdefault(k, table)
        return table

    def keep_all(self) -> None:
        """Keep every table from now on (for paths that read them for every point)."""
        self.kept_groups = len(self)

    def kept_bytes(self) -> float:
        """Bytes the kept tables take once all are built."""
        return self.kept_groups * 2.0**self._n_qubits * TABLE_BYTES_PER_OUTCOME


def check_table_memory(grouped: GroupedHamiltonian, keep_bytes: float = TABLE_KEEP_BYTES
                       ) -> None:
    """One-line :class:`~qvopt.errors.InputError` before the outcome tables are built when
    they cannot fit: the kept tables (:data:`TABLE_KEEP_BYTES` at most, 4 bytes an outcome)
    and one table being built (:data:`BUILD_BYTES_PER_OUTCOME`)."""
    n, g = grouped.n_qubits, grouped.n_groups
    kept = int(min(g, keep_bytes // (TABLE_BYTES_PER_OUTCOME * 2**n)))
    refuse_unless_fits(
        kept * 2.0**n * TABLE_BYTES_PER_OUTCOME + 2.0**n * BUILD_BYTES_PER_OUTCOME,
        f"measuring {g} groups on {n} qubits",
        "fewer, larger groups (grouping 'fc'), a smaller active space, or a machine with "
        "more memory",
        how=f" (outcome tables: {kept} kept × 2^{n} outcomes × {TABLE_BYTES_PER_OUTCOME} "
            f"bytes, one built at {BUILD_BYTES_PER_OUTCOME} bytes an outcome)")


class SampledObservable:
    """Precomputed groups and outcome classes of one observable ``O``."""

    def __init__(self, observable: SparsePauliOp, block_amplitudes: int = 2**16,
                 threads: int | None = None, grouping: str = "sorted_insertion",
                 grouped: GroupedHamiltonian | None = None):
        self.observable = observable
        self.n_qubits = observable.num_qubits
        # ``grouped``: this observable's groups when the caller already formed them
        self.grouped = grouped if grouped is not None else form_groups(observable, grouping)
        check_table_memory(self.grouped)
        self.classes = OutcomeTables(self.grouped.groups, self.n_qubits)
        self._matrix = None
        # Points are rotated in blocks of about `block_amplitudes` amplitudes so that the
        # rotation trie works in cache (LiH, 369 points: 9.5 s as one batch, 1.4 s in blocks
        # of 2^16 single-precision amplitudes on 2 threads).
        self.block_points = max(1, block_amplitudes // 2**self.n_qubits)
        self.program = (CliffordProgram(self.grouped.groups, self.n_qubits)
                        if self.grouped.kind == "fc"
                        else RotationProgram([g.basis for g in self.grouped.groups]))
        self.threads = threads if threads is not None else min(4, os.cpu_count() or 1)

    @property
    def n_groups(self) -> int:
        return self.grouped.n_groups

    def exact(self, states: np.ndarray) -> np.ndarray:
        """``⟨ψ_k|O|ψ_k⟩`` for each row of ``states``."""
        if self._matrix is None:
            self._matrix = self.observable.to_matrix(sparse=True).tocsr()
        return np.einsum("pi,pi->p", states.conj(), (self._matrix @ states.T).T).real

    def _keep_all_tables(self) -> None:
        """The ``2^n`` paths below read every table for every block of points: they keep
        them all, refused first (:func:`check_table_memory`) when that cannot fit (H10's
        2,363 groups: 9.9 GB). The sector engine reads each table once and never comes
        here."""
        if self.classes.kept_groups < len(self.classes):
            check_table_memory(self.grouped, keep_bytes=float("inf"))
            self.classes.keep_all()

    def group_variances(self, states: np.ndarray) -> np.ndarray:
        """Exact per-shot variance ``σ_g²`` of each group's value, shape (points, groups)."""
        self._keep_all_tables()
        out = np.empty((len(states), self.n_groups))
        for k, probs in self.program.run(np.asarray(states, dtype=complex)):
            class_probs = self.classes[k].probabilities(probs)
            values = self.classes[k].values
            mean = class_probs @ values
            out[:, k] = np.maximum(class_probs @ values**2 - mean**2, 0.0)
        return out

    def sample(self, states: np.ndarray, shots, rng: np.random.Generator,
               group_variances: bool = False):
        """Sampled means ``c_I + Σ_g m_g`` and their variances ``Σ_g Var(m_g)`` for each row
        of ``states`` (see module doc).

        ``shots``: one count, (groups,) counts or (points, groups) counts. Costs
        ``len(states) × n_groups`` circuit executions. With ``group_variances=True`` also
        returns each group's per-shot sample variance averaged over the points.
        """
        means, variances = self.sample_groups(states, shots, rng)
        total = self.grouped.constant + means.sum(axis=1)
        if group_variances:
            per_group = np.broadcast_to(np.asarray(shots), means.shape)
            return total, variances.sum(axis=1), np.mean(variances * per_group, axis=0)
        return total, variances.sum(axis=1)

    def class_probabilities(self, states: np.ndarray) -> list[np.ndarray]:
        """Outcome-class probabilities of every group, ``[k] -> (points, classes_k)``."""
        self._keep_all_tables()
        n_points = len(states)
        class_probs = [np.empty((n_points, len(c.values))) for c in self.classes]
        # Single precision for the rotations: probabilities accurate to ~1e-7, far below any
        # shot noise, at half the memory traffic. Exact values keep double precision.
        states = states.astype(np.complex64, copy=False)

        def block(start: int) -> None:
            rows = slice(start, min(start + self.block_points, n_points))
            for k, probs in self.program.run(states[rows]):
                class_probs[k][rows] = self.classes[k].probabilities(probs)

        starts = range(0, n_points, self.block_points)
        if self.threads > 1 and len(starts) > 1:
            with ThreadPoolExecutor(max_workers=self.threads) as pool:
                list(pool.map(block, starts))  # blocks write disjoint rows
        else:
            for start in starts:
                block(start)
        return class_probs

    def sample_groups(self, states: np.ndarray, shots, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Per-group sample means ``m_g`` and variances ``Var(m_g)``, each (points, groups).

        ``shots``: one count, (groups,) or (points, groups). Class probabilities of every
        group and point are formed first, then the draws in group order (within a group, in
        point order), so the random stream depends neither on the blocking nor on the trie's
        visit order. The constant ``c_I`` is not included.
        """
        n_points = len(states)
        shots = np.broadcast_to(np.asarray(shots, dtype=np.int64), (n_points, self.n_groups))
        class_probs = self.class_probabilities(states)
        means = np.empty((n_points, self.n_groups))
        variances = np.empty((n_points, self.n_groups))
        for k, classes in enumerate(self.classes):
            column = shots[:, k]
            n = int(column[0]) if np.all(column == column[0]) else column
            means[:, k], variances[:, k] = sample_class_means(class_probs[k], classes.values,
                                                              n, rng)
        return means, variances
