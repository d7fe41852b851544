"""Outcome tables beyond the kept budget are rebuilt on use, identically (issue 22: H10's
2,363 groups × 2^20 outcomes would keep 9.9 GB)."""

import numpy as np
import pytest

import qvopt
from qvopt.estimation import observable as observable_module
from qvopt.estimation.grouping import outcome_classes
from qvopt.estimation.observable import OutcomeTables, check_table_memory


@pytest.fixture(scope="module")
def lih_fc():
    return qvopt.load_problem("lih_fc")


def test_tables_beyond_the_budget_are_rebuilt_equal(lih_fc):
    est = qvopt.Estimator(lih_fc.hamiltonian, qvopt.ansatz.uccsd(lih_fc), shots=100)
    groups = est.observable.grouped.groups
    n = lih_fc.n_qubits
    tables = OutcomeTables(groups, n, keep_bytes=3 * 4 * 2**n)
    assert tables.kept_groups == 3 and len(tables) == len(groups)
    for k in (0, 2, 3, len(groups) - 1, -1):
        expected = outcome_classes(groups[k], n)
        assert np.array_equal(tables[k].labels, expected.labels)
        assert np.array_equal(tables[k].values, expected.values)
    assert tables[0] is tables[0] and tables[3] is not tables[3]  # kept / rebuilt
    assert len(tables[1:4]) == 3
    with pytest.raises(IndexError):
        tables[len(groups)]


@pytest.mark.parametrize("engine", ["sector", "aer"])
def test_seeded_sampling_is_the_same_with_no_table_kept(lih_fc, monkeypatch, engine):
    """Keeping no table changes nothing drawn: same tables, same stream."""
    def draws():
        est = qvopt.Estimator(lih_fc.hamiltonian, qvopt.ansatz.uccsd(lih_fc), shots=50,
                              seed=3, engine=engine)
        x = np.linspace(-0.1, 0.1, est.n_params)
        return est.gradient(x).value, est.energy(x).value

    kept = draws()
    monkeypatch.setattr(observable_module.OutcomeTables.__init__, "__defaults__", (0,))
    rebuilt = draws()
    assert np.array_equal(kept[0], rebuilt[0]) and kept[1] == rebuilt[1]


def test_the_refusal_counts_kept_tables_and_one_being_built(monkeypatch):
    h10_like = type("G", (), {"n_qubits": 20, "n_groups": 2363})()
    monkeypatch.setattr(observable_module, "refuse_unless_fits",
                        lambda need, *a, **k: seen.append(need))
    seen: list[float] = []
    check_table_memory(h10_like)  # type: ignore[arg-type]
    assert seen[0] == pytest.approx(256 * 2**20 * 4 + 2**20 * 66)


def test_sector_setup_that_will_not_fit_is_refused_while_it_is_built(lih_fc, monkeypatch):
    """The sector engine's set-up extrapolates what its first groups hold to all groups and
    refuses with one line before it has built them all (H10: 27 GB projected)."""
    from qvopt.estimation import sector_classes

    est = qvopt.Estimator(lih_fc.hamiltonian, qvopt.ansatz.uccsd(lih_fc), shots=100,
                          engine="sector")
    x = np.zeros(est.n_params)
    monkeypatch.setattr(sector_classes, "available_memory", lambda: 1e4)
    with pytest.raises(qvopt.InputError, match=r"the sector engine's set-up \(\d+ groups on "
                                               r"\d+ sector states\) needs about .* held by "
                                               r"the first 32 groups"):
        est.energy(x)
    calls = []
    monkeypatch.setattr(sector_classes, "available_memory", lambda: 1e12)
    monkeypatch.setattr(sector_classes, "refuse_unless_fits",
                        lambda need, *a, **k: calls.append(need))
    est = qvopt.Estimator(lih_fc.hamiltonian, qvopt.ansatz.uccsd(lih_fc), shots=100,
                          engine="sector")
    est.energy(x)
    n_groups = est.grouped.n_groups
    assert len(calls) == 1 + (n_groups - 32) // 16 and 0 < calls[-1] < 1e8


def test_held_bytes_follows_dataclasses_lists_and_sparse_matrices():
    from dataclasses import dataclass

    from scipy.sparse import csr_matrix

    from qvopt.estimation.sector_classes import held_bytes

    @dataclass
    class Held:
        a: np.ndarray
        parts: list
        name: str

    m = csr_matrix(np.eye(4))
    held = Held(np.zeros(10), [np.zeros(3, np.int32), (m,)], "x")
    assert held_bytes(held) == 80 + 12 + m.data.nbytes + m.indices.nbytes + m.indptr.nbytes


def test_the_2n_paths_keep_every_table_after_checking_they_fit(lih_fc, monkeypatch):
    """Aer's path reads every table for every block of points: it keeps them all, and is
    refused up front (all tables at 4 bytes an outcome) when they cannot fit."""
    import qvopt.memory

    est = qvopt.Estimator(lih_fc.hamiltonian, qvopt.ansatz.uccsd(lih_fc), shots=10,
                          engine="aer")
    tables = est.observable.classes
    tables.kept_groups = 1  # as if the budget kept one
    g, n = est.grouped.n_groups, lih_fc.n_qubits
    monkeypatch.setattr(qvopt.memory, "available_memory", lambda: g * 2**n * 4 / 0.8 * 0.99)
    with pytest.raises(qvopt.InputError, match=rf"outcome tables: {g} kept × 2\^{n}"):
        est.energy(np.zeros(est.n_params))
    monkeypatch.setattr(qvopt.memory, "available_memory", lambda: 1e12)
    est.energy(np.zeros(est.n_params))
    assert tables.kept_groups == g and tables[5] is tables[5]
