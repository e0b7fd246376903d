"""SQLite connections, the schema and its migrations, and the one transaction helper.

Transaction convention
----------------------
Connections are opened in autocommit mode (``isolation_level=None``): Python's
``sqlite3`` never opens or commits a transaction behind our back. Writes happen only
inside :func:`transaction`, which runs ``BEGIN IMMEDIATE`` / ``COMMIT``, or
``ROLLBACK`` and re-raises on any exception. Repositories (``repositories.py``) never
commit and never begin: the caller, usually ``RunSessionService`` or a CLI command,
wraps one unit of work in ``with transaction(conn): ...``. A repository write made
outside a transaction is a single autocommitted statement.

``BEGIN IMMEDIATE`` takes the write lock at the start, so two processes writing at the
same time queue on the busy timeout (30 s by default) instead of one of them failing
with "database is locked" when a read transaction tries to become a write one.

Busy retries
------------
A few SQLite operations answer ``SQLITE_BUSY`` at once, without waiting on the busy
timeout: switching a new database to WAL while another process opens it, and rarely
``BEGIN IMMEDIATE`` or ``COMMIT`` while another connection recovers or checkpoints the
WAL. Those are retried with a bounded, jittered backoff (:func:`retry_busy`), and only
where a retry is known to be safe: the WAL switch and the first read (idempotent),
``BEGIN IMMEDIATE`` (nothing has happened yet), and ``COMMIT`` while the transaction is
still open (SQLite keeps it open after a busy ``COMMIT``, so nothing was committed).
A statement inside the transaction, such as an ``INSERT``, is never re-run: if the
transaction is gone, the error is raised.

Schema versions
---------------
``PRAGMA user_version`` holds the schema version. :func:`migrate` applies the missing
steps of :data:`MIGRATIONS` one by one; each step and its version bump commit together
or not at all, and the version is re-read inside the write lock so several processes
migrating a missing database at the same moment apply each step once. A database whose
version is newer than :data:`SCHEMA_VERSION` is refused with :class:`SchemaTooNewError`.
Opening an up-to-date database costs one ``PRAGMA user_version`` read.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from monocycle_nash.runmeta.errors import (
    DatabaseAccessError,
    DatabaseLockedError,
    NotADatabaseError,
    RunMetaError,
    SchemaTooNewError,
)

# typing stays out of the runtime import graph: `runmeta list-runs` start-up is measured.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, TypeVar

    _T = TypeVar("_T")

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "MigrationStep",
    "SQLiteConnectionFactory",
    "is_busy",
    "migrate",
    "retry_busy",
    "schema_version",
    "transaction",
]

DEFAULT_BUSY_TIMEOUT: Final = 30.0
"""Seconds a connection waits for another writer before giving up."""

_SQLITE_BUSY: Final = 5
_SQLITE_NOTADB: Final = 26
_RETRY_FIRST_PAUSE: Final = 0.002
_RETRY_LONGEST_PAUSE: Final = 0.1


def is_busy(err: BaseException) -> bool:
    """Tell whether ``err`` is SQLite's ``SQLITE_BUSY`` (any extended form)."""
    code = getattr(err, "sqlite_errorcode", None)
    return (
        isinstance(err, sqlite3.OperationalError)
        and code is not None
        and code & 0xFF == _SQLITE_BUSY
    )


def retry_busy(
    operation: Callable[[], _T],
    *,
    timeout: float = DEFAULT_BUSY_TIMEOUT,
    may_retry: Callable[[], bool] | None = None,
) -> _T:
    """Return ``operation()``, calling it again after a pause while it fails with SQLITE_BUSY.

    Pauses start at 2 ms and double up to 100 ms, each shortened by a random part so that
    processes that collided do not collide again in step; after ``timeout`` seconds the
    last error is raised. ``may_retry`` (checked after each failure) can forbid a retry,
    e.g. when a failed ``COMMIT`` has closed the transaction. Only for operations that
    are safe to repeat.
    """
    deadline = time.monotonic() + timeout
    pause = _RETRY_FIRST_PAUSE
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as err:
            if not is_busy(err) or (may_retry is not None and not may_retry()):
                raise
            if time.monotonic() + pause > deadline:
                raise
        import random  # noqa: PLC0415 - after a busy answer: only a busy database pays for it

        time.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not secrets
        pause = min(pause * 2, _RETRY_LONGEST_PAUSE)


class MigrationStep:
    """One schema version: the statements that bring version ``version - 1`` to it.

    A plain slotted class rather than a dataclass: ``dataclasses`` imports ``inspect``,
    which alone costs the CLI about a tenth of its start-up time.
    """

    __slots__ = ("description", "statements", "version")

    def __init__(self, version: int, description: str, statements: tuple[str, ...]) -> None:
        self.version = version
        self.description = description
        self.statements = statements

    def __repr__(self) -> str:
        return f"MigrationStep(version={self.version!r}, description={self.description!r})"


