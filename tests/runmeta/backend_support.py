"""The two run-history backends the repository, service and CLI tests run against.

A test that asks for the ``backend`` fixture (directly, or through ``workspace`` or
``service`` in conftest.py) runs twice: ``[sqlite]`` on the default database file of
its ``tmp_path`` project, and ``[postgres]`` on a fresh, empty PostgreSQL database of
the test server (``postgres_url``, from tests/conftest.py, requested only by that
variant, so that ``-k sqlite`` never starts the server).

A test that only makes sense on SQLite (file paths, PRAGMAs, WAL, integrity checks,
rebuild, file modes, locked or damaged files, old SQLite schema versions, query plans),
or that never reaches a database at all, says so with ``@pytest.mark.backends("sqlite")``
and then runs once, as ``[sqlite]``. Variants are parameters of one test, never copies.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from monocycle_nash.runmeta.backends import URL_VARIABLE, DatabaseUrl, connect
from monocycle_nash.runmeta.db import DEFAULT_DB_PATH
from monocycle_nash.runmeta.service import RunSessionService

BackendKind = Literal["sqlite", "postgres"]
BACKENDS: tuple[BackendKind, ...] = ("sqlite", "postgres")

_MARKER = "backends"


@dataclass(frozen=True, slots=True)
class Backend:
    """Where a test's run history lives: ``root``'s SQLite file or a PostgreSQL database.

    ``root`` is the test's project root (its ``tmp_path``); on SQLite the database is
    the default one below it, ``root/.runmeta/run_history.db`` (``db_path``), which is
    also what the CLI finds from ``root`` as the current folder.
    """

    kind: BackendKind
    root: Path
    database_url: str | None = None

    @property
    def db_path(self) -> Path | None:
        """The SQLite database file; ``None`` on PostgreSQL."""
        return self.root / DEFAULT_DB_PATH if self.kind == "sqlite" else None

    def open_service(self, root: str | Path | None = None, **options: Any) -> RunSessionService:
        """``RunSessionService.open`` of the project at ``root`` (default: ``self.root``).

        On SQLite the database is ``root``'s default one; on PostgreSQL the test's
        database, whatever ``root``. ``options`` go to ``open`` unchanged.
        """
        where = self.root if root is None else root
        if self.database_url is not None:
            options = {"database_url": self.database_url, **options}
        return RunSessionService.open(where, **options)

    def cli_options(self) -> list[str]:
        """The ``runmeta`` options naming this database: ``--db-path`` or ``--db-url``."""
        if self.database_url is not None:
            return ["--db-url", self.database_url]
        return ["--db-path", str(self.db_path)]

    def env(self) -> dict[str, str]:
        """This process's environment for a child, ``RUNMETA_DATABASE_URL`` set or absent.

        With it absent, a process whose current folder (or ``--root``) is ``root`` uses
        the default SQLite file there.
        """
        env = dict(os.environ)
        env.pop(URL_VARIABLE, None)
        if self.database_url is not None:
            env[URL_VARIABLE] = self.database_url
        return env

    def export(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make this database the one this process and its children find by default.

        On PostgreSQL ``RUNMETA_DATABASE_URL`` names it: ``RunSessionService.open(root)``,
        ``runmeta`` in-process or as a command and the workers all use it, as in a
        user's shell. On SQLite nothing changes: each finds the default file of its root.
        """
        if self.database_url is not None:
            monkeypatch.setenv(URL_VARIABLE, self.database_url)

    def driver_error(self, message: str) -> Exception:
        """An operational error of this backend's driver (sqlite3 or psycopg), as it raises them."""
        if self.kind == "sqlite":
            return sqlite3.OperationalError(message)
        import psycopg  # noqa: PLC0415 - the optional driver, only for PostgreSQL variants

        return psycopg.OperationalError(message)

    def delete_run_row_unchecked(self, run_id: int) -> None:
        """Delete a run's row as a user's own SQL shell could, its foreign keys not enforced.

        SQLite's shell leaves foreign keys off; on PostgreSQL a superuser (the test
        server's) turns the checks off with ``session_replication_role = replica``.
        """
        if self.db_path is not None:
            with closing(sqlite3.connect(self.db_path, isolation_level=None)) as raw:
                raw.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            return
        import psycopg  # noqa: PLC0415 - the optional driver, only for PostgreSQL variants

        assert self.database_url is not None
        with psycopg.connect(self.database_url, autocommit=True) as raw:
            raw.execute("SET session_replication_role = replica")
            raw.execute("DELETE FROM runs WHERE run_id = %s", (run_id,))

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A migrated connection to this database (for repositories and raw SQL), closed on exit.

        Both backends' connections take ``?`` placeholders and give rows like
        ``sqlite3.Row`` (``backends.Connection``).
        """
        location = self.db_path if self.database_url is None else DatabaseUrl(self.database_url)
        assert location is not None
        connection = connect(location)
        try:
            yield connection
        finally:
            connection.close()


def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Yield the backend of ``request.param`` (the body of the ``backend`` fixtures).

    After a PostgreSQL test, no SQLite file may have appeared below its ``tmp_path``:
    nothing fell back to a default database file.
    """
    kind: BackendKind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield Backend("sqlite", tmp_path)
        return
    url = request.getfixturevalue("postgres_url")
    assert isinstance(url, str)
    yield Backend("postgres", tmp_path, url)
    stray = sorted(tmp_path.rglob(DEFAULT_DB_PATH.name))
    assert not stray, f"a PostgreSQL test made SQLite files: {stray}"


def parametrize_backend(metafunc: pytest.Metafunc) -> None:
    """Run each test that uses ``backend`` on every backend its ``backends`` mark allows."""
    if "backend" not in metafunc.fixturenames:
        return
    kinds: tuple[str, ...] = BACKENDS
    for mark in metafunc.definition.iter_markers(_MARKER):
        kinds = tuple(kind for kind in kinds if kind in mark.args)
    unknown = {arg for mark in metafunc.definition.iter_markers(_MARKER) for arg in mark.args}
    unknown -= set(BACKENDS)
    if unknown or not kinds:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: @pytest.mark.backends takes some of {BACKENDS}"
        )
    metafunc.parametrize(
        "backend",
        [
            pytest.param(kind, id=kind, marks=[pytest.mark.postgres] if kind == "postgres" else [])
            for kind in kinds
        ],
        indirect=True,
    )


def register_markers(config: pytest.Config) -> None:
    """Declare the ``backends`` marker (``postgres`` is declared in pyproject.toml), once."""
    if any(str(line).startswith(f"{_MARKER}(") for line in config.getini("markers")):
        return
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(*kinds): run a test that uses the backend fixture on these backends only"
        " (e.g. 'sqlite': SQLite-specific, or it never reaches a database)",
    )
