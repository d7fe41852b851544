"""A large sector set-up is refused from a sample of its groups, before it builds the rest
(H10's dry run reached the running check only after 1 min 47 s); small set-ups take no
sample and are built exactly as before."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.estimation import sector_classes
from qvopt.estimation.sector_classes import SectorClassProbabilities, SetupMemory


def test_a_large_setup_is_refused_from_its_sample():
    terms = np.r_[np.full(100, 40), np.full(2263, 5)]  # large groups first, as sorted
    memory = SetupMemory(terms, 63_504, available=1e8)
    sample = memory.sample()
    assert len(sample) == sector_classes.SAMPLE_GROUPS
    assert sample == sorted(sample) and sample[0] < 100 < sample[-1]  # large and small
    methods = {g: (np.zeros(terms[g] * 100_000 // 8), False) for g in sample}  # 100 kB a term
    assert memory.sample_need(methods) == pytest.approx(100_000 * terms.sum())
    with pytest.raises(qvopt.InputError, match=r"set-up \(2363 groups on 63504 sector "
                                               r"states\) needs about .* from a sample of 24"):
        memory.check_sample(methods)
    SetupMemory(terms, 63_504, available=1e12).check_sample(methods)  # fits: nothing


def test_small_setups_take_no_sample():
    assert SetupMemory(np.full(85, 3), 25, available=1.0).sample() == []  # lih_fc
    assert SetupMemory(np.full(959, 10), 4900, available=1.0).sample() == []  # h8
    SetupMemory(np.full(85, 3), 25, available=1.0).check_sample({})


@pytest.fixture(scope="module")
def lih_fc():
    problem = qvopt.load_problem("lih_fc")
    est = qvopt.Estimator(problem.hamiltonian, qvopt.ansatz.uccsd(problem), shots=100)
    return est


def test_the_sampled_groups_are_built_once_and_kept(lih_fc, monkeypatch):
    """With the sample forced on (lih_fc), the set-up holds the same methods in the same
    order as without it, and refuses from the sample when memory is short."""
    plain = SectorClassProbabilities(lih_fc.observable, lih_fc.engine.basis)
    monkeypatch.setattr(sector_classes, "SAMPLE_FROM", 0)
    monkeypatch.setattr(sector_classes, "SAMPLE_GROUPS", 8)
    built = []
    method = SectorClassProbabilities._method

    def counted(self, g, *args):
        built.append(g)
        return method(self, g, *args)

    monkeypatch.setattr(SectorClassProbabilities, "_method", counted)
    sampled = SectorClassProbabilities(lih_fc.observable, lih_fc.engine.basis)
    assert sorted(built) == list(range(lih_fc.observable.n_groups)) != built  # sample first
    assert [m.group for m in sampled.rotations] == [m.group for m in plain.rotations]
    assert [m.group for m in sampled.moments] == [m.group for m in plain.moments]
    columns = lih_fc.engine.sector_columns(np.zeros((2, lih_fc.n_params)))
    for (g, a), (_, b) in zip(plain.iter_columns(columns), sampled.iter_columns(columns),
                              strict=True):
        assert np.array_equal(a, b), g
    monkeypatch.setattr(sector_classes, "available_memory", lambda: 1e3)
    with pytest.raises(qvopt.InputError, match=r"from a sample of \d+ groups"):
        SectorClassProbabilities(lih_fc.observable, lih_fc.engine.basis)
