"""The sector engine's faster paths equal their plain definitions.

* :class:`~qvopt.estimation.sector_draws.TwoStageDraw` computes stage 1's marginal from
  pair correlations and stage 2's columns shot by shot; both are checked against ``A_L``
  built term by term from its definition (every block-rotated group of LiH frozen core,
  every ``k_L``).
* :meth:`~qvopt.estimation.sector.SectorEngine.sector_columns` rotates a parameter-shift
  batch from its base (the shared angles) even when the unshifted point is not in the
  batch: bit for bit the states of one point at a time, about half the columns a gate.
"""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.estimation.sector import SectorEngine
from qvopt.estimation.sector_classes import BlockRotation

from .conftest import lih_fc_sector_columns


@pytest.fixture(scope="module")
def lih_fc():
    return lih_fc_sector_columns(6, 3)


def _partial_transform(plan, low: int, columns: np.ndarray) -> np.ndarray:
    """``A_L[part, z, y_H, x_L, p]`` from its definition, one sector state at a time."""
    high = plan.k - low
    out = np.zeros((2, len(plan.blocks), 2**high, 2**low, columns.shape[1]))
    x = np.arange(2**low)
    for d in range(len(plan.basis)):
        y_low, y_high = plan.y_r[d] & (2**low - 1), plan.y_r[d] >> low
        hadamard = (-1.0) ** (np.bitwise_count(x & y_low) & 1)
        out[plan.part[d], plan.block_of[d], y_high] += (
            hadamard[:, None] * plan.sign[d] * columns[d][None, :])
    return out


def test_two_stage_marginal_and_columns_equal_the_partial_transform(lih_fc):
    est, columns = lih_fc
    sampler = est.sampler
    rotations = [r for r in sampler.classes.rotations if isinstance(r, BlockRotation)]
    checked = 0
    rng = np.random.default_rng(3)
    for rotation in rotations:
        plan = sampler._plan(rotation.group)
        for low in range(1, plan.k + 1):
            draw = plan._build(low)
            partial = _partial_transform(plan, low, columns)
            signed = columns * draw.sign
            # stage 1: Σ_{y_H, part} A_L², row z · 2^k_L + x_L
            expected = np.square(partial).sum(axis=(0, 2)).reshape(-1, columns.shape[1])
            assert np.allclose(draw.marginal(signed), expected, rtol=0, atol=1e-13)
            if low == plan.k:
                continue
            # stage 2: the column of A_L over y_H at each shot's (z, x_L, point)
            n_shots = 40
            block = rng.integers(0, len(plan.blocks), n_shots)
            x_low = rng.integers(0, 2**low, n_shots)
            point = rng.integers(0, columns.shape[1], n_shots)
            got = draw.columns(signed, block, x_low, point)
            assert got.shape == (2, 2**(plan.k - low), n_shots)
            wanted = partial[:, block, :, x_low, point]  # (S, 2, 2^k_H)
            assert np.allclose(got, wanted.transpose(1, 2, 0), rtol=0, atol=1e-13)
            checked += 1
    assert checked >= 10


def _shift_batch(x0: np.ndarray, params) -> np.ndarray:
    """The parameter-shift points of ``params`` around ``x0``, without ``x0`` itself."""
    points = []
    for j in params:
        for shift in (np.pi / 2, -np.pi / 2, 3 * np.pi / 2, -3 * np.pi / 2):
            x = x0.copy()
            x[j] += shift
            points.append(x)
    return np.array(points)


def test_a_shift_batch_without_its_centre_rotates_from_its_base_bit_exactly(monkeypatch):
    problem = qvopt.load_problem("lih")
    circuit = qvopt.ansatz.uccsd(problem)
    engine = SectorEngine(circuit)
    x0 = np.random.default_rng(1).uniform(-1, 1, circuit.num_parameters)
    batch = _shift_batch(x0, range(circuit.num_parameters))
    one_by_one = np.stack([engine.sector_columns(x[None])[:, 0] for x in batch], axis=1)
    widths: list[int] = []
    rotate = SectorEngine._rotate

    def counting(columns, table, c, s):
        widths.append(columns.shape[1])
        rotate(columns, table, c, s)

    monkeypatch.setattr(SectorEngine, "_rotate", staticmethod(counting))
    assert np.array_equal(engine.sector_columns(batch), one_by_one)
    n_gates = len(engine.pairs)
    assert len(widths) == n_gates
    # one gate a parameter: the points of parameter j join at gate j, the base throughout
    assert sum(widths) == n_gates + 4 * sum(n_gates - j for j in range(n_gates))
    assert sum(widths) < 0.55 * len(batch) * n_gates


def test_the_base_is_an_extra_column_only_where_it_saves_work(monkeypatch):
    """A point equal to the base is the base (no extra column); a batch without a shared
    angle keeps the first point's scheme; a single point rotates one column."""
    problem = qvopt.load_problem("lih_fc")
    circuit = qvopt.ansatz.uccsd(problem)
    engine = SectorEngine(circuit)
    n_gates = len(engine.pairs)
    rng = np.random.default_rng(2)
    x0 = rng.uniform(-1, 1, circuit.num_parameters)
    shifts = _shift_batch(x0, range(circuit.num_parameters))
    cases = {  # batch -> columns rotated over all gates
        "single": (x0[None], n_gates),
        "shifts and centre": (np.vstack([shifts, x0]),
                              n_gates + 4 * sum(n_gates - j for j in range(n_gates))),
        "random": (rng.uniform(-1, 1, (3, circuit.num_parameters)), 3 * n_gates),
    }
    rotate = SectorEngine._rotate
    for name, (batch, work) in cases.items():
        one_by_one = np.stack([engine.sector_columns(x[None])[:, 0] for x in batch], axis=1)
        widths: list[int] = []

        def counting(columns, table, c, s, widths=widths):
            widths.append(columns.shape[1])
            rotate(columns, table, c, s)

        monkeypatch.setattr(SectorEngine, "_rotate", staticmethod(counting))
        assert np.array_equal(engine.sector_columns(batch), one_by_one), name
        monkeypatch.setattr(SectorEngine, "_rotate", staticmethod(rotate))
        assert sum(widths) == work, name
