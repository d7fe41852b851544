"""The sector engine's faster paths equal their plain definitions.

* :class:`~qvopt.estimation.sector_draws.TwoStageDraw` computes stage 1's marginal from
  pair correlations and stage 2's columns shot by shot; both are checked against ``A_L``
  built term by term from its definition (every block-rotated group of LiH frozen core,
  every ``k_L``).
"""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.estimation.sector_classes import BlockRotation


@pytest.fixture(scope="module")
def lih_fc():
    problem = qvopt.load_problem("lih_fc")
    circuit = qvopt.ansatz.uccsd(problem)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000)
    points = np.random.default_rng(6).uniform(-1, 1, (3, circuit.num_parameters))
    return est, est.engine.sector_columns(points)


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
