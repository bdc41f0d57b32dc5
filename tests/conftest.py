"""pytest fixtures; the helpers live in tests/_refs.py so test modules can import them."""

from __future__ import annotations

import pytest

from _refs import load_oracle, load_r_refs


@pytest.fixture(scope="session")
def oracle() -> dict:
    return load_oracle()


@pytest.fixture(scope="session")
def r_refs() -> dict:
    return load_r_refs()