MIGRATIONS: Final[tuple[MigrationStep, ...]] = (
    MigrationStep(
        version=1,
        description="projects and runs tables with their search indexes",
        statements=(
            """CREATE TABLE IF NOT EXISTS projects (
  project_id TEXT PRIMARY KEY,
  project_path TEXT NOT NULL,
  created_at TEXT NOT NULL,
  note TEXT DEFAULT ''
)""",
            """CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL CHECK(status IN ('running','success','fail','killed')),
  command TEXT NOT NULL,
  git_commit TEXT,
  note TEXT DEFAULT '',
  project_id TEXT,
  updated_at TEXT NOT NULL,
  FOREIGN KEY(project_id) REFERENCES projects(project_id)
    ON UPDATE CASCADE ON DELETE SET NULL
)""",
            "CREATE INDEX IF NOT EXISTS idx_runs_created_at ON runs(created_at)",
            "CREATE INDEX IF NOT EXISTS idx_runs_status ON runs(status)",
            "CREATE INDEX IF NOT EXISTS idx_runs_project_id ON runs(project_id)",
            "CREATE INDEX IF NOT EXISTS idx_runs_project_created ON runs(project_id, created_at)",
            "CREATE INDEX IF NOT EXISTS idx_runs_status_created ON runs(status, created_at)",
        ),
    ),
    MigrationStep(
        version=2,
        description="index for pages filtered by project and status together",
        statements=(
            "CREATE INDEX IF NOT EXISTS idx_runs_project_status_created"
            " ON runs(project_id, status, created_at)",
        ),
    ),
)
"""Every schema step, oldest first; step ``i`` has version ``i + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this code reads and writes."""


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block as one write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``.

    On any exception (``KeyboardInterrupt`` included) the transaction is rolled back
    and the exception re-raised. Nested use becomes a savepoint of the outer
    transaction. The connection must be in autocommit mode (``isolation_level=None``),
    as :class:`SQLiteConnectionFactory` opens it.
    """
    if conn.in_transaction:
        conn.execute("SAVEPOINT runmeta_nested")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO runmeta_nested")
            conn.execute("RELEASE runmeta_nested")
            raise
        conn.execute("RELEASE runmeta_nested")
        return
    try:
        # Nothing has happened before BEGIN succeeds: safe to retry.
        _execute_retrying(conn, "BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        _raise_if_locked(conn, err)
        raise
    try:
        yield conn
        # A busy COMMIT leaves the transaction open and uncommitted: retry only then.
        _execute_retrying(conn, "COMMIT", may_retry=lambda: _in_transaction(conn))
    except BaseException as err:
        # SQLite may already have rolled back (e.g. after SQLITE_FULL); only roll back
        # what is still open, and never let a failed ROLLBACK hide the first error.
        if _in_transaction(conn):
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        _raise_if_locked(conn, err)
        raise


def _raise_if_locked(conn: sqlite3.Connection, err: BaseException) -> None:
    """Turn a busy error that outlasted the busy timeout into :class:`DatabaseLockedError`.

    Called once nothing of the transaction is left (never begun or rolled back).
    """
    if is_busy(err) and not isinstance(err, DatabaseLockedError):
        waited = conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
        locked = DatabaseLockedError(_database_file(conn), waited)
        # Keep SQLite's code, so is_busy() and callers that inspect it still see SQLITE_BUSY.
        locked.sqlite_errorcode = getattr(err, "sqlite_errorcode", _SQLITE_BUSY)
        locked.sqlite_errorname = getattr(err, "sqlite_errorname", "SQLITE_BUSY")
        raise locked from err


def _execute_retrying(
    conn: sqlite3.Connection, sql: str, *, may_retry: Callable[[], bool] | None = None
) -> None:
    """Run ``sql``; on an immediate SQLITE_BUSY retry within the connection's busy timeout.

    The first attempt costs nothing extra. A busy answer that came after the busy
    handler had already waited the whole timeout is raised, not retried.
    """
    started = time.monotonic()
    try:
        conn.execute(sql)
    except sqlite3.OperationalError as err:
        if not is_busy(err) or (may_retry is not None and not may_retry()):
            raise
        budget = conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
        remaining = budget - (time.monotonic() - started)
        if remaining <= 0:
            raise
        retry_busy(lambda: conn.execute(sql), timeout=remaining, may_retry=may_retry)


def _in_transaction(conn: sqlite3.Connection) -> bool:
    # A function call, so a type checker does not carry over the narrowing of the
    # first ``conn.in_transaction`` test: the flag changes as statements run.
    return conn.in_transaction


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the database's ``PRAGMA user_version``."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _database_file(conn: sqlite3.Connection) -> str:
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return str(row[2]) or ":memory:"
    return ":memory:"


def migrate(conn: sqlite3.Connection, steps: Sequence[MigrationStep] = MIGRATIONS) -> None:
    """Bring the schema up to the last of ``steps``; each step is atomic.

    Safe to call again (nothing happens when up to date) and from several processes at
    once. Raises :class:`SchemaTooNewError` for a database newer than ``steps``.
    """
    latest = len(steps)
    version = schema_version(conn)
    if version > latest:
        raise SchemaTooNewError(_database_file(conn), version, latest)
    while version < latest:
        with transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = schema_version(conn)
            if version > latest:
                raise SchemaTooNewError(_database_file(conn), version, latest)
            if version == latest:
                break
            step = steps[version]
            for statement in step.statements:
                conn.execute(statement)
            version = step.version
            conn.execute(f"PRAGMA user_version = {int(version)}")


class SQLiteConnectionFactory:
    """Opens connections to the run database, migrated and configured.

    Each connection: autocommit mode (see :func:`transaction`), rows as
    ``sqlite3.Row``, ``foreign_keys`` on, a busy timeout, and for file databases
    ``synchronous=NORMAL`` with the WAL journal (set when the database is created).
    The parent folder is created. Use ``":memory:"`` for a private in-memory database.
    """

    __slots__ = ("_busy_timeout", "_db_path")

    def __init__(self, db_path: str | Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self._db_path = db_path if str(db_path) == ":memory:" else Path(db_path)
        self._busy_timeout = busy_timeout

    @property
    def db_path(self) -> str | Path:
        """The database file (or ``":memory:"``)."""
        return self._db_path

    def connect(self) -> sqlite3.Connection:
        """Open a connection, creating and migrating the database if needed.

        Raises :class:`NotADatabaseError` for a file that is not SQLite (the file is
        left untouched), :class:`SchemaTooNewError` for a newer schema and
        :class:`DatabaseAccessError` when the file cannot be opened.
        """
        path = self._db_path
        in_file = isinstance(path, Path)
        if isinstance(path, Path):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as err:
                blocker = _first_non_folder(path.parent)
                raise DatabaseAccessError(path, f"{blocker} is a file, not a folder") from err
            except OSError as err:
                raise DatabaseAccessError(path, err.strerror or str(err)) from err
        try:
            conn = sqlite3.connect(path, timeout=self._busy_timeout, isolation_level=None)
        except sqlite3.Error as err:
            raise DatabaseAccessError(path, _open_failure(path, err)) from err
        try:
            conn.row_factory = sqlite3.Row
            # The first read: fails here, before anything is written, for a non-database.
            version = retry_busy(lambda: schema_version(conn), timeout=self._busy_timeout)
            conn.execute("PRAGMA foreign_keys = ON")
            if in_file:
                conn.execute("PRAGMA synchronous = NORMAL")
            if version != SCHEMA_VERSION:
                if version > SCHEMA_VERSION:
                    raise SchemaTooNewError(path, version, SCHEMA_VERSION)
                if in_file and version == 0:
                    _refuse_other_schema(conn, path)
                    # Persistent in the file; cannot be changed inside a transaction. The
                    # switch does not wait on the busy timeout when another process
                    # holds the file, hence the retry (setting it twice is harmless).
                    retry_busy(
                        lambda: conn.execute("PRAGMA journal_mode = WAL"),
                        timeout=self._busy_timeout,
                    )
                migrate(conn)
        except DatabaseLockedError:
            conn.close()
            raise
        except sqlite3.DatabaseError as err:
            conn.close()
            raise _open_error(path, err, self._busy_timeout) from err
        except BaseException:
            conn.close()
            raise
        return conn

    def migrate(self, conn: sqlite3.Connection) -> None:
        """Bring ``conn``'s schema up to date (see :func:`migrate`)."""
        migrate(conn)


