"""Shared fixtures: problems and circuits are built once per session (they are immutable)."""

from __future__ import annotations

import pytest

import qvopt


@pytest.fixture(scope="session")
def h2():
    return qvopt.load_problem("h2")


@pytest.fixture(scope="session")
def lih_fc():
    return qvopt.load_problem("lih_fc")


@pytest.fixture(scope="session")
def lih():
    return qvopt.load_problem("lih")


def pytest_configure(config):
    """Keep the test run's Hamiltonian cache out of the user's cache folder."""
    import os
    import tempfile

    os.environ.setdefault("QVOPT_CACHE_DIR", tempfile.mkdtemp(prefix="qvopt-test-cache-"))
