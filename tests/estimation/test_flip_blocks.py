"""The flip-block products give the moment method's class probabilities exactly."""

from __future__ import annotations

import numpy as np
import pytest

from qvopt.config import RunConfig
from qvopt.vqe import _Run


@pytest.mark.parametrize("molecule, grouping", [("lih", "sorted_insertion"),
                                                ("lih_fc", "fc")])
def test_flip_blocks_equal_the_sparse_moment_product(molecule, grouping):
    run = _Run(RunConfig(molecule, grouping=grouping, seed=0))
    sampler = run.estimator.sampler
    rng = np.random.default_rng(4)
    points = run.x0 + 0.3 * rng.standard_normal((7, len(run.x0)))
    columns = sampler.engine.sector_columns(points)
    classes = sampler.classes
    assert classes._flip_blocks is not None
    blocks = classes._moment_classes(columns)
    saved, classes._flip_blocks = classes._flip_blocks, None  # the sparse product
    try:
        sparse = classes._moment_classes(columns)
    finally:
        classes._flip_blocks = saved
    assert blocks.shape == sparse.shape and np.allclose(blocks, sparse, atol=1e-13)
    # every moment row is in exactly one block
    rows = np.concatenate([block.rows for block in saved])
    assert np.array_equal(np.sort(rows), np.arange(classes._moment_matrix.shape[0]))
