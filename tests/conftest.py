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
