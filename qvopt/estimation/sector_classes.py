"""Outcome-class probabilities of every measurement group, computed from real sector states.

Fully commuting groups (``grouping="fc"``) use :mod:`.sector_stabilizer` (stabilizer
moments in the form of the Pauli moments below, or the embedded Clifford); the rest of this
docstring is about QWC groups.

For a group ``g`` measured in basis ``b`` (rotated qubits ``R``: X or Y; the others Z) the
sampler needs the probabilities of its outcome classes
``p_c = Σ_{x: label(x) = c} |⟨x|U_b ψ⟩|²`` (:class:`~.grouping.OutcomeClasses`) — the same
numbers the ``2^n`` rotation trie of :mod:`.sampling` produces, here from the ``D`` real
sector amplitudes. Two exact methods (the first in two forms); each group takes the
cheapest (estimated operations per point, decided once when the tables are built):

**Block rotation** (groups with few rotated qubits). Split a sector basis state into its
rotated bits ``y_R`` (``k`` of them, compressed in ascending qubit order) and the rest
``z``. The rotated amplitude is a Walsh–Hadamard transform over ``R`` inside each block of
equal ``z``:

    A(z, x_R) = Σ_{y_R} (−1)^{x_R·y_R} (−i)^{|y_R ∧ Y|} ψ(z, y_R)     (times 2^{−k/2}),

with the basis changes of :func:`.sampling._rotate` (X: ``√2 H``; Y: ``√2 H S†``, i.e.
``(a0, a1) → (a0 − i a1, a0 + i a1)``). Only the ``Z_p`` distinct blocks of the sector are
stored, ``Z_p · 2^k`` outcomes instead of ``2^n``; the phase ``(−i)^m`` is real or
imaginary, so real and imaginary parts are two real transforms. The transform factorises
over the rotated bits, ``y_R = (y_H, y_L)``: over the ``k_L`` low bits it is applied to the
sector amplitudes only, as dense products ``(−1)^{x_L·y_L}`` (blocks whose sector states
have the same low bits share one product: few distinct member sets in a particle-number
sector), then as ``k − k_L`` in-place butterfly passes (a fast Walsh–Hadamard transform)
over the high bits of the dense ``2 Z_p 2^k`` work array; ``k_L`` is chosen per group by
an operation count (:func:`rotation_work`; ``k_L = k``, the common case, needs no work
array). The sampler takes one group's classes at a time (:meth:`iter_columns`).

**Pauli moments** (groups whose terms generate few products). A shot's value depends on
``x`` only through the parities ``τ_i = (−1)^{x·a_i}`` of a GF(2) basis ``a_1 … a_r`` of
the terms' supports (:class:`~.grouping.MeasurementGroup` values
``v(x) = Σ_t c_t (−1)^{x·s_t}``). Their joint distribution is the Walsh–Hadamard transform of
the moments ``E_S = ⟨ψ|P_S|ψ⟩``, ``P_S`` the Pauli string on support ``⊕_{i∈S} a_i`` with
the group's letters (``U_b† Z U_b`` is X or Y):

    q(u) = 2^{−r} Σ_S (−1)^{u·S} E_S,      p_c = Σ_{u: label(u) = c} q(u).

For real ψ, ``E_S = 0`` when ``P_S`` has an odd number of Y (an imaginary antisymmetric
matrix) or maps the sector outside itself; otherwise ``E_S = Σ_y ψ(y ⊕ f) s(y) ψ(y)`` over
the sector, ``f`` the X/Y flip mask and ``s(y) = (−1)^{n_Y/2 + |y ∧ (Z ∪ Y letters)|}``
(``Y|0⟩ = i|1⟩``, ``Y|1⟩ = −i|0⟩``). Moments are deduplicated across groups (the
same Pauli string is computed once), products ``ψ_d ψ_e`` of unordered pairs are formed once
(weight 2 off the diagonal), and moments and class probabilities are two sparse products.

States are laid out ``(D, P)`` (points last) so that every gather and sparse product runs
over contiguous rows; points are processed in chunks that keep work arrays small. No dense
BLAS product is used: on a busy 2-core machine multi-threaded OpenBLAS calls on these
shapes were measured 60× slower than single-threaded ones. (The flip-block moment products
below are dense; they run on one OpenBLAS thread, :mod:`.blas_threads`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass, replace

import numpy as np
from scipy.sparse import csr_matrix, issparse

from ..memory import available_memory, refuse_unless_fits
from .blas_threads import single_threaded_blas
from .grouping import MeasurementGroup, OutcomeClasses, gf2_basis
from .moment_tables import PauliMoments
from .observable import SampledObservable
from .sector import find_in_basis
from .sector_stabilizer import (
    MAX_STABILIZER_RANK,
    EmbeddedClifford,
    embedded_clifford,
    stabilizer_moments,
)

MAX_MOMENT_RANK = 10
"""Groups whose term supports span more than 2^10 Pauli products never use moments."""
MAX_MATRIX_ENTRIES = 2**22
"""Largest sparse rotation matrix (entries) built for one group."""
CHUNK_VALUES = 2**18
"""Points are processed in chunks of about this many work-array values, and"""
MIN_CHUNK_POINTS = 8
"""at least this many points per chunk: H8's groups of 16 rotated qubits (2^17 values a
point) ran 2 points at a time, and its block rotations took 40 s over 1440 points against
25 s with 8 points a chunk (same run, load 2.4–2.9); 2^20 values for every group made
LiH's small groups slower (0.13 → 0.18 s a gradient)."""


