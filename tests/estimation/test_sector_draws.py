"""Draws of the sector engine are exact multinomials of the exact outcome law.

The inverse-CDF draw and the two-stage draw of block-rotated groups (every ``k_L``) are
checked against exact class probabilities (the block rotation's, themselves checked against
the ``2^n`` trie) with a chi-square test over many shots at fixed seeds; seeded sampling is
reproducible and resumes bit-exactly from a saved generator state.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from qvopt.estimation import sector_draws
from qvopt.estimation.sector_classes import BlockRotation
from qvopt.estimation.sector_draws import StateDraws, inverse_cdf_classes

from .conftest import lih_fc_sector_columns


def _chi_square_p(counts: np.ndarray, probs: np.ndarray) -> float:
    """p-value of ``counts`` against ``probs``; classes expected fewer than 5 times are
    pooled into one bin (as the test's approximation needs)."""
    expected = probs / probs.sum() * counts.sum()
    small = expected < 5
    observed = np.append(counts[~small], counts[small].sum())
    wanted = np.append(expected[~small], expected[small].sum())
    keep = wanted > 0
    return float(chisquare(observed[keep], wanted[keep]).pvalue)


@pytest.mark.parametrize("shots", [[30_000, 0, 20_000], [25_000] * 3])
def test_inverse_cdf_counts_follow_the_probabilities(shots, monkeypatch):
    monkeypatch.setattr(sector_draws, "KEY_CHUNK", 16)  # two columns a chunk
    probs = np.array([[0.2, 0.5, 0.0], [0.0, 0.1, 0.3], [1e-3, 0.1, 0.3], [0.3, 0.0, 0.1],
                      [0.499, 0.3, 0.3 - 1e-17], [0.0, 0.0, -1e-18]])
    shots = np.array(shots)
    drawn = inverse_cdf_classes(probs, shots, np.random.default_rng(5))
    assert len(drawn) == shots.sum()
    for column, part in enumerate(np.split(drawn, np.cumsum(shots)[:-1])):
        counts = np.bincount(part, minlength=len(probs))
        assert np.all(counts[probs[:, column] <= 0] == 0)  # impossible classes never drawn
        if shots[column]:
            assert _chi_square_p(counts, np.clip(probs[:, column], 0, None)) > 1e-3


def test_inverse_cdf_draws_are_reproducible_and_resume():
    probs = np.random.default_rng(0).random((50, 40))
    shots = np.full(40, 7)
    rng = np.random.default_rng(9)
    first = inverse_cdf_classes(probs, shots, rng)
    saved = rng.bit_generator.state
    second = inverse_cdf_classes(probs, shots, rng)
    assert np.array_equal(first, inverse_cdf_classes(probs, shots, np.random.default_rng(9)))
    resumed = np.random.default_rng(0)
    resumed.bit_generator.state = saved
    assert np.array_equal(second, inverse_cdf_classes(probs, shots, resumed))


@pytest.fixture(scope="module")
def lih_fc():
    return lih_fc_sector_columns(4, 2)


def test_two_stage_draws_follow_every_rotated_groups_law(lih_fc):
    """Every block-rotated group, every split ``k_L`` (0: block-wise from the shared state
    CDF): the drawn values' classes against the exact class probabilities."""
    est, columns = lih_fc
    sampler = est.sampler
    rotations = [r for r in sampler.classes.rotations if isinstance(r, BlockRotation)]
    assert {r.k for r in rotations} >= {0, 2, 3, 5}
    shots = np.array([20_000, 20_000])
    rng = np.random.default_rng(21)
    for rotation in rotations:
        g = rotation.group
        plan = sampler._plan(g)
        exact = rotation.probabilities(columns)  # (possible classes, P), vs the trie
        values = sampler.classes.values[g]
        for low in range(plan.k + 1):
            drawn = (plan._blockwise(columns, shots, rng, StateDraws(columns)) if low == 0
                     else plan._build(low).drawn_values(columns, shots, rng))
            classes = np.searchsorted(values, drawn)
            assert np.array_equal(values[classes], drawn)  # a possible class's value
            for p, part in enumerate(np.split(classes, [shots[0]])):
                counts = np.bincount(part, minlength=len(values))
                assert _chi_square_p(counts, exact[:, p]) > 1e-4, (g, low, p)


def test_seeded_sector_sampling_reproduces_and_resumes(lih_fc):
    est, columns = lih_fc
    shots = np.full((columns.shape[1], est.observable.n_groups), 3)
    rng = np.random.default_rng(8)
    est.sampler.sample_columns(columns, shots, rng)
    saved = rng.bit_generator.state
    second = est.sampler.sample_columns(columns, shots, rng)
    resumed = np.random.default_rng(0)
    resumed.bit_generator.state = saved
    again = est.sampler.sample_columns(columns, shots, resumed)
    assert np.array_equal(second.means, again.means)
    assert np.array_equal(second.variances, again.variances, equal_nan=True)


def test_a_column_with_no_probability_is_refused_if_drawn_and_harmless_if_not():
    """A zero (or NaN) column made 0/0 keys that broke the chunk's sorted order, so the
    other columns' draws went wrong silently (review); now it cannot be drawn from."""
    from qvopt.estimation.sector_draws import inverse_cdf_classes

    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    drawn = inverse_cdf_classes(probs, np.array([5, 0, 5]), np.random.default_rng(0))
    assert list(drawn) == [0] * 5 + [2] * 5
    with pytest.raises(ValueError, match="column 1 sum"):
        inverse_cdf_classes(probs, np.array([5, 1, 5]), np.random.default_rng(0))
    probs[:, 1] = np.nan
    with pytest.raises(ValueError, match="column 1 sum"):
        inverse_cdf_classes(probs, np.array([5, 1, 5]), np.random.default_rng(0))


@pytest.mark.parametrize("shots", [40, 2])  # numpy's multinomial; inverse CDF (C > 2 shots)
def test_table_draws_follow_the_class_probabilities(shots):
    """The whole-table route of block-rotated groups with many shots (and of every other
    group): ``draw_class_means`` over exact class probabilities, either branch. Class ``c``
    has value ``(shots + 1)^c``, so each column's sum of values gives back its counts."""
    from qvopt.estimation.sector_sampler import draw_class_means

    laws = np.array([[0.1, 0.25], [0.0, 0.05], [0.3, 0.2], [0.05, 0.2], [0.25, 0.0],
                     [0.3, 0.3]])
    n_points = 4000
    probs = np.tile(laws, n_points // 2)  # columns alternate between the two laws
    values = float(shots + 1) ** np.arange(len(laws))
    means, _ = draw_class_means(probs, values, np.full(n_points, shots),
                                np.random.default_rng(12))
    totals = np.rint(means * shots).astype(np.int64)
    counts = np.stack([totals // (shots + 1)**c % (shots + 1) for c in range(len(laws))])
    assert np.all(counts.sum(axis=0) == shots)
    for law in range(2):
        observed = counts[:, law::2].sum(axis=1)
        assert np.all(observed[laws[:, law] == 0] == 0)
        assert _chi_square_p(observed, laws[:, law]) > 1e-3


def test_each_rotated_group_takes_the_cheaper_route_for_the_shots(lih_fc):
    """Few shots a point: the two-stage draw (the seeded streams of few-shot batches stay
    as they were); many: the whole table and numpy's multinomial, so at 1000 shots every
    group is drawn exactly as the table-only sampler drew it (bit-identical)."""
    from qvopt.estimation.sector_draws import TABLE_MIN_SHOTS
    from qvopt.estimation.sector_sampler import draw_class_means

    est, columns = lih_fc
    sampler = est.sampler
    n_points = columns.shape[1]
    rotations = [r for r in sampler.classes.rotations if isinstance(r, BlockRotation)]
    for rotation in rotations:
        plan = sampler._plan(rotation.group)
        assert not plan.prefers_table(rotation, n_points, TABLE_MIN_SHOTS - 1)
        assert plan.prefers_table(rotation, n_points, 1000.0)
        assert plan.seconds(n_points, 1.0) < plan.seconds(n_points, 1000.0)
    got = sampler.sample_columns(columns, 1000, np.random.default_rng(6))
    rng = np.random.default_rng(6)
    for g, probs in sampler.classes.iter_columns(columns):
        mean, variance = draw_class_means(probs, sampler.classes.values[g],
                                          np.full(n_points, 1000), rng)
        assert np.array_equal(got.means[:, g], mean)
        assert np.array_equal(got.variances[:, g], variance, equal_nan=True)
