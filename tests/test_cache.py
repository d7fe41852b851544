"""Hamiltonian cache: keyed by content, reused, rebuilt when corrupt or changed, clearable."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.chem import cache
from qvopt.chem import problem as problem_module

H2 = """
name = "h2_cached"
basis = "sto-3g"
[geometry]
symbols = ["H", "H"]
coordinates = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.74]]
"""


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QVOPT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "hamiltonians"


def test_second_load_uses_the_cache(tmp_path, isolated_cache, monkeypatch):
    path = tmp_path / "m.toml"
    path.write_text(H2)
    first = qvopt.load_problem(path)
    assert len(list(isolated_cache.glob("*.npz"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("integrals recomputed despite a cache entry")

    monkeypatch.setattr(problem_module, "active_space_integrals", fail)
    second = qvopt.load_problem(path)
    assert second.hamiltonian == first.hamiltonian
    assert second.e_fci == first.e_fci and second.e_hf == first.e_hf
    assert second.hf_occupation == first.hf_occupation


def test_changed_content_gets_a_new_entry(tmp_path, isolated_cache):
    path = tmp_path / "m.toml"
    path.write_text(H2)
    a = qvopt.load_problem(path)
    path.write_text(H2.replace("0.74]", "0.80]"))
    b = qvopt.load_problem(path)
    assert len(list(isolated_cache.glob("*.npz"))) == 2
    assert not np.isclose(a.e_fci, b.e_fci)


def test_corrupt_entry_is_rebuilt(tmp_path, isolated_cache):
    path = tmp_path / "m.toml"
    path.write_text(H2)
    reference = qvopt.load_problem(path)
    entry = next(isolated_cache.glob("*.npz"))
    entry.write_bytes(b"not a zip file")
    again = qvopt.load_problem(path)
    assert again.e_fci == pytest.approx(reference.e_fci)


def test_clear_cache(tmp_path, isolated_cache):
    path = tmp_path / "m.toml"
    path.write_text(H2)
    qvopt.load_problem(path)
    assert cache.clear_cache() == 1
    assert not list(isolated_cache.glob("*.npz"))
    assert cache.cache_dir() == isolated_cache