def _masks(basis_string: str) -> tuple[int, int]:
    """(rotated qubits R, Y qubits) of a measurement basis string (qubit 0 first)."""
    rotated = sum(1 << q for q, ch in enumerate(basis_string) if ch in "XY")
    y_mask = sum(1 << q for q, ch in enumerate(basis_string) if ch == "Y")
    return rotated, y_mask


def _bits(mask: int) -> list[int]:
    return [q for q in range(mask.bit_length()) if (mask >> q) & 1]


def _popcount(values: np.ndarray) -> np.ndarray:
    return np.bitwise_count(np.asarray(values, dtype=np.int64)).astype(np.int64)


def _compress(values: np.ndarray, qubits: list[int]) -> np.ndarray:
    """Bits ``qubits`` of each value, packed as bits 0, 1, … (ascending qubit order)."""
    out = np.zeros(len(values), dtype=np.int64)
    for j, q in enumerate(qubits):
        out |= ((values >> q) & 1) << j
    return out


def _expand(values: np.ndarray, qubits: list[int]) -> np.ndarray:
    """Inverse of :func:`_compress`: bit ``j`` → bit ``qubits[j]``."""
    out = np.zeros(len(values), dtype=np.int64)
    for j, q in enumerate(qubits):
        out |= ((values >> j) & 1) << q
    return out


def span(generators: list[int]) -> np.ndarray:
    """``span[j] = ⊕_{i: bit i of j} generators[i]`` for ``j < 2^r``."""
    out = np.zeros(1, dtype=np.int64)
    for g in generators:
        out = np.concatenate([out, out ^ g])
    return out


