"""Fixtures of the runmeta tests: the backend, and a workspace that is the current folder.

``backend`` (see backend_support.py) makes a test run once on SQLite and once on
PostgreSQL; ``workspace`` and ``service`` use it, so every test built on them runs on
both unless marked ``@pytest.mark.backends("sqlite")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.service import RunSessionService
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


@pytest.fixture
def workspace(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project root that is also the current folder (the CLI's defaults).

    On PostgreSQL, ``RUNMETA_DATABASE_URL`` names the test's database, so that the
    in-process ``runmeta`` finds it as a user's shell would.
    """
    monkeypatch.chdir(backend.root)
    monkeypatch.delenv("COLUMNS", raising=False)
    backend.export(monkeypatch)
    return backend.root


@pytest.fixture
def service(backend: Backend, workspace: Path) -> Iterator[RunSessionService]:
    """A service on the workspace's database, with pinned clock and commit."""
    with backend.open_service(
        workspace,
        clock=FixedClock("2026-02-14T19:30:12+09:00", step=10),
        git_probe=lambda: "abc123",
    ) as opened:
        yield opened
