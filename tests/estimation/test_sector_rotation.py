"""Block rotations of the sector engine: exact for every split into dense and butterfly
bits, and the sampler holds at most one group's class table at a time.

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
    """While a group is drawn, at most two class tables are alive: the moment groups'
    stacked table and this group's (an all-groups-first sampler held every group's table,
    2.7 GB on H8); with few shots block-rotated groups draw their shots without any table
    (:mod:`qvopt.estimation.sector_draws`), with many from their own table, one at a
    time too."""
    from qvopt.estimation import sector_sampler
    from qvopt.estimation.sector_classes import BlockRotation

    est, _, points = lih
    sampler = est.sampler
    columns = est.engine.sector_columns(np.repeat(points, 4, axis=0))
    alive_counts, tables = [], []
    draw = sector_sampler.draw_class_means

    def counting(probs, values, shots, rng):
        base = probs.base if probs.base is not None else probs
        if not any(ref() is base for ref in tables):
            tables.append(weakref.ref(base))
        alive_counts.append(sum(ref() is not None for ref in tables))
        return draw(probs, values, shots, rng)

    def refused(self, columns):
        raise AssertionError("a block rotation's whole table was computed")

    monkeypatch.setattr(sector_sampler, "draw_class_means", counting)
    with monkeypatch.context() as patched:
        patched.setattr(BlockRotation, "probabilities", refused)
        sampler.sample_columns(columns, 3, np.random.default_rng(3))
    rotated = sum(isinstance(r, BlockRotation) for r in sampler.classes.rotations)
    assert len(alive_counts) == est.observable.n_groups - rotated > 0
    assert max(alive_counts) <= 2
    alive_counts.clear()
    sampler.sample_columns(columns, 1000, np.random.default_rng(3))  # tables: cheaper
    assert len(alive_counts) == est.observable.n_groups
    assert max(alive_counts) <= 2


def test_sector_hamiltonian_equals_the_whole_matrix(lih):
    """``Re(P_S H P_S)`` from the terms' elements between sector states is the block of the
    whole ``2^n`` matrix (to rounding)."""
    from qvopt.estimation import sector_sampler

    est, tables, _ = lih
    hamiltonian = est.sampler.hamiltonian
    whole = hamiltonian.to_matrix(sparse=True).tocsr()[tables.basis][:, tables.basis].real
    assert abs(sector_sampler.sector_hamiltonian(hamiltonian, tables.basis) - whole).max() \
        < 1e-12