def _chunks(n_points: int, values_per_point: int, least: int | None = None
            ) -> list[slice]:
    """Slices of about CHUNK_VALUES values, at least ``least`` (MIN_CHUNK_POINTS) points."""
    least = MIN_CHUNK_POINTS if least is None else least
    step = max(least, CHUNK_VALUES // max(1, values_per_point))
    return [slice(a, min(a + step, n_points)) for a in range(0, n_points, step)]


@dataclass(frozen=True)
class LowStage:
    """The first stage of a block rotation for the keys ``(block, x_H)`` whose sector states
    have the same low rotated bits ``y_L`` and parts (real: even ``m``, imaginary: odd):
    per part, ``A[part, y_H, :, block] = hadamard[part] @ (sign · ψ)[states[part]]``, one
    dense product for all these keys (``hadamard[part][x_L, j] = (−1)^{x_L·y_L(j)}``)."""

    blocks: np.ndarray  # (K,) block of each key
    high: np.ndarray  # (K,) high rotated bits y_H of each key
    states: tuple[np.ndarray, np.ndarray]  # per part: (members, K) sector rows
    hadamard: tuple[np.ndarray, np.ndarray]  # per part: (2^k_L, members) of ±1
    indicator: csr_matrix | None  # k_L = k: (possible classes, 2^k · K), column x·K + key


@dataclass(frozen=True)
class BlockRotation:
    """Precomputed block rotation of one group (see the module docstring).

    Outcome ``(x_R, block)`` is row ``x_R · Z_p + block`` of the rotated amplitudes and
    column of ``indicator``, whose rows are the ``possible`` classes; real parts come first,
    then imaginary parts (``2 Z_p 2^k`` rows). The transform over the rotated bits
    ``x_R = (x_H, x_L)`` runs in two stages: over the ``k_L = low`` low bits, dense
    products (:class:`LowStage`, which only touch the ``D`` sector amplitudes), then
    butterfly passes over the ``k − k_L`` high bits of the (now dense) work array.
    ``k_L`` minimises :func:`rotation_work`; ``k_L = k`` is a purely dense product,
    ``k_L = 0`` a scatter followed by a fast Walsh–Hadamard transform.
    """

    group: int
    k: int
    n_blocks: int
    possible: np.ndarray  # (C,) bool: classes some outcome of the sector falls into
    indicator: csr_matrix  # (possible classes, 2^k · Z_p): outcome → class
    low: int
    stages: list[LowStage]
    sign: np.ndarray  # (D, 1)
    cost: int  # operations per point (the estimate that chooses rotation or moments)

    @property
    def n_outcomes(self) -> int:
        return self.n_blocks * 2**self.k

    @property
    def values_per_point(self) -> int:
        """Work-array values per point: both parts of every outcome, or (``k_L = k``) of
        the largest stage's products."""
        if self.low < self.k:
            return 2 * self.n_outcomes
        return max(2 * 2**self.k * stage.blocks.size for stage in self.stages)

    def probabilities(self, columns: np.ndarray) -> np.ndarray:
        """Probabilities ``(possible classes, P)`` of sector states ``columns`` (D, P).

        Chunks of points share two work buffers (amplitudes and the butterflies' sums),
        allocated once: a fresh multi-megabyte array per chunk and pass costs page faults
        (system time) as much as the arithmetic."""
        n_points = columns.shape[1]
        out = np.empty((self.indicator.shape[0], n_points))
        chunks = _chunks(n_points, self.values_per_point)
        widest = max(rows.stop - rows.start for rows in chunks)
        work = _Workspace(2 * self.n_outcomes, widest)
        for rows in chunks:
            out[:, rows] = self._probabilities(columns[:, rows], work)
        return out

    def _probabilities(self, columns: np.ndarray, work: _Workspace) -> np.ndarray:
        n_points = columns.shape[1]
        signed = columns * self.sign
        if self.low == self.k:
            return self._dense_probabilities(signed)
        amplitudes = work.amplitudes(n_points)
        stacked = amplitudes.reshape(2, 2**(self.k - self.low), 2**self.low,
                                     self.n_blocks, n_points)
        for stage in self.stages:
            for part in (0, 1):
                rows = stage.states[part]
                if not rows.size:
                    continue
                keys = rows.shape[1]
                product = stage.hadamard[part] @ signed[rows].reshape(rows.shape[0], -1)
                stacked[part, stage.high, :, stage.blocks] = product.reshape(
                    2**self.low, keys, n_points).transpose(1, 0, 2)
        if self.low < self.k:
            _butterflies(amplitudes.reshape(2, 2**self.k, -1), self.k,
                         work.scratch(n_points), start=self.low)
        probs = np.square(amplitudes[:self.n_outcomes], out=amplitudes[:self.n_outcomes])
        imaginary = amplitudes[self.n_outcomes:]
        probs += np.square(imaginary, out=imaginary)
        probs *= 0.5**self.k
        return self.indicator @ probs

    def _dense_probabilities(self, signed: np.ndarray) -> np.ndarray:
        """``k_L = k``: every stage's product is final; its squares go straight to its
        classes (``LowStage.indicator``), no work array over all outcomes."""
        n_points = signed.shape[1]
        out = np.zeros((self.indicator.shape[0], n_points))
        for stage in self.stages:
            parts = [stage.hadamard[part] @ signed[rows].reshape(rows.shape[0], -1)
                     for part, rows in enumerate(stage.states) if rows.size]
            probs = np.square(parts[0], out=parts[0])
            if len(parts) > 1:
                probs += np.square(parts[1], out=parts[1])
            probs *= 0.5**self.k
            out += stage.indicator @ probs.reshape(-1, n_points)
        return out


class _Workspace:
    """Reused buffers of one :meth:`BlockRotation.probabilities` call: ``rows × points``
    amplitudes (zeroed on each use) and half as many scratch values."""

    def __init__(self, rows: int, points: int):
        self.rows = rows
        self._amplitudes = np.empty(rows * points)
        self._scratch = np.empty(rows * points // 2)

    def amplitudes(self, points: int) -> np.ndarray:
        view = self._amplitudes[:self.rows * points].reshape(self.rows, points)
        view.fill(0.0)
        return view

    def scratch(self, points: int) -> np.ndarray:
        return self._scratch[:self.rows * points // 2]


def _butterflies(parts: np.ndarray, k: int, scratch: np.ndarray | None = None,
                 start: int = 0) -> None:
    """In-place ``(a0, a1) → (a0 + a1, a0 − a1)`` (the Walsh–Hadamard butterflies) over
    bits ``start … k − 1`` of axis 1 of ``parts`` (outer, 2^k, …: the real and imaginary
    parts, or any other leading axis); ``scratch`` (half of ``parts``' values) holds the
    sums."""
    if scratch is None:
        scratch = np.empty(parts.size // 2)
    for j in range(start, k):
        view = parts.reshape(parts.shape[0], 2**(k - j - 1), 2, 2**j, -1)
        low, high = view[:, :, 0], view[:, :, 1]
        total = scratch.reshape(low.shape)
        np.add(low, high, out=total)
        np.subtract(low, high, out=high)
        np.copyto(low, total)


#: a multiply-add of the low stage's dense products, counted in butterfly operations
#: (numpy passes over the work array) for :func:`rotation_work`
DENSE_WEIGHT = 0.25


def rotation_work(k: int, low: int, n_states: int, n_outcomes: int) -> float:
    """Estimated operations per point of a block rotation with ``low`` dense bits:
    ``DENSE_WEIGHT · 2^low · D`` multiply-adds, then (``low < k``) ``3 (k − low)``
    butterfly operations on each of the ``2 · n_outcomes`` values and about 9 more for
    zeroing, scattering and squaring them. On H8's groups of 16 rotated qubits (2^16
    outcomes, D = 4900, 8 points a chunk, one core) ``low`` = 10, 9, 8, 7 took 1.0–1.7,
    0.83, 0.96, 1.07 ms a point (load 3–5): 0.25 picks 9."""
    butterflies = 6 * n_outcomes * (k - low + 3) if low < k else 0  # + zeros, scatter
    return DENSE_WEIGHT * 2**low * n_states + butterflies


def low_stages(low: int, y_r: np.ndarray, block_of: np.ndarray, imaginary: np.ndarray
               ) -> list[LowStage]:
    """The :class:`LowStage` products of a rotation whose sector states have rotated bits
    ``y_r``, blocks ``block_of`` and parts ``imaginary``: keys ``(block, y_H)`` are grouped
    by the tuple of ``(part, y_L)`` of their states, one dense product per group."""
    y_low, y_high = y_r & (2**low - 1), y_r >> low
    member = imaginary * 2**low + y_low
    key = block_of * (int(y_high.max(initial=0)) + 1) + y_high
    order = np.lexsort((member, key))
    keys, starts = np.unique(key[order], return_index=True)
    by_members: dict[tuple[int, ...], list[np.ndarray]] = {}
    for rows in np.split(order, starts[1:]):
        by_members.setdefault(tuple(member[rows].tolist()), []).append(rows)
    x = np.arange(2**low, dtype=np.int64)[:, None]
    stages = []
    for members, groups in by_members.items():
        table = np.stack(groups, axis=1)  # (members, K) sector rows, members sorted
        first = table[:, 0]  # the members' rows of the first key
        is_imaginary = np.asarray(members) >= 2**low
        states = (table[~is_imaginary], table[is_imaginary])
        hadamard = tuple(1.0 - 2.0 * (_popcount(x & y_low[first[mask]][None, :]) & 1)
                         for mask in (~is_imaginary, is_imaginary))
        stages.append(LowStage(block_of[table[0]], y_high[table[0]], states,
                               (hadamard[0], hadamard[1]), None))
    return stages


def _with_indicators(stages: list[LowStage], indicator: csr_matrix, size: int,
                     n_blocks: int) -> list[LowStage]:
    """Stages of a purely dense rotation with their own class indicators: column
    ``x · K + j`` of a stage is outcome row ``x · Z_p + blocks[j]`` of ``indicator``."""
    x = np.arange(size, dtype=np.int64)[:, None]
    return [replace(stage, indicator=indicator[:, (x * n_blocks + stage.blocks[None, :])
                                                  .ravel()].tocsr())
            for stage in stages]


def block_rotation(index: int, group: MeasurementGroup, classes: OutcomeClasses,
                   basis: np.ndarray, low: int | None = None, stages: bool = True
                   ) -> BlockRotation:
    """The :class:`BlockRotation` of ``group`` on the sector ``basis`` with ``low`` dense
    bits (by default the cheapest number, :func:`rotation_work`); ``stages=False`` leaves
    out the products (enough for its ``cost`` and ``possible``, not to compute)."""
    rotated, y_mask = _masks(group.basis)
    qubits = _bits(rotated)
    k, size = len(qubits), 2**len(qubits)
    blocks, block_of = np.unique(basis & ~rotated, return_inverse=True)
    n_outcomes = size * len(blocks)
    m = _popcount(basis & y_mask) % 4  # phase (−i)^m: 1, −i, −1, i
    imaginary = (m % 2).astype(np.int64)
    sign = np.where((m == 0) | (m == 3), 1.0, -1.0)
    y_r = _compress(basis, qubits)
    outcomes = (np.repeat(_expand(np.arange(size, dtype=np.int64), qubits), len(blocks))
                | np.tile(blocks, size))
    possible = np.zeros(len(classes.values), bool)
    possible[classes.labels[outcomes]] = True
    labels = np.cumsum(possible)[classes.labels[outcomes]] - 1  # index among possible
    indicator = csr_matrix((np.ones(n_outcomes), (labels, np.arange(n_outcomes))),
                           shape=(int(possible.sum()), n_outcomes))
    if low is None:
        low = min(range(k + 1), key=lambda j: rotation_work(k, j, len(basis), n_outcomes))
    # the estimate that picks rotation or moments (SectorClassProbabilities): kept as it
    # was measured for a sparse product or butterflies, so that the choice does not move
    tail = 4 * n_outcomes
    butterfly_cost = 2 * n_outcomes * (3 * k + 2)
    cost = (len(basis) * size if len(basis) * size <= min(MAX_MATRIX_ENTRIES, butterfly_cost)
            else butterfly_cost) + tail
    products = low_stages(low, y_r, block_of, imaginary) if stages else []
    if low == k:
        products = _with_indicators(products, indicator, size, len(blocks))
    return BlockRotation(index, k, len(blocks), possible, indicator, low, products,
                         sign[:, None], cost)


def pauli_moments(index: int, group: MeasurementGroup, classes: OutcomeClasses,
                  basis: np.ndarray, n_qubits: int) -> PauliMoments:
    """The :class:`PauliMoments` of ``group`` on the sector ``basis``."""
    generators = gf2_basis(group.supports)
    r = len(generators)
    _, y_mask = _masks(group.basis)
    x_mask = sum(1 << q for q, ch in enumerate(group.basis) if ch == "X")
    supports = span(generators)
    n_y = _popcount(supports & y_mask)
    partners = basis[None, :] ^ (supports & (x_mask | y_mask))[:, None]  # (2^r, D)
    found, present = find_in_basis(basis, partners)
    member = present & (found >= np.arange(len(basis))[None, :])
    member &= (n_y % 2 == 0)[:, None]  # odd Y count: zero moment on real states
    kept = np.flatnonzero(member.any(axis=1))
    keys, pairs = [], []
    for j in kept.tolist():
        support = int(supports[j])
        d = np.flatnonzero(member[j])
        e = found[j, d]
        phase = (-1.0) ** (n_y[j] // 2 + _popcount(basis[d] & (support & ~x_mask)))
        keys.append((support & (x_mask | y_mask), support & ~x_mask))
        pairs.append((d, e, np.where(d == e, 1.0, 2.0) * phase))
    outcomes = np.arange(2**n_qubits, dtype=np.int64)
    patterns = np.zeros(len(outcomes), dtype=np.int64)
    for i, g in enumerate(generators):
        patterns |= (_popcount(outcomes & g) & 1) << i
    _, first = np.unique(patterns, return_index=True)  # pattern u → first outcome with it
    u = np.arange(2**r, dtype=np.int64)
    signs = 1.0 - 2.0 * (_popcount(u[:, None] & kept[None, :]) & 1)  # (2^r, moments)
    one_hot = csr_matrix((np.full(2**r, 0.5**r), (classes.labels[first], u)),
                         shape=(len(classes.values), 2**r))
    mix = np.asarray(one_hot @ signs)
    possible = np.any(mix != 0, axis=1)
    return PauliMoments(index, keys, pairs, possible, mix[possible])


#: the flip-block products work on CHUNK_VALUES · this values at a time (2 MB, so that a
#: block's products are still in cache for its dense product): on H8 (1441 points, 1307
#: flips, one core, load 3) factors 16, 4, 1 took 4.2, 3.9, 3.75 s; much smaller chunks
#: make many small dense products, whose call overhead then dominates
BLOCK_CHUNK_FACTOR = 1


@dataclass(frozen=True)
class FlipBlock:
    """The moments of one flip pattern ``f`` (X/Y bits): ``E[rows] = signs @ (ψ[first] ⊙
    ψ[second])`` over the sector pairs with ``basis[first] ⊕ basis[second] = f``."""

    rows: np.ndarray
    first: np.ndarray
    second: np.ndarray
    signs: np.ndarray


def flip_blocks(moment_matrix: csr_matrix, pairs: tuple[np.ndarray, np.ndarray],
                basis: np.ndarray) -> list[FlipBlock] | None:
    """The moment matrix split by flip pattern: a moment ``⟨ψ|P|ψ⟩`` sums over the pairs
    ``(d, d ⊕ f)`` of one flip ``f`` of ``P``, and a pair has one flip, so rows and columns
    split into dense blocks, one per flip, each applied as one dense product (BLAS; on N₂
    frozen core, 1261 points, 771 flips: 1.0 s against 5.2 s for the sparse product).
    None if some moment mixes flips (then the sparse product is used)."""
    coo = moment_matrix.tocoo()
    first, second = pairs
    flips = basis[first] ^ basis[second]
    entry_flip = flips[coo.col]
    row_flip = np.full(moment_matrix.shape[0], -1, dtype=np.int64)
    row_flip[coo.row] = entry_flip
    if np.any(row_flip[coo.row] != entry_flip) or np.any(row_flip < 0):
        return None
    blocks = []
    row_order = np.argsort(row_flip, kind="stable")
    col_order = np.argsort(flips, kind="stable")
    row_keys, row_starts = np.unique(row_flip[row_order], return_index=True)
    col_keys, col_starts = np.unique(flips[col_order], return_index=True)
    col_index = {int(k): (a, b) for k, a, b in zip(
        col_keys, col_starts, [*col_starts[1:], len(col_order)], strict=True)}
    for k, a, b in zip(row_keys, row_starts, [*row_starts[1:], len(row_order)],
                       strict=True):
        rows = row_order[a:b]
        c0, c1 = col_index[int(k)]
        cols = col_order[c0:c1]
        signs = moment_matrix[rows][:, cols].toarray()
        blocks.append(FlipBlock(rows, first[cols], second[cols], signs))
    return blocks


#: the set-up's memory is extrapolated from the first max(this, a tenth of the) groups on
SETUP_CHECK_GROUPS = 32
#: a set-up of at least this many (groups × sector states) first builds
#: ``SAMPLE_GROUPS`` groups spread over the list (:meth:`SetupMemory.sample`): H10 (2,363
#: groups × 63,504 states, 1.5e8) took 1 min 47 s to reach the running check; H8 (959 ×
#: 4,900, 4.7e6) reaches it in seconds and takes no sample. H10's sample: 18.8 GB estimated
#: (the running check's extrapolation: 26 GB) after 10.7 s (0.77 GB); with 8 GB available
#: its dry run is refused in 11.7 s instead of ~90 s (load 1.5–2.1)
SAMPLE_FROM = 2**25
SAMPLE_GROUPS = 24
#: the sample refuses only when its estimate, divided by this, still will not fit
SAMPLE_MARGIN = 2.0


def held_bytes(obj) -> int:
    """Bytes of the numpy arrays and sparse matrices ``obj`` holds (dataclass fields, lists
    and tuples followed): what a group's method keeps for the run."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if issparse(obj):
        return sum(getattr(obj, name).nbytes for name in ("data", "indices", "indptr")
                   if hasattr(obj, name))
    if is_dataclass(obj) and not isinstance(obj, type):
        return sum(held_bytes(getattr(obj, f.name)) for f in fields(obj))
    if isinstance(obj, (list, tuple)):
        return sum(held_bytes(o) for o in obj)
    return 0


class SetupMemory:
    """Refuses (one line, :func:`~qvopt.memory.refuse_unless_fits`) a set-up whose methods
    will not fit, before they are all built: after the first ``max(SETUP_CHECK_GROUPS,
    G/10)`` groups and every 16 groups on, the bytes held so far (:func:`held_bytes`, the
    moment groups' twice: their pairs are stacked into one table at the end) are
    extrapolated to all ``G`` groups in proportion to their numbers of terms (sorted
    insertion forms the large groups first: on H8 the extrapolation from the first 95
    groups is 0.87 GB for 0.66 GB in all, 3.1 GB if every group counted the same). H10's
    2,363 groups on 63,504 sector states: the process reached 8.6 GB after 745 groups
    (2.7 min) unchecked; checked, it is refused after 236 (4.9 GB held, 26 GB
    extrapolated). Large set-ups are first checked from a sample (:meth:`sample`,
    :meth:`check_sample`), the running check kept as the backstop."""

    def __init__(self, terms, n_states: int, available: float | None = None):
        self.weights = np.cumsum(np.asarray(terms, dtype=float))
        self.n_groups, self.n_states = len(self.weights), n_states
        self.available = available_memory() if available is None else available
        self.check_from = min(self.n_groups, max(SETUP_CHECK_GROUPS, self.n_groups // 10))
        self.moments = self.rotations = 0

    def sample(self) -> list[int]:
        """Groups to build first when the set-up is large (``G · D ≥`` :data:`SAMPLE_FROM`,
        else none): :data:`SAMPLE_GROUPS` groups at evenly spaced quantiles of the
        cumulative terms (a systematic sample with probability in proportion to terms,
        spread over the sorted list: large and small groups both)."""
        if self.n_groups * self.n_states < SAMPLE_FROM or self.n_groups <= 2 * SAMPLE_GROUPS:
            return []
        total = self.weights[-1]
        targets = (np.arange(SAMPLE_GROUPS) + 0.5) / SAMPLE_GROUPS * total
        return np.unique(np.searchsorted(self.weights, targets, side="right")).tolist()

    def sample_need(self, methods: dict) -> float:
        """Bytes of all groups estimated from ``methods`` ``{g: (method, is_moment)}`` of a
        :meth:`sample`: the mean bytes a term over the sample times all terms (moments
        twice, as in :meth:`add`), the estimator of a sample in proportion to terms."""
        terms = np.diff(np.concatenate([[0.0], self.weights]))
        per_term = [held_bytes(method) * (2 if moment else 1) / terms[g]
                    for g, (method, moment) in methods.items()]
        return float(np.mean(per_term)) * float(self.weights[-1])

    def check_sample(self, methods: dict) -> None:
        """Refuse (one line) when the :meth:`sample`'s estimate, divided by
        :data:`SAMPLE_MARGIN`, will not fit; nothing when there is no sample."""
        if not methods:
            return
        need = self.sample_need(methods)
        self._refuse_unless_fits(
            need / SAMPLE_MARGIN, f" at least (estimated {need / 1e9:.1f} GB from a sample "
            f"of {len(methods)} groups spread over the list, halved)")

    def _refuse_unless_fits(self, need: float, detail: str) -> None:
        """The one refusal of both checks (:func:`~qvopt.memory.refuse_unless_fits`)."""
        refuse_unless_fits(
            need, f"the sector engine's set-up ({self.n_groups} groups on {self.n_states} "
            "sector states)", "fewer, larger groups (grouping 'fc'), a smaller active space, "
            "or a machine with more memory", self.available, detail)

    def add(self, done: int, method, moment: bool) -> None:
        """Count ``method`` (group ``done − 1``'s) and check the extrapolation."""
        if moment:
            self.moments += held_bytes(method)
        else:
            self.rotations += held_bytes(method)
        if done < self.check_from or (done - self.check_from) % 16:
            return
        need = (2 * self.moments + self.rotations) * self.weights[-1] / self.weights[done - 1]
        self._refuse_unless_fits(
            need, f" (measured {(self.moments + self.rotations) / 1e9:.2f} GB held by the "
            f"first {done} groups, extrapolated to all by their terms, moment pairs twice)")


class SectorClassProbabilities:
    """Class probabilities of every group of ``observable`` from sector states on
    ``basis``, each group by the cheapest exact method (see the module docstring)."""

    def __init__(self, observable: SampledObservable, basis: np.ndarray):
        self.basis = np.asarray(basis, dtype=np.int64)
        self.n_groups = observable.n_groups
        self.rotations: list[BlockRotation | EmbeddedClifford] = []
        self.moments: list[PauliMoments] = []
        fully_commuting = observable.grouped.kind == "fc"
        # one pass over the tables: a group beyond the kept ones builds its table on each use
        # (:class:`~.observable.OutcomeTables`), so only its class values are kept here
        all_values: list[np.ndarray] = []
        groups = observable.grouped.groups
        memory = SetupMemory([len(g.coeffs) for g in groups], len(self.basis))
        # a large set-up first builds a sample of groups spread over the list, refused from
        # it in seconds if it clearly will not fit; the sample's methods are kept for the
        # loop (same methods, same order: nothing is built twice)
        early = {g: self._method(g, groups[g], observable, fully_commuting)
                 for g in memory.sample()}
        memory.check_sample(early)
        for g, group in enumerate(groups):
            all_values.append(observable.classes[g].values)
            method, is_moment = (early.pop(g) if g in early
                                 else self._method(g, group, observable, fully_commuting))
            if is_moment:
                self.moments.append(method)  # type: ignore[arg-type]
            else:
                self.rotations.append(method)  # type: ignore[arg-type]
            memory.add(g + 1, method, is_moment)
        self._build_moment_tables()
        # the stacked tables hold the pairs now; each group's own copy (H8: 280 MB) goes
        self.moments = [replace(m, pairs=[]) for m in self.moments]
        self.possible: list[np.ndarray] = [np.ones(len(v), bool) for v in all_values]
        for method in [*self.rotations, *self.moments]:
            self.possible[method.group] = method.possible
        self.values = [v[mask] for v, mask in zip(all_values, self.possible, strict=True)]

    def _method(self, g: int, group, observable: SampledObservable, fully_commuting: bool
                ) -> tuple[PauliMoments | BlockRotation | EmbeddedClifford, bool]:
        """Group ``g``'s cheapest exact method and whether it is a moment method."""
        classes = observable.classes[g]
        if fully_commuting:
            return self._commuting(g, group, classes)
        rotation = block_rotation(g, group, classes, self.basis, stages=False)
        rank = len(gf2_basis(group.supports))
        if rank <= MAX_MOMENT_RANK and 2**rank < rotation.cost:
            moment = pauli_moments(g, group, classes, self.basis, observable.n_qubits)
            if moment.cost < rotation.cost:
                return moment, True
        return block_rotation(g, group, classes, self.basis), False

    def _commuting(self, g: int, group, classes: OutcomeClasses
                   ) -> tuple[PauliMoments | EmbeddedClifford, bool]:
        """An FC group: stabilizer moments, or the embedded Clifford when cheaper (or the
        group's rank is too large to list its stabilizers); see :mod:`.sector_stabilizer`."""
        embedded = embedded_clifford(g, group, classes, self.basis)
        if group.rank <= MAX_STABILIZER_RANK:
            moments = stabilizer_moments(g, group, classes, self.basis)
            if moments.cost < embedded.cost:
                return moments, True
        return embedded, False

    def _build_moment_tables(self) -> None:
        """Unique moments over all moment groups: a sparse (moments × pairs) matrix over
        unique pairs, and a sparse (classes × moments) mixing matrix."""
        index: dict[tuple[int, int], int] = {}
        d_all, e_all, rows, weights = [], [], [], []
        mix_rows, mix_cols, mix_vals = [], [], []
        self._class_rows: list[slice] = []
        offset = 0
        for m in self.moments:
            columns = []
            for key, (d, e, w) in zip(m.keys, m.pairs, strict=True):
                if key not in index:
                    index[key] = len(index)
                    d_all.append(d)
                    e_all.append(e)
                    weights.append(w)
                    rows.append(np.full(len(d), index[key]))
                columns.append(index[key])
            r, c = np.nonzero(m.mix)
            mix_rows.append(r + offset)
            mix_cols.append(np.asarray(columns, dtype=np.int64)[c])
            mix_vals.append(m.mix[r, c])
            self._class_rows.append(slice(offset, offset + m.mix.shape[0]))
            offset += m.mix.shape[0]
        if not self.moments:
            return
        d, e = np.concatenate(d_all), np.concatenate(e_all)
        n = len(self.basis)
        unique, column = np.unique(d * n + e, return_inverse=True)
        self._pairs = (unique // n, unique % n)
        self._moment_matrix = csr_matrix((np.concatenate(weights),
                                          (np.concatenate(rows), column)),
                                         shape=(len(index), len(unique)))
        self._mix = csr_matrix((np.concatenate(mix_vals),
                                (np.concatenate(mix_rows), np.concatenate(mix_cols))),
                               shape=(offset, len(index)))
        self._flip_blocks = flip_blocks(self._moment_matrix, self._pairs, self.basis)

    def _moment_classes(self, columns: np.ndarray) -> np.ndarray:
        """Class probabilities of all moment groups, stacked (Σ C_g, P): the moments flip
        block by flip block (:func:`flip_blocks`, one dense product each), or with the
        sparse moment matrix where the moments do not split into flip blocks."""
        d, e = self._pairs
        out = np.empty((self._mix.shape[0], columns.shape[1]))
        if self._flip_blocks is None:
            for rows in _chunks(columns.shape[1], len(d)):
                part = columns[:, rows]
                out[:, rows] = self._mix @ (self._moment_matrix @ (part[d] * part[e]))
            return out
        moments = np.empty((self._moment_matrix.shape[0], columns.shape[1]))
        widest = max(len(block.first) for block in self._flip_blocks)
        # a block's product takes widest × points values: up to CHUNK_VALUES · factor
        for points in _chunks(columns.shape[1], max(1, widest // BLOCK_CHUNK_FACTOR), 1):
            part = np.ascontiguousarray(columns[:, points])
            for block in self._flip_blocks:
                moments[block.rows, points] = block.signs @ (part[block.first]
                                                             * part[block.second])
        return np.asarray(self._mix @ moments)

    def iter_columns(self, columns: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """``(g, (C_g, P))`` for ``g = 0 … G − 1`` in order: the probabilities of group
        ``g``'s possible classes (values ``values[g]``, mask ``possible[g]`` of its outcome
        classes) for sector states ``columns`` (D, P); every other class has probability
        exactly 0. The moment groups' classes (``Σ C_g`` rows, few) are computed together
        first; each rotated group's are computed when it is reached, so a caller that
        consumes one group at a time holds one group's table, not all of them."""
        for g, table in self.iter_methods(columns):
            yield g, table if isinstance(table, np.ndarray) else table.probabilities(columns)

    def iter_methods(self, columns: np.ndarray
                     ) -> Iterator[tuple[int, np.ndarray | BlockRotation | EmbeddedClifford]]:
        """:meth:`iter_columns`, except that a rotated group gives its rotation, not yet
        applied (a sampler may draw its shots without the whole table)."""
        stacked: dict[int, np.ndarray] = {}
        rotations = {rot.group: rot for rot in self.rotations}
        # one BLAS thread for the whole iteration (see :mod:`.blas_threads`): switching
        # the count per group costs more than the products on small systems
        with single_threaded_blas():
            if self.moments:
                table = self._moment_classes(columns)
                stacked = {m.group: table[rows]
                           for m, rows in zip(self.moments, self._class_rows, strict=True)}
            for g in range(self.n_groups):
                yield g, stacked.pop(g) if g in stacked else rotations[g]

    def probabilities_columns(self, columns: np.ndarray) -> list[np.ndarray]:
        """``[g] -> (C_g, P)``: every group's table of :meth:`iter_columns` at once."""
        return [probs for _, probs in self.iter_columns(columns)]

    def probabilities(self, states: np.ndarray) -> list[np.ndarray]:
        """``[g] -> (P, C_g)``: :meth:`probabilities_columns` of ``states`` (P, D)."""
        columns = np.ascontiguousarray(np.atleast_2d(states).T)
        return [p.T for p in self.probabilities_columns(columns)]
