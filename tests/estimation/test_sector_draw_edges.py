"""Edge cases of the sector engine's two-stage draws (:mod:`qvopt.estimation.sector_draws`).

* A chunk of points without shots draws nothing (it crashed in stage 2's empty bincount).
* Stage 2 works in slices of the draw's key chunks and forms each distinct column of a
  slice once, bounded by ``STAGE_TWO_VALUES``: bit for bit the draw of one column a shot.
* A shot whose ``(z, x_L)`` has a positive marginal only by rounding (its stage-2 column is
  exactly 0) takes ``x_H = 0`` and keeps the stream.
"""

from __future__ import annotations

import numpy as np
import pytest

from qvopt.estimation import sector_draws
from qvopt.estimation.sector_classes import BlockRotation
from qvopt.estimation.sector_draws import (
    StateDraws,
    TwoStageDraw,
    TwoStagePlan,
    finish_transform,
    inverse_cdf_classes,
)

from .conftest import lih_fc_sector_columns


@pytest.fixture(scope="module")
def lih_fc():
    return lih_fc_sector_columns(3, 6, reference_last=True)


def _plan(est, k: int) -> TwoStagePlan:
    """A fresh plan (its draws built under the test's constants) of a rotated group."""
    rotation = next(r for r in est.sampler.classes.rotations
                    if isinstance(r, BlockRotation) and r.k == k)
    g = rotation.group
    return TwoStagePlan(est.observable.grouped.groups[g], est.observable.classes[g],
                        est.engine.basis)


def _one_column_a_shot(draw: TwoStageDraw, columns, shots, rng) -> np.ndarray:
    """The draw as it was before slicing (one chunk of points): every shot's column formed
    and transformed on its own, one ``finish_transform`` of all of them."""
    signed = columns * draw.sign
    first = inverse_cdf_classes(draw.marginal(signed), shots, rng)
    block, x_low = np.divmod(first, 2**draw.low)
    point = np.repeat(np.arange(columns.shape[1]), shots)
    column = draw.columns(signed, block, x_low, point)
    x_high = finish_transform(column, draw.k - draw.low, rng)
    return draw.values[x_high * 2**draw.low + x_low, block]


def test_a_chunk_without_shots_draws_nothing(lih_fc, monkeypatch):
    """Zero counts are normal (weighted random term sampling, few shots a point): a chunk
    whose points have none crashed (int64 bincount into the butterflies). It draws no
    uniform, so the stream is that of the batch without those points."""
    est, columns = lih_fc
    plan = _plan(est, 5)
    values_per_point = 2 * 2**2 * (plan.n_keys[2] + 1)
    monkeypatch.setattr(sector_draws, "DRAW_CHUNK_VALUES", 2 * values_per_point)
    draw = plan._build(2)  # k_L = 2, k_H = 3: both stages
    assert draw.step == 2  # chunks: points 0-1, 2-3, 4-5
    shots = np.array([4, 7, 0, 0, 3, 9])
    rng = np.random.default_rng(5)
    drawn = draw.drawn_values(columns, shots, rng)
    kept = [0, 1, 4, 5]
    rng_kept = np.random.default_rng(5)
    assert np.array_equal(drawn, draw.drawn_values(columns[:, kept], shots[kept], rng_kept))
    assert rng.bit_generator.state == rng_kept.bit_generator.state
    assert len(draw.drawn_values(columns, np.zeros(6, dtype=np.int64), rng)) == 0
    states = StateDraws(columns)
    assert len(plan._blockwise(columns, np.zeros(6, dtype=np.int64), rng, states)) == 0
    means, _ = plan.means(columns, shots, np.random.default_rng(1), states)
    assert np.all(np.isnan(means[shots == 0]) | (means[shots == 0] == 0))


