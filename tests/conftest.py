"""Fixtures shared by every test folder: a real PostgreSQL server for the ``postgres`` tests.

``postgres_server`` starts one server per test session with the development dependency
``pgserver`` (it ships the PostgreSQL binaries), in a temporary folder, and stops it at
the end; ``postgres_url`` gives each test a fresh, empty database on it. A server that
cannot start fails those tests with the reason: they never skip silently. Every test
that uses ``postgres_url`` is marked ``postgres``, so ``-m "not postgres"`` leaves them
out (and never starts the server).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_server_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test follows a ``RUNMETA_DATABASE_URL`` of the shell that runs pytest (a test
    that wants a server sets it itself, e.g. through the ``backend`` fixture)."""
    monkeypatch.delenv("RUNMETA_DATABASE_URL", raising=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a PostgreSQL database ``postgres``."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A PostgreSQL server of this test session (``pgserver``), stopped at the end."""
    folder: Path = tmp_path_factory.mktemp("postgres")
    try:
        with warnings.catch_warnings():
            # platformdirs warns, at pgserver's import, that XDG_RUNTIME_DIR is unset.
            warnings.simplefilter("ignore")
            import pgserver  # noqa: PLC0415 - a development dependency, loaded only here

            server = pgserver.get_server(folder, cleanup_mode="stop")
    except Exception as err:  # any reason is reported, never skipped
        pytest.fail(
            f"cannot start the PostgreSQL test server (pgserver in {folder}): "
            f"{type(err).__name__}: {err}; deselect these tests with -m 'not postgres'",
            pytrace=False,
        )
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """The URL of a fresh, empty database (``test_<n>``) on the test server."""
    import psycopg  # noqa: PLC0415 - the postgres extra, a development dependency

    name = f"test_{next(_DATABASE_NUMBERS)}"
    with psycopg.connect(postgres_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url: str = postgres_server.get_uri(name)
    return url