_OWN_TABLES: Final = frozenset({"projects", "runs"})


def _refuse_other_schema(conn: sqlite3.Connection, path: str | Path) -> None:
    """Refuse an SQLite file of another program: tables, but no schema version of ours.

    A new database has no tables; one whose schema was typed in from the design
    document has only ``projects`` and ``runs``. Anything else is left untouched.
    """
    others = sorted(
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        if row[0] not in _OWN_TABLES
    )
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise DatabaseAccessError(
            path, f"it is an SQLite database of another program (tables: {shown}); left untouched"
        )


def _open_error(path: str | Path, err: sqlite3.Error, busy_timeout: float) -> RunMetaError:
    """The typed error for a database that could not be opened or read."""
    if getattr(err, "sqlite_errorcode", None) == _SQLITE_NOTADB:
        return NotADatabaseError(path)
    if is_busy(err):  # a rollback-journal database held by a writer
        return DatabaseLockedError(path, busy_timeout)
    return DatabaseAccessError(path, _open_failure(path, err))


def _open_failure(path: str | Path, err: sqlite3.Error) -> str:
    """Say why the database could not be opened, in the user's terms when SQLite's are vague."""
    if isinstance(path, Path) and path.is_dir():
        return "it is a folder, not a database file"
    return str(err)


def _first_non_folder(folder: Path) -> Path:
    """Return the first existing ancestor of ``folder`` (or itself) that is not a folder."""
    for candidate in reversed((folder, *folder.parents)):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return folder