def test_stage_two_is_sliced_bounded_and_bit_identical(lih_fc, monkeypatch):
    """Many shots a point: stage 2 forms at most ``STAGE_TWO_VALUES`` member values at a
    time (one column at least), each distinct (point, block, x_L) of a slice once, in
    slices of the draw's key chunks; the drawn values and the generator's state equal
    those of one column a shot in one piece."""
    est, columns = lih_fc
    plan = _plan(est, 5)
    shots = np.array([700, 0, 1500, 3, 900, 2000])
    for low in (1, 2, 4):
        draw = plan._build(low)
        assert draw.step >= columns.shape[1]  # one chunk of points
        expected_rng = np.random.default_rng(low)
        expected = _one_column_a_shot(draw, columns, shots, expected_rng)

        width = draw.members.shape[1]
        formed: list[int] = []
        original = TwoStageDraw.columns

        def counted(self, signed, block, x_low, point, original=original):
            formed.append(len(block))
            return original(self, signed, block, x_low, point)

        monkeypatch.setattr(TwoStageDraw, "columns", counted)
        monkeypatch.setattr(sector_draws, "KEY_CHUNK", 2**(draw.k - draw.low) * 300)
        monkeypatch.setattr(sector_draws, "STAGE_TWO_VALUES", 40 * width)
        rng = np.random.default_rng(low)
        got = draw.drawn_values(columns, shots, rng)
        monkeypatch.undo()

        assert np.array_equal(got, expected)
        assert rng.bit_generator.state == expected_rng.bit_generator.state
        assert max(formed) * (width + 2 * 2**(draw.k - low)) <= max(
            40 * width, width + 2 * 2**(draw.k - low))
        # each slice (300 shots) forms its distinct columns only: far fewer than shots
        assert sum(formed) < shots.sum() / 4
        assert len(formed) > shots.sum() / 300  # several slices


def test_blockwise_stage_two_is_sliced_bit_identically(lih_fc, monkeypatch):
    est, columns = lih_fc
    plan = _plan(est, 5)
    shots = np.array([300, 1, 0, 250, 40, 600])
    states = StateDraws(columns)
    expected_rng = np.random.default_rng(2)
    expected = plan._blockwise(columns, shots, expected_rng, states)
    monkeypatch.setattr(sector_draws, "KEY_CHUNK", 2**plan.k * 50)
    monkeypatch.setattr(sector_draws, "STAGE_TWO_VALUES", 7 * 2 * 2**plan.k)
    rng = np.random.default_rng(2)
    assert np.array_equal(plan._blockwise(columns, shots, rng, states), expected)
    assert rng.bit_generator.state == expected_rng.bit_generator.state


def test_a_column_that_is_exactly_zero_falls_in_class_zero_and_keeps_the_stream():
    column = np.zeros((2, 4, 2))
    column[0, 0, 1] = 1.0  # column 1: a uniform law after the butterflies; column 0 none
    rng = np.random.default_rng(4)
    drawn = finish_transform(column, 2, rng, np.array([0, 1, 0, 0, 1]))
    assert list(drawn[[0, 2, 3]]) == [0, 0, 0]
    reference = np.random.default_rng(4)
    reference.integers(0, 2**52, size=5, dtype=np.int64)
    assert rng.bit_generator.state == reference.bit_generator.state
    nan = np.full((2, 4, 1), np.nan)
    with pytest.raises(ValueError, match="nothing to draw from"):
        finish_transform(nan, 2, np.random.default_rng(4))
    with pytest.raises(ValueError, match="nothing to draw from"):  # stage 1 still refuses
        inverse_cdf_classes(np.zeros((3, 1)), np.array([2]), np.random.default_rng(0))


def test_a_rounding_marginal_on_a_structurally_zero_outcome_draws_x_high_zero(
        lih_fc, monkeypatch):
    """Constructed: the reference state's marginal replaced by one with all its weight on a
    (z, x_L) of a block without the state (a rounding residue of 1e-300): its stage-2
    column is exactly 0, so each shot takes x_H = 0 (it raised "nothing to draw from");
    two uniforms a shot are used, as always."""
    est, columns = lih_fc
    reference = columns[:, 5:6]
    plan = _plan(est, 5)
    draw = plan._build(2)
    state = int(np.flatnonzero(reference[:, 0])[0])
    empty_block = (plan.block_of[state] + 1) % len(plan.blocks)
    row = empty_block * 2**draw.low + 3  # x_L = 3

    def residue(self, signed):
        out = np.zeros((self.correlation.shape[0], signed.shape[1]))
        out[row] = 1e-300
        return out

    monkeypatch.setattr(TwoStageDraw, "marginal", residue)
    signed = reference * draw.sign
    column = draw.columns(signed, np.array([empty_block]), np.array([3]), np.array([0]))
    assert not column.any()
    rng = np.random.default_rng(8)
    drawn = draw.drawn_values(reference, np.array([5]), rng)
    assert np.array_equal(drawn, np.full(5, draw.values[0 * 2**draw.low + 3, empty_block]))
    used = np.random.default_rng(8)
    used.integers(0, 2**52, size=5, dtype=np.int64)
    used.integers(0, 2**52, size=5, dtype=np.int64)
    assert rng.bit_generator.state == used.bit_generator.state
