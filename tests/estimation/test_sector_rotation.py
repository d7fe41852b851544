"""Block rotations of the sector engine: exact for every split into dense and butterfly
bits, and the sampler holds one group's class table at a time.

Class probabilities are compared with the ``2^n`` rotation trie (complex128, 1e-12), for
each number ``k_L`` of low rotated bits done by dense products (0: scatter and butterflies
only; ``k``: one dense product, no butterflies).
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import qvopt
from qvopt.estimation.sector_classes import SectorClassProbabilities, block_rotation


@pytest.fixture(scope="module")
def lih():
    """LiH's estimator, its sector tables and five random sector states."""
    problem = qvopt.load_problem("lih")
    circuit = qvopt.ansatz.uccsd(problem)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000)
    points = np.random.default_rng(11).uniform(-np.pi, np.pi, (5, circuit.num_parameters))
    tables = SectorClassProbabilities(est.observable, est.engine.basis)
    return est, tables, points


def _trie(est, points) -> dict[int, np.ndarray]:
    """``{g: (P, C_g)}`` class probabilities from the 2^n rotation trie."""
    states = est.engine.embed(est.engine.sector_states(points))
    return {k: est.observable.classes[k].probabilities(probs)
            for k, probs in est.observable.program.run(states)}


def test_every_split_of_the_rotation_equals_the_trie(lih):
    est, tables, points = lih
    expected = _trie(est, points)
    columns = est.engine.sector_columns(points)
    groups = est.observable.grouped.groups
    rotations = sorted(tables.rotations, key=lambda r: -r.k)[:4]  # the most rotated
    assert max(r.k for r in rotations) >= 4
    for rotation in rotations:
        g = rotation.group
        for low in range(rotation.k + 1):
            split = block_rotation(g, groups[g], est.observable.classes[g],
                                   tables.basis, low=low)
            assert split.low == low and np.array_equal(split.possible, rotation.possible)
            probs = split.probabilities(columns).T
            assert np.max(np.abs(probs - expected[g][:, rotation.possible])) < 1e-12, (g, low)


def test_groups_come_one_at_a_time_in_order(lih):
    est, tables, points = lih
    columns = est.engine.sector_columns(points)
    seen = [g for g, _ in tables.iter_columns(columns)]
    assert seen == list(range(est.observable.n_groups))
    together = tables.probabilities_columns(columns)
    for g, probs in tables.iter_columns(columns):
        assert np.array_equal(probs, together[g])


def test_sampling_holds_one_group_table_at_a_time(lih, monkeypatch):
    """While a group is drawn, at most three class tables are alive: the moment groups'
    stacked table, the previous group's and this one's (an all-groups-first sampler held
    every group's table, 2.7 GB on H8), and the draws are those of the tables at once."""
    from qvopt.estimation import sector_sampler

    est, _, points = lih
    sampler = est.sampler
    columns = est.engine.sector_columns(np.repeat(points, 4, axis=0))
    alive_counts, tables = [], []
    draw = sector_sampler.sample_class_means

    def counting(probs, values, shots, rng):
        base = probs.base if probs.base is not None else probs
        if not any(ref() is base for ref in tables):
            tables.append(weakref.ref(base))
        alive_counts.append(sum(ref() is not None for ref in tables))
        return draw(probs, values, shots, rng)

    monkeypatch.setattr(sector_sampler, "sample_class_means", counting)
    moments = sampler.sample_columns(columns, 1000, np.random.default_rng(3))
    assert len(alive_counts) == est.observable.n_groups and max(alive_counts) <= 3
    assert len(tables) > len(sampler.classes.rotations)
    monkeypatch.undo()
    rng = np.random.default_rng(3)  # the same draws from the tables computed at once
    for g, probs in enumerate(sampler.classes.probabilities_columns(columns)):
        mean, _ = draw(probs.T, sampler.classes.values[g], 1000, rng)
        assert np.array_equal(mean, moments.means[:, g])


def test_sector_hamiltonian_in_parts_equals_the_whole_matrix(lih, monkeypatch):
    """``Re(P_S H P_S)`` summed over parts of few flip masks is the block of the whole
    ``2^n`` matrix (to rounding), whatever the part size."""
    from qvopt.estimation import sector_sampler

    est, tables, _ = lih
    hamiltonian = est.sampler.hamiltonian
    whole = hamiltonian.to_matrix(sparse=True).tocsr()[tables.basis][:, tables.basis].real
    for flips in (1, 7, 10**6):
        monkeypatch.setattr(sector_sampler, "FLIPS_PER_PART", flips)
        parts = sector_sampler.sector_hamiltonian(hamiltonian, tables.basis)
        assert abs(parts - whole).max() < 1e-12
