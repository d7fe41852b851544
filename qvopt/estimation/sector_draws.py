"""Two-stage exact draws for the block-rotated groups of the sector engine.

A group measured in basis ``b`` with rotated qubits ``R`` (``k`` of them) has outcomes
``(z, x_R)``: the block ``z`` (the unrotated bits, fixed by the sector state) and the
rotated bits, with probability ``p(z, x) = 2^{−k} |A(z, x)|²`` and the transform ``A`` of
:mod:`.sector_classes` (``Re`` and ``Im`` parts, as there). A shot needs one outcome, not
the whole table: with ``x = (x_H, x_L)`` split at ``k_L`` low bits, and the partial
transform over the low bits only,

    A_L(z, y_H, x_L) = Σ_{y_L} (−1)^{x_L·y_L} (−i)^{m(y)} ψ(z, y_H, y_L),

the remaining transform over ``y_H`` is ``2^{k_H/2}`` times a unitary, so (Parseval)

    p(z, x_L) = 2^{−k_L} Σ_{y_H} |A_L(z, y_H, x_L)|²,
    p(x_H | z, x_L) = |Σ_{y_H} (−1)^{x_H·y_H} A_L(z, y_H, x_L)|² / (2^{k_H} Σ_{y_H} |A_L|²).

**Stage 1** sums the marginal ``p(z, x_L)`` for every point and draws every shot's
``(z, x_L)`` from it; **stage 2** forms, for each shot only, its ``A_L`` column over
``y_H`` at its own ``x_L``, finishes the transform (butterflies over ``k_H`` bits) and
draws ``x_H``. The pair is an exact draw from ``p(z, x)``; shots are independent, so the
shots of a point are a multinomial draw over the outcomes, and the value of the outcome's
class is what the estimate sees — the same law as a multinomial over the classes. Neither
stage forms ``A_L`` for every ``x_L`` (``2^{k_L} D`` products a point): the marginal is the
Walsh–Hadamard transform of correlations ``Σ ψ_d ψ_e`` over pairs of sector states of the
same block, high bits and part (:class:`TwoStageDraw`), a shot's column is ``D_z`` signed
amplitudes of its block. ``k_L`` is chosen by :func:`draw_work`. H8's groups of 16 rotated
qubits take ``k_L = 7``: 19,080 pair products a point and 4,900 amplitudes a shot (they
were 627,200 products a point). Stage 2 works in slices of its draw's key chunks and forms
each distinct ``(point, z, x_L)`` column of a slice once, at most ``STAGE_TWO_VALUES``
values at a time (:func:`_stage_two`): its memory no longer grows with the shots (H8's
group 1, 1000 shots × 31 points drawn two-stage: peak RSS 3.7 GB and 8.6 CPU s before,
0.25 GB, the set-up's peak, and 0.9 s), and the draws are bit for bit those of one column
a shot.

**Seeded streams.** Every shot uses one uniform in each stage, whatever happens to other
shots, and neither the correlations above nor the slicing change which uniforms are drawn
or in what order. But stage 1's marginal is summed in a different order than the products
of ``A_L`` it replaced (288931b), so it differs in its last bits (on 50 random points: 16 %
of lih_fc's entries, 33 % of lih's, 29 % of beh2's; at most 2.2e-16), and its integer CDF
keys (:func:`inverse_cdf_classes`) move by at most 6, 3 and 7 units of 2^-52. A shot's
``(z, x_L)`` changes only if its uniform lies between an old and a new key, probability
``Σ_c |ΔK_c| · 2^-52`` for its point: at most 2.8e-13 (lih_fc), 4.0e-13 (lih) and 6.0e-12
(beh2) a shot; such a shot changes its own value only. So seeded streams are those of the
products' version except on events of about that probability a shot — "unchanged" in that
sense, not bit for bit guaranteed (stage 2's columns, a sum over members, may likewise
differ in their last bits from the products', with the same kind of effect on ``x_H``;
lih_fc and lih draws at 7 points, every ``k_L``, were bit-identical). Slicing stage 2
changes no bit. A chunk of points without shots draws no uniform. A shot whose
``(z, x_L)`` has a positive marginal only by rounding (structurally zero: its column of
``A_L`` is exactly 0) takes ``x_H = 0`` (:func:`finish_transform`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from .grouping import OutcomeClasses
from .sampling import reduce_counts
from .sector_classes import (
    DENSE_WEIGHT,
    _bits,
    _butterflies,
    _compress,
    _expand,
    _masks,
    _popcount,
    rotation_work,
)

#: stage 1 works on about this many ``A_L`` values at a time (32 MB)
DRAW_CHUNK_VALUES = 2**22
#: a group is drawn by inverse CDF (:func:`inverse_cdf_classes`) when it has more than this
#: many classes per shot, else by numpy's multinomial (conditional binomials, one per class
#: up to the last one drawn). Measured (1441 rows, 1000 shots, one core): 12,000 classes
#: 0.71 s multinomial against 0.34 s by inverse CDF; 2,000: 0.13 s against 0.12 s; 500:
#: 0.05 s against 0.10 s; 64: 0.007 s against 0.04 s (load 4–5).
CLASSES_PER_SHOT = 2.0
#: bits of the integer CDF keys: probabilities are resolved to 2^-52 (a double's spacing
#: near 1), and 2^(63 − 52) rows fit one int64 key range
KEY_BITS = 52
#: at most this many (row, class) keys at a time (32 MB)
KEY_CHUNK = 2**22


def inverse_cdf_classes(probs: np.ndarray, shots: np.ndarray, rng: np.random.Generator,
                        zero_to_first: bool = False) -> np.ndarray:
    """One multinomial draw of ``shots[p]`` classes per column ``p`` of ``probs`` (C, P),
    by inverse CDF; returns the drawn classes, column by column (``shots.sum()`` of them).

    Per column, with ``F_c = Σ_{j ≤ c} p_j`` (negative rounding clipped to 0) and
    ``K_c = ⌊2^52 F_c / F_C⌋`` (``K_C = 2^52`` exactly), each shot is an integer ``u``
    uniform on ``[0, 2^52)`` (``rng.integers``) and falls in the class ``c`` with
    ``K_{c−1} ≤ u < K_c``: probability ``(K_c − K_{c−1}) / 2^52``, i.e. ``p_c`` to 2^-52.
    Independent shots of one categorical law are exactly a multinomial draw. Columns are
    processed in order, in chunks (:func:`_key_chunks`) whose keys ``r · 2^52 + K`` (row
    ``r`` of the chunk) form one sorted array, so one ``searchsorted`` of the chunk's sorted
    ``u + r · 2^52`` draws all of them; the uniforms of a chunk are drawn in one call, so
    the stream depends only on ``probs``' shape and ``shots``.

    A column to be drawn whose total is not a positive number is an error, except with
    ``zero_to_first`` where a total of exactly 0 puts every shot of the column in class 0
    (its uniforms are still drawn; NaN and infinite totals stay errors)."""
    n_classes, n_points = probs.shape
    drawn = [_draw_chunk(_integer_cdf(probs[:, rows], shots[rows], zero_to_first),
                         n_classes, shots[rows], rng)
             for rows in _key_chunks(n_classes, n_points)]
    return np.concatenate([np.zeros(0, dtype=np.int64), *drawn])


class StateDraws:
    """Sector states drawn from ``ψ_d²`` (the integer CDF keys of
    :func:`inverse_cdf_classes`, built once for a batch of states and shared by every
    block-wise group: a state's block is a draw of the block's marginal)."""

    def __init__(self, columns: np.ndarray):
        self.n_states = columns.shape[0]
        self.chunks = [(rows, _integer_cdf(np.square(columns[:, rows])))
                       for rows in _key_chunks(*columns.shape)]

    def draw(self, shots: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``shots[p]`` sector rows for each state ``p``, state by state."""
        drawn = [_draw_chunk(keys, self.n_states, shots[rows], rng)
                 for rows, keys in self.chunks]
        return np.concatenate([np.zeros(0, dtype=np.int64), *drawn])


