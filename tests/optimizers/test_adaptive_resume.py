"""iCANS, gCANS, Rotosolve, NFT and momentum-QNG resume from a checkpoint exactly."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt


@pytest.mark.parametrize("name", ["icans", "gcans", "rosalin", "rotosolve", "nft", "momentum-qng"])
def test_resumed_run_equals_uninterrupted_run(h2, tmp_path, name):
    full = qvopt.vqe(h2, optimizer=name, shots=50, seed=4, maxiter=8)
    checkpoint = tmp_path / "run.npz"
    qvopt.vqe(h2, optimizer=name, shots=50, seed=4, maxiter=3, checkpoint=str(checkpoint))
    resumed = qvopt.resume(checkpoint, maxiter=8)
    assert np.allclose(full.x, resumed.x)
    assert full.shots_used == resumed.shots_used
