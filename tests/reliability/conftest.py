"""Fixtures of the reliability tests: the backend (SQLite, or PostgreSQL) of a test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runmeta.backend_support import (
    Backend,
    make_backend,
    parametrize_backend,
    register_markers,
)


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``backends`` marker."""
    register_markers(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``backend`` over SQLite and PostgreSQL (as its marks allow)."""
    parametrize_backend(metafunc)


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The run history of this test: ``tmp_path``'s SQLite file, or a PostgreSQL database."""
    yield from make_backend(request, tmp_path)