def _key_step(n_classes: int) -> int:
    """Columns a chunk: at most ``KEY_CHUNK`` keys and ``2^(63 − 52)`` rows."""
    return max(1, min(2**(63 - KEY_BITS) - 1, KEY_CHUNK // max(1, n_classes)))


def _key_chunks(n_classes: int, n_points: int) -> list[slice]:
    """Columns in chunks of :func:`_key_step` columns."""
    step = _key_step(n_classes)
    return [slice(a, min(a + step, n_points)) for a in range(0, n_points, step)]


def _draw_chunk(keys: np.ndarray, n_classes: int, counts: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """``counts[r]`` classes of row ``r`` of the integer CDF ``keys`` (R, C), in row
    order (see :func:`inverse_cdf_classes`)."""
    offsets = np.arange(len(counts), dtype=np.int64) << KEY_BITS
    uniforms = rng.integers(0, 2**KEY_BITS, size=int(counts.sum()), dtype=np.int64)
    if counts.size and np.all(counts == counts[0]):  # sorted row by row: faster
        table = uniforms.reshape(len(counts), -1)
        table.sort(axis=1)
        table += offsets[:, None]
    else:
        uniforms += np.repeat(offsets, counts)
        uniforms.sort(kind="stable")
    found = np.searchsorted(keys.ravel(), uniforms, side="right")
    return found - np.repeat(np.arange(len(counts), dtype=np.int64) * n_classes, counts)


def _integer_cdf(probs: np.ndarray, shots: np.ndarray | None = None,
                 zero_to_first: bool = False) -> np.ndarray:
    """``r · 2^52 + K[r, c]``, ``K[r, c] = ⌊2^52 F_c / F_C⌋`` (R, C), of the columns ``r``
    of ``probs`` (C, R), negative rounding clipped to 0 (see :func:`inverse_cdf_classes`).
    Transposed first: a cumulative sum along contiguous rows is 3× faster than down
    columns. A column whose total ``F_C`` is not a positive number has no law to draw
    from: an error if it is to be drawn (``shots`` None: every column is), else keys
    that keep the chunk's ordering and are never searched; with ``zero_to_first`` a total
    of exactly 0 gives keys ``K_c = 2^52`` for every ``c`` (every shot falls in class 0)."""
    cdf = np.maximum(probs.T, 0.0, out=np.empty(probs.shape[::-1]))
    np.cumsum(cdf, axis=1, out=cdf)
    lawless = ~(cdf[:, -1] > 0) | ~np.isfinite(cdf[:, -1])
    if lawless.any():
        if zero_to_first:
            zero = cdf[:, -1] == 0
            cdf[zero] = 1.0
            lawless &= ~zero
        drawn = lawless if shots is None else lawless & (np.asarray(shots) > 0)
        if drawn.any():
            raise ValueError(f"outcome probabilities of column {int(np.argmax(drawn))} sum "
                             f"to {cdf[np.argmax(drawn), -1]!r}: nothing to draw from")
        cdf[lawless] = 0.0
        cdf[lawless, -1] = 1.0
    cdf /= cdf[:, -1:] * 2.0**-KEY_BITS  # = 2^52 F_c / F_C exactly: 2^-52 scales exactly
    keys = cdf.astype(np.int64)
    keys += np.arange(len(keys), dtype=np.int64)[:, None] << KEY_BITS
    return keys


def per_shot_means(drawn: np.ndarray, shots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample means and variances of the mean (:func:`~.sampling.reduce_counts`) of the
    values ``drawn`` of every shot, point by point (``shots[p]`` consecutive ones each):
    each shot is its own outcome, counted once."""
    indptr = np.concatenate([[0], np.cumsum(shots)])
    per_shot = csr_matrix((np.ones(len(drawn)), np.arange(len(drawn)), indptr),
                          shape=(len(shots), len(drawn)))
    return reduce_counts(per_shot, drawn, shots)


#: stage 1 of a block-wise draw (``k_L = 0``) in operations a shot: the search of the
#: shared state CDF (:class:`StateDraws`)
STATE_SEARCH = 30
#: stage 2's butterflies, gathers and draw in operations per value of a shot's column:
#: fitted on H8's groups of 16 rotated qubits (1440 points, 2 shots, one core, load 4):
#: ``k_L`` = 4, 5, 6, 7, 8, 9 took 1.06, 0.89, 0.84, 0.79, 0.76, 0.83 s; 3 picks 7
SHOT_WEIGHT = 3


def draw_work(k: int, low: int, n_states: int, n_keys: int, n_blocks: int,
              shots: float) -> float:
    """Estimated operations per point of a two-stage draw with ``low`` = ``k_L``, as
    measured when stage 1 formed ``A_L`` for every ``x_L``: the dense products
    (:data:`~.sector_classes.DENSE_WEIGHT` each), squares of both parts of ``A_L`` and the
    marginal's inverse CDF (``k_L = 0``: a search of the shared state CDF a shot), and per
    shot its column's butterflies. :class:`TwoStageDraw` no longer forms those products
    (its stage 1 costs far less), but the choice of ``k_L`` fixes which outcome each
    uniform draws: kept, so seeded streams stay the same (up to stage 1's rounding: see
    the module docstring)."""
    high = k - low
    first = (shots * STATE_SEARCH if low == 0 else
             DENSE_WEIGHT * 2**low * n_states + 4 * 2**low * n_keys + 6 * 2**low * n_blocks)
    return first + SHOT_WEIGHT * shots * 2 * 2**high * (high + 4)


def finish_transform(column: np.ndarray, high: int, rng: np.random.Generator,
                     column_of: np.ndarray | None = None) -> np.ndarray:
    """Stage 2: ``x_H`` of each shot from its column of ``A_L`` (real and imaginary parts
    over ``y_H``) in ``column`` (2, 2^k_H, U): butterflies over the ``k_H`` bits, then one
    draw from ``|A|²`` (normalised by :func:`inverse_cdf_classes`) a shot, shot ``s``
    from column ``column_of[s]`` (default: shot ``s`` from column ``s``). Changes
    ``column``. A column that is exactly 0 after a positive stage-1 marginal (a
    structurally zero ``(z, x_L)`` whose marginal is a rounding residue, probability
    about 2^-52) has no conditional law: its shots take ``x_H = 0``, deterministically,
    and still use their uniform, so the stream does not move."""
    _butterflies(column, high)
    conditional = np.square(column[0])
    conditional += np.square(column[1])
    if column_of is not None:
        conditional = conditional[:, column_of]
    return inverse_cdf_classes(conditional, np.ones(conditional.shape[1], dtype=np.int64),
                               rng, zero_to_first=True)


#: stage 2 forms at most about this many values at a time (8 MB an array): the members'
#: amplitudes gathered for the shots' columns and both parts of the columns (at least one
#: column; the draw's own chunk, ``KEY_CHUNK`` keys, may hold more)
STAGE_TWO_VALUES = 2**20


def _stage_two(keys: np.ndarray, high: int, width: int,
               build: Callable[[np.ndarray], np.ndarray], rng: np.random.Generator
               ) -> np.ndarray:
    """``x_H`` of every shot (:func:`finish_transform`), shots in slices: each shot's
    column is named by ``keys`` (an integer of its point, block and ``x_L``), and
    ``build(distinct keys)`` forms those columns (2, 2^k_H, U) with ``width`` values a
    column besides their own ``2 · 2^k_H``. A slice is a whole number of the draw's key
    chunks (:func:`_key_chunks` of ``2^k_H`` classes, one shot a column), so the calls to
    ``rng`` and every shot's draw are those of one :func:`finish_transform` of all shots;
    a slice forms each distinct column once, at most ``STAGE_TWO_VALUES`` values at a
    time, instead of ``width`` values for every shot."""
    n_shots = len(keys)
    step = _key_step(2**high)
    per_slice = step * max(1, STAGE_TWO_VALUES // (2 * 2**high * step))
    per_build = max(1, STAGE_TWO_VALUES // (width + 2 * 2**high))
    drawn = [np.zeros(0, dtype=np.int64)]
    for a in range(0, n_shots, per_slice):
        distinct, column_of = np.unique(keys[a:a + per_slice], return_inverse=True)
        column = np.empty((2, 2**high, len(distinct)))
        for b in range(0, len(distinct), per_build):
            column[:, :, b:b + per_build] = build(distinct[b:b + per_build])
        drawn.append(finish_transform(column, high, rng, column_of.ravel()))
    return np.concatenate(drawn)


@dataclass(frozen=True)
class TwoStageDraw:
    """The two-stage draw of one block-rotated group with ``k_L = low ≥ 1`` (module
    docstring), without ``A_L`` for every outcome.

    **Stage 1** needs only ``Σ_{y_H} |A_L(z, y_H, x_L)|²`` (both parts), the Walsh–Hadamard
    transform over ``x_L`` of the low bits' correlations ``C(z, f) = Σ ψ̃_d ψ̃_e`` over the
    pairs ``(d, e)`` of sector states with the same block, high bits and part and low bits
    ``y_L(d) ⊕ y_L(e) = f`` (``ψ̃`` the signed amplitudes; ``|Σ_y (−1)^{x·y} v_y|² =
    Σ_f (−1)^{x·f} Σ_y v_y v_{y⊕f}``): ``correlation`` (Z_p · 2^k_L, pairs) sums the
    pairs' products (weight 2 off the diagonal) into rows ``z · 2^k_L + f``, the
    transform turns row ``f`` into ``x_L`` in place. **Stage 2** forms each shot's column
    of ``A_L`` over ``y_H`` for its own ``x_L`` only: ``Σ_d (−1)^{x_L·y_L(d)} ψ̃_d`` over
    its block's ``members`` into the slot ``part · 2^k_H + y_H`` (``slots``). Both are
    exact rewritings of the products of :class:`~.sector_classes.LowStage` (``2^k_L D``
    a point): H8's groups of 16 rotated qubits (k_L 7) take 19,080 pair products a point
    and 4,900 a shot.

    ``values[x_R, z]`` is the value of outcome ``(z, x_R)``'s class; ``step`` points are
    drawn at a time (stage 1, then stage 2), as many as ``2^22`` values of ``A_L`` would
    hold: the chunks fix the order of the draws, kept from the products' version (same
    seeded streams up to stage 1's rounding, module docstring). A chunk without shots is
    skipped (no uniforms, no marginal); stage 2 runs in slices (:func:`_stage_two`)."""

    k: int
    low: int
    step: int
    sign: np.ndarray  # (D, 1)
    pairs: tuple[np.ndarray, np.ndarray]  # sector rows (d, e), by row of correlation
    correlation: csr_matrix  # (Z_p · 2^k_L, pairs)
    members: np.ndarray  # (Z_p, width) a block's sector rows, padded with D
    hadamard: np.ndarray  # (Z_p, 2^k_L, width) int8 (−1)^{x_L·y_L} of each member
    slots: np.ndarray  # (Z_p, width) part · 2^k_H + y_H of each member (padding 0)
    values: np.ndarray  # (2^k, Z_p)

    @property
    def n_blocks(self) -> int:
        return self.members.shape[0]

    def drawn_values(self, columns: np.ndarray, shots: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
        """The value of every shot of sector states ``columns`` (``shots[p]`` of state
        ``p``, state by state): points in chunks, each chunk's stage 1 then stage 2."""
        drawn = [self._draw(columns[:, a:a + self.step], shots[a:a + self.step], rng)
                 for a in range(0, columns.shape[1], self.step)]
        return np.concatenate([np.zeros(0), *drawn])

    def marginal(self, signed: np.ndarray) -> np.ndarray:
        """``Σ_{y_H} |A_L|²`` (Z_p · 2^k_L, P), row ``z · 2^k_L + x_L``, of the signed
        amplitudes ``signed`` (D, P)."""
        n_points = signed.shape[1]
        first, second = self.pairs
        out = np.empty((self.correlation.shape[0], n_points))
        for rows in _point_chunks(n_points, len(first)):
            products = signed[first, rows]
            products *= signed[second, rows]
            out[:, rows] = self.correlation @ products
        _butterflies(out.reshape(self.n_blocks, 2**self.low, n_points), self.low)
        return out

    def _draw(self, columns: np.ndarray, shots: np.ndarray, rng: np.random.Generator
              ) -> np.ndarray:
        """One chunk of points: stage 1, then stage 2 (:func:`_stage_two`). A chunk
        without shots draws nothing (no uniforms: the stream is that of drawing it)."""
        if not shots.any():
            return np.zeros(0)
        n_points = columns.shape[1]
        signed = columns * self.sign
        first = inverse_cdf_classes(self.marginal(signed), shots, rng)  # z · 2^k_L + x_L
        block, x_low = np.divmod(first, 2**self.low)
        high = self.k - self.low
        if high == 0:
            return self.values[x_low, block]
        n_rows = self.n_blocks * 2**self.low

        def build(keys: np.ndarray) -> np.ndarray:
            point, row = np.divmod(keys, n_rows)
            return self.columns(signed, *np.divmod(row, 2**self.low), point)

        keys = np.repeat(np.arange(n_points) * n_rows, shots) + first
        x_high = _stage_two(keys, high, self.members.shape[1], build, rng)
        return self.values[x_high * 2**self.low + x_low, block]

    def columns(self, signed: np.ndarray, block: np.ndarray, x_low: np.ndarray,
                point: np.ndarray) -> np.ndarray:
        """Stage 2's ``A_L`` columns (2, 2^k_H, S) of the shots in blocks ``block`` with
        low bits ``x_low`` of the points ``point`` (columns of the signed states
        ``signed`` (D, P)): each member's signed amplitude times its row of
        ``hadamard``, summed into its slot."""
        n_states, n_points = signed.shape
        n_shots, size = len(block), 2 * 2**(self.k - self.low)
        by_point = np.zeros((n_points, n_states + 1))  # column D: the members' padding
        by_point[:, :n_states] = signed.T
        members = self.members[block]  # (S, width)
        members += (point * (n_states + 1))[:, None]
        amplitudes = np.take(by_point, members)
        amplitudes *= self.hadamard[block, x_low]
        target = self.slots[block]
        target += (np.arange(n_shots) * size)[:, None]
        column = np.bincount(target.ravel(), amplitudes.ravel(), minlength=size * n_shots)
        return np.ascontiguousarray(column.reshape(n_shots, size).T).reshape(
            2, size // 2, n_shots)


#: Which exact draw a block-rotated group takes for a batch (:meth:`TwoStagePlan.prefers_table`):
#: its whole class table (:meth:`~.sector_classes.BlockRotation.probabilities`) drawn by
#: ``draw_class_means`` (numpy's multinomial, or inverse CDF when classes outnumber twice the
#: shots), or the two-stage draw, whose cost grows with every shot. Seconds for a batch of
#: ``P`` points with ``S`` shots in all (``s = S / P`` a point), ``C`` possible classes,
#: ``n_out = 2^k Z_p`` outcomes; the table:
#:
#:     130 µs + P (0.085 ns · rotation_work + 2.2 ns · n_out)
#:            + P · 37 ns · C                        (multinomial, C ≤ 2 s)
#:            + P · 7 ns · C + S · 3.2 ns · log2 C   (inverse CDF, C > 2 s)
#:
#: the two-stage draw with the ``k_L`` of :func:`draw_work` (``k_H = k − k_L``, ``w`` the
#: widest block's members):
#:
#:     240 µs + S (20 ns + 1.44 ns · (2 · 2^k_H (k_H + 4) + w))
#:            + S · 9.7 ns · log2 D                             (k_L = 0: the state CDF)
#:            + P (11 ns · pairs + 1.9 ns · Z_p 2^k_L (k_L + 1))  (k_L ≥ 1: stage 1)
#:
#: Fitted (least relative squares) to each route's CPU time per group on lih_fc, lih, beh2
#: and h8 (every block-rotated group of lih_fc and lih, every 2nd of beh2, every 8th and
#: 16th of h8; 96–400 points; 1–1000 shots a point; one core, load 0.4–1.0): predictions
#: within 0.23–1.6× of the measured times (80% within 0.6–1.25×), and the route they pick
#: was the faster one in 266 of 268 (group, shots) cases (the other two lost 5 ms and
#: 0.15 ms); lih at 1000 shots a point: 0.076 s for its 19 rotated groups by table against
#: 0.54 s two-stage, h8's sampled groups at 2–3 shots: 0.003 s two-stage against 0.13 s.
#: Below ``TABLE_MIN_SHOTS`` shots a point the two-stage draw is kept whatever the model
#: says (only groups as small as lih_fc's gain from the table there: 2.3 ms against
#: 2.7–3.4 ms over its 11 groups at 1–3 shots), so few-shot batches keep their seeded
#: streams.
TABLE_MIN_SHOTS = 10.0
NS = 1e-9


def table_seconds(rotation, n_classes: int, n_points: int, shots: float) -> float:
    """The model's seconds (see :data:`TABLE_MIN_SHOTS`) for ``rotation``'s whole table of
    ``n_points`` states and its draw of ``shots`` shots a point over ``n_classes``."""
    work = rotation_work(rotation.k, rotation.low, len(rotation.sign), rotation.n_outcomes)
    total = n_points * shots
    draw = (n_points * 37 * NS * n_classes if n_classes <= 2 * shots else
            n_points * 7 * NS * n_classes + total * 3.2 * NS * np.log2(max(2, n_classes)))
    return 130e-6 + n_points * (0.085 * NS * work + 2.2 * NS * rotation.n_outcomes) + draw


class TwoStagePlan:
    """What the two-stage draw of one block-rotated QWC ``group`` on the sorted sector
    ``basis`` needs whatever ``k_L``: :meth:`means` draws with the ``k_L`` of least
    :func:`draw_work` for the shots asked (``k_L = 0`` block-wise here, from the shared
    :class:`StateDraws`; otherwise a :class:`TwoStageDraw`, built once per ``k_L``).
    :meth:`prefers_table` says when the group's whole table is the cheaper exact draw."""

    def __init__(self, group, classes: OutcomeClasses, basis: np.ndarray):
        rotated, y_mask = _masks(group.basis)
        qubits = _bits(rotated)
        self.k = len(qubits)
        self.basis = basis
        self.blocks, block_of = np.unique(basis & ~rotated, return_inverse=True)
        self.block_of = block_of.ravel()
        phase = _popcount(basis & y_mask) % 4  # phase (−i)^m: 1, −i, −1, i
        self.part = phase % 2  # real (even m) or imaginary (odd m) part
        self.sign = np.where((phase == 0) | (phase == 3), 1.0, -1.0)
        self.y_r = _compress(basis, qubits)
        self.n_keys = [len(self._keys(low)) for low in range(self.k + 1)]
        outcomes = (_expand(np.arange(2**self.k, dtype=np.int64), qubits)[:, None]
                    | self.blocks[None, :])
        self.values = classes.values[classes.labels[outcomes]]  # (2^k, Z_p)
        self.members = _padded_rows(self.block_of, len(self.blocks), len(basis))
        self._built: dict[int, TwoStageDraw] = {}
        self._pairs: dict[int, int] = {}

    def _state_keys(self, low: int) -> np.ndarray:
        """Each sector state's key ``z · 2^k_H + y_H`` (its block and high bits)."""
        return self.block_of * 2**(self.k - low) + (self.y_r >> low)

    def _pair_groups(self, low: int) -> np.ndarray:
        """Each sector state's stage-1 pair group: its key (:meth:`_state_keys`) and part;
        stage 1 multiplies the pairs within a group (:func:`_pairs_within`)."""
        return self._state_keys(low) * 2 + self.part

    def _keys(self, low: int) -> np.ndarray:
        """Sorted keys ``z · 2^k_H + y_H`` of the sector states' blocks and high bits."""
        return np.unique(self._state_keys(low))

    def seconds(self, n_points: int, shots: float) -> float:
        """The model's seconds (see :data:`TABLE_MIN_SHOTS`) of a two-stage draw of
        ``shots`` shots a point for ``n_points`` states."""
        low = self.best_low(shots)
        high = self.k - low
        total = n_points * shots
        per_shot = 20 * NS + 1.44 * NS * (2 * 2**high * (high + 4) + self.members.shape[1])
        if low == 0:
            first = total * 9.7 * NS * np.log2(max(2, len(self.basis)))
        else:
            first = n_points * (11 * NS * self._n_pairs(low)
                                + 1.9 * NS * len(self.blocks) * 2**low * (low + 1))
        return 240e-6 + total * per_shot + first

    def prefers_table(self, rotation, n_points: int, shots: float) -> bool:
        """Whether ``rotation``'s whole table and a draw over its classes is cheaper than
        the two-stage draw for ``n_points`` states with ``shots`` shots a point on average
        (:data:`TABLE_MIN_SHOTS`). Both are the same multinomial over the same classes."""
        if shots < TABLE_MIN_SHOTS:
            return False
        n_classes = rotation.indicator.shape[0]
        return (table_seconds(rotation, n_classes, n_points, shots)
                < self.seconds(n_points, shots))

    def _n_pairs(self, low: int) -> int:
        """Stage 1's pair products a point at ``k_L = low`` (pairs of sector states with the
        same block, high bits and part, :func:`_pairs_within`), counted without forming
        them; kept per ``k_L``."""
        if low not in self._pairs:
            counts = np.unique(self._pair_groups(low), return_counts=True)[1]
            self._pairs[low] = int((counts * (counts + 1) // 2).sum())
        return self._pairs[low]

    def best_low(self, shots: float) -> int:
        return min(range(self.k + 1), key=lambda low: draw_work(
            self.k, low, len(self.basis), self.n_keys[low], len(self.blocks), shots))

    def means(self, columns: np.ndarray, shots: np.ndarray, rng: np.random.Generator,
              states: StateDraws) -> tuple[np.ndarray, np.ndarray]:
        """Sample means and variances of the mean of ``shots[p]`` shots of each sector
        state ``columns[:, p]`` (``states``: their shared state CDF)."""
        low = self.best_low(float(shots.mean()) if shots.size else 0.0)
        if low == 0:
            drawn = self._blockwise(columns, shots, rng, states)
        else:
            if low not in self._built:
                self._built[low] = self._build(low)
            drawn = self._built[low].drawn_values(columns, shots, rng)
        return per_shot_means(drawn, shots)

    def _blockwise(self, columns: np.ndarray, shots: np.ndarray, rng: np.random.Generator,
                   states: StateDraws) -> np.ndarray:
        """``k_L = 0``: a sector row ``d`` drawn from ``ψ_d²`` gives the block (its block's
        marginal is ``Σ_{d ∈ z} ψ_d²``); the block's members then give ``A_L = ±ψ_d`` over
        ``y_R`` for stage 2."""
        row = states.draw(shots, rng)
        block = self.block_of[row]
        n_blocks, n_states = len(self.blocks), len(self.basis)

        def build(keys: np.ndarray) -> np.ndarray:
            point, owner = np.divmod(keys, n_blocks)
            members = self.members[owner]  # (U, width)
            valid = members < n_states
            column_of = np.broadcast_to(np.arange(len(keys))[:, None], members.shape)[valid]
            member = members[valid]
            column = np.zeros((2, 2**self.k, len(keys)))
            column[self.part[member], self.y_r[member], column_of] = (
                self.sign[member] * columns[member, point[column_of]])
            return column

        keys = np.repeat(np.arange(columns.shape[1]) * n_blocks, shots) + block
        x_r = _stage_two(keys, self.k, self.members.shape[1], build, rng)
        return self.values[x_r, block]

    def _build(self, low: int) -> TwoStageDraw:
        high = self.k - low
        n_keys = self.n_keys[low]
        y_low, y_high = self.y_r & (2**low - 1), self.y_r >> low
        first, second = _pairs_within(self._pair_groups(low))
        rows = self.block_of[first] * 2**low + (y_low[first] ^ y_low[second])
        order = np.argsort(rows, kind="stable")  # the products are read in order
        correlation = csr_matrix((np.where(first == second, 1.0, 2.0)[order],
                                  (rows[order], np.arange(len(order)))),
                                 shape=(len(self.blocks) * 2**low, len(order)))

        def per_member(per_state: np.ndarray) -> np.ndarray:  # the padding (row D): 0
            return np.append(per_state, 0)[self.members]

        odd = np.bitwise_count(np.arange(2**low)[None, :, None]
                               & per_member(y_low)[:, None, :]) & 1
        hadamard = np.where(odd, -1, 1).astype(np.int8)  # (Z_p, 2^k_L, width)

        return TwoStageDraw(
            self.k, low, max(1, DRAW_CHUNK_VALUES // (2 * 2**low * (n_keys + 1))),
            self.sign[:, None], (first[order], second[order]), correlation,
            self.members, hadamard, per_member(self.part * 2**high + y_high),
            self.values)


def _pairs_within(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair ``(d, e)`` (``d = e`` included) of indices with the same
    ``group``, each once."""
    order = np.argsort(group, kind="stable")
    _, starts, counts = np.unique(group[order], return_index=True, return_counts=True)
    after = np.repeat(starts + counts, counts) - np.arange(len(order))  # partners from here
    position = np.repeat(np.arange(len(order)), after)
    offset = np.arange(len(position)) - np.repeat(np.cumsum(after) - after, after)
    return order[position], order[position + offset]


def _point_chunks(n_points: int, values_per_point: int) -> list[slice]:
    """Points in chunks of at most ``DRAW_CHUNK_VALUES`` values (at least one point)."""
    step = max(1, DRAW_CHUNK_VALUES // max(1, values_per_point))
    return [slice(a, min(a + step, n_points)) for a in range(0, n_points, step)]


def _padded_rows(owner: np.ndarray, n_owners: int, pad: int) -> np.ndarray:
    """``(n_owners, width)``: the indices ``i`` with ``owner[i] = o`` in row ``o``,
    ascending, padded with ``pad``."""
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=n_owners)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(counts.max(initial=1))[None, :]
    inside = slot < counts[:, None]
    return np.where(inside, order[np.minimum(starts[:, None] + slot, len(order) - 1)], pad)
