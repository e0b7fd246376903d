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

Errors
------
A connection from :class:`SQLiteConnectionFactory` is a :class:`RunDatabaseConnection`:
every ``sqlite3`` error its statements raise, while executing or while fetching rows
(a listing streams them), becomes a ``DatabaseError`` (``errors.py``) naming the
database file, with the SQLite error as its ``__cause__``; :func:`typed_error` picks
the kind (damaged, read-only, disk I/O error, disk full, locked, cannot open...).
:func:`transaction` does the same for a plain ``sqlite3.Connection``, so BEGIN, COMMIT
and ROLLBACK are covered either way. Misuse of the driver (``ProgrammingError``,
``InterfaceError``: a closed connection, a wrong number of parameters) is a bug and
keeps its traceback. Busy errors arrive typed as ``DatabaseLockedError``, which
:func:`is_busy` and the retries recognise, so the retry rules above are unchanged.

Schema versions
---------------
``PRAGMA user_version`` holds the schema version. :func:`migrate` applies the missing
steps of :data:`MIGRATIONS` one by one; each step and its version bump commit together
or not at all, and the version is re-read inside the write lock so several processes
migrating a missing database at the same moment apply each step once. A database whose
version is newer than :data:`SCHEMA_VERSION` is refused with :class:`SchemaTooNewError`.
Opening an up-to-date database costs one ``PRAGMA user_version`` read and one read of
the columns of ``runs`` and ``projects``: another program's SQLite file (its own
``runs`` table, its own ``user_version``) is refused before anything is written.
``connect(read_only=True)`` opens with SQLite's ``mode=ro`` (``immutable=1`` where the
``-shm`` file cannot be made) and never creates a file or folder.

A write that waits on another process's lock says so on stderr after a second
(:func:`_begin_immediate`).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

from monocycle_nash.runmeta.errors import (
    DatabaseAccessError,
    DatabaseCorruptError,
    DatabaseError,
    DatabaseFullError,
    DatabaseIOError,
    DatabaseLockedError,
    DatabaseNotFoundError,
    DatabaseReadOnlyError,
    NotADatabaseError,
    SchemaTooNewError,
)
from monocycle_nash.text import printable

# typing stays out of the runtime import graph: `runmeta list-runs` start-up is measured.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, NoReturn, Self, TypeVar

    from monocycle_nash.runmeta.backends import Connection

    _T = TypeVar("_T")

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "DEFAULT_DB_PATH",
    "DEFAULT_RESULT_ROOT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "MigrationStep",
    "RunDatabaseConnection",
    "SQLiteConnectionFactory",
    "constraint_of",
    "is_busy",
    "migrate",
    "retry_busy",
    "schema_version",
    "transaction",
    "typed_error",
]

DEFAULT_BUSY_TIMEOUT: Final = 30.0
"""Seconds a connection waits for another writer before giving up."""

DEFAULT_DB_PATH: Final = Path(".runmeta") / "run_history.db"
"""Where a project's run database is, relative to its root (or the current folder)."""
DEFAULT_RESULT_ROOT: Final = Path("result")
"""Where a project's run folders are, relative to its root (or the current folder)."""

# Primary result codes (the low byte of an extended code), https://sqlite.org/rescode.html
_SQLITE_BUSY: Final = 5
_SQLITE_READONLY: Final = 8
_SQLITE_IOERR: Final = 10
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14
_SQLITE_NOTADB: Final = 26
# Extended codes of a read-only connection that cannot make or lock the -shm file
# (a folder it may not write): SQLITE_READONLY_CANTLOCK, _CANTINIT, _DIRECTORY.
_SHM_IMPOSSIBLE: Final = frozenset({520, 1288, 1544})
LOCK_NOTICE_AFTER: Final = 1.0
"""Seconds a write waits on another process's lock before saying so on stderr."""
_RETRY_FIRST_PAUSE: Final = 0.002
_RETRY_LONGEST_PAUSE: Final = 0.1


def is_busy(err: BaseException) -> bool:
    """Tell whether ``err`` is SQLite's ``SQLITE_BUSY`` (any extended form), raw or typed."""
    if isinstance(err, DatabaseLockedError):
        return True
    code = getattr(err, "sqlite_errorcode", None)
    return (
        isinstance(err, sqlite3.OperationalError)
        and code is not None
        and code & 0xFF == _SQLITE_BUSY
    )


_UNDECODABLE: Final = "Could not decode to UTF-8"
_LONGEST_DETAIL: Final = 200
# The problems a user can act on, by primary result code; the rest are DatabaseError.
_TYPED_BY_CODE: Final = {
    _SQLITE_CORRUPT: DatabaseCorruptError,
    _SQLITE_READONLY: DatabaseReadOnlyError,
    _SQLITE_IOERR: DatabaseIOError,
    _SQLITE_FULL: DatabaseFullError,
}


def typed_error(conn: sqlite3.Connection, err: BaseException) -> DatabaseError | None:
    """Return the :class:`DatabaseError` that stands for ``err``, raised on ``conn``.

    ``None`` when ``err`` is not an ``sqlite3`` error, is already typed, or is misuse of
    the driver (``ProgrammingError``, ``InterfaceError``): those are raised as they are.
    The result names the database as the factory was given it (a plain connection: the
    file SQLite reports) and keeps SQLite's extended code and its name.
    """
    if not isinstance(err, sqlite3.Error) or isinstance(
        err, sqlite3.ProgrammingError | sqlite3.InterfaceError
    ):
        return None
    path = _database_name(conn)
    code: int | None = getattr(err, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    name: str | None = getattr(err, "sqlite_errorname", None)
    detail = _one_line(err)
    typed: DatabaseError
    if primary == _SQLITE_BUSY:
        typed = DatabaseLockedError(path, _busy_timeout(conn))
    elif primary == _SQLITE_NOTADB:
        typed = NotADatabaseError(path)
    elif primary == _SQLITE_CANTOPEN:
        typed = DatabaseAccessError(path, _open_failure(path, err))
    elif primary == _SQLITE_IOERR:
        typed = DatabaseIOError(path, name or detail)
    elif primary in _TYPED_BY_CODE:
        typed = _TYPED_BY_CODE[primary](path, detail)
    elif code is None and str(err).startswith(_UNDECODABLE):
        # Raised by Python's sqlite3 module, not SQLite: every text we store is UTF-8,
        # so a value that is not was damaged. Its text (garbage) is left out.
        typed = DatabaseCorruptError(path, str(err).split(" with text ", 1)[0])
    else:
        typed = DatabaseError(path, f"run database {path}: {detail}")
    typed.sqlite_errorcode = code
    typed.sqlite_errorname = name
    typed.constraint = _CONSTRAINT_KINDS.get(code or 0)
    return typed


# Extended result codes of the constraint failures that have a name of their own.
_CONSTRAINT_KINDS: Final = {
    787: "foreign_key",  # SQLITE_CONSTRAINT_FOREIGNKEY
    1555: "unique",  # SQLITE_CONSTRAINT_PRIMARYKEY
    2067: "unique",  # SQLITE_CONSTRAINT_UNIQUE
    275: "check",  # SQLITE_CONSTRAINT_CHECK
    1299: "not_null",  # SQLITE_CONSTRAINT_NOTNULL
}


def constraint_of(err: BaseException) -> str | None:
    """The kind of constraint ``err`` says was violated (``"foreign_key"``, ``"unique"``...).

    Works on a typed :class:`DatabaseError` of either backend and on a raw
    ``sqlite3.IntegrityError`` (a plain connection's); ``None`` for anything else.
    """
    if isinstance(err, DatabaseError):
        return err.constraint
    if isinstance(err, sqlite3.IntegrityError):
        return _CONSTRAINT_KINDS.get(getattr(err, "sqlite_errorcode", 0) or 0)
    return None


def _one_line(err: sqlite3.Error) -> str:
    """SQLite's message on one short line: a message quoting a damaged value can hold anything."""
    import textwrap  # noqa: PLC0415 - only a failing statement pays for it

    return textwrap.shorten(str(err), width=_LONGEST_DETAIL, placeholder=" ...")


def _raise_typed(conn: sqlite3.Connection, err: sqlite3.Error) -> NoReturn:
    """Raise the :func:`typed_error` for ``err`` (from it), or ``err`` itself when untyped."""
    typed = typed_error(conn, err)
    if typed is None:
        raise err
    raise typed from err


def _busy_timeout(conn: sqlite3.Connection) -> float:
    """The connection's busy timeout in seconds (0 if it cannot be read)."""
    try:
        # The base class's execute: a failure here must not be translated again.
        row = sqlite3.Connection.execute(conn, "PRAGMA busy_timeout").fetchone()
    except sqlite3.Error:
        return 0.0
    return float(row[0]) / 1000


def _database_name(conn: sqlite3.Connection) -> str | Path:
    """The database as the factory was given it, else the main file SQLite reports."""
    given: str | Path | None = getattr(conn, "db_path", None)
    if given is not None:
        return given
    try:
        rows = sqlite3.Connection.execute(conn, "PRAGMA database_list").fetchall()
    except sqlite3.Error:
        return "(unknown file)"
    for row in rows:
        if row[1] == "main":
            return str(row[2]) or ":memory:"
    return ":memory:"


class _TypedCursor(sqlite3.Cursor):
    """A cursor of a :class:`RunDatabaseConnection`: its errors are typed as the connection's."""

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        """Run ``sql`` (see ``sqlite3.Cursor.execute``)."""
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        """Run ``sql`` once per parameter set (see ``sqlite3.Cursor.executemany``)."""
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """Run several statements (see ``sqlite3.Cursor.executescript``)."""
        try:
            return super().executescript(sql_script)
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)

    def fetchone(self) -> Any:
        """Return the next row, or ``None``."""
        try:
            return super().fetchone()
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        """Return up to ``size`` more rows."""
        try:
            return super().fetchmany(size)
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)

    def fetchall(self) -> list[Any]:
        """Return the remaining rows."""
        try:
            return super().fetchall()
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)

    def __next__(self) -> Any:
        """Return the next row while iterating (a listing streams its rows)."""
        try:
            return super().__next__()
        except sqlite3.Error as err:
            _raise_typed(self.connection, err)


class RunDatabaseConnection(sqlite3.Connection):
    """An ``sqlite3.Connection`` that raises typed errors naming its database.

    :class:`SQLiteConnectionFactory` opens these and sets ``db_path``. Statements run
    through :meth:`execute`, :meth:`executemany`, :meth:`executescript` or a
    :meth:`cursor`; whatever fails in them, or while their rows are fetched, raises the
    :class:`DatabaseError` of :func:`typed_error`.
    """

    db_path: str | Path | None = None
    """The database as given to the factory (``None`` until the factory sets it)."""

    def cursor(self, factory: Any = None) -> Any:
        """Return a cursor whose errors are typed (``factory``: a ``_TypedCursor`` subclass)."""
        return super().cursor(_TypedCursor if factory is None else factory)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """Run ``sql`` on a new cursor and return it (see ``sqlite3.Connection.execute``)."""
        cursor: sqlite3.Cursor = self.cursor().execute(sql, parameters)
        return cursor

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        """Run ``sql`` once per parameter set on a new cursor and return it."""
        cursor: sqlite3.Cursor = self.cursor().executemany(sql, parameters)
        return cursor

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """Run several statements on a new cursor and return it."""
        cursor: sqlite3.Cursor = self.cursor().executescript(sql_script)
        return cursor


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
        except (sqlite3.OperationalError, DatabaseLockedError) as err:
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
    MigrationStep(
        version=3,
        description="the recording process, the reason and the folder's owner in each run",
        statements=(
            # Written with the INSERT, so every running row can be judged by reap.
            "ALTER TABLE runs ADD COLUMN host TEXT",
            "ALTER TABLE runs ADD COLUMN pid INTEGER",
            "ALTER TABLE runs ADD COLUMN process_start TEXT",
            # Why the run failed or was killed (also in meta.json).
            "ALTER TABLE runs ADD COLUMN reason TEXT",
            # NULL: result/<run_id> is the run's own; 'foreign': it existed before the
            # run; 'none': the run ended before it made one.
            "ALTER TABLE runs ADD COLUMN folder TEXT",
        ),
    ),
    MigrationStep(
        version=4,
        description="parent and child runs (a sweep is a parent run, each case a child)",
        statements=(
            # NULL for an ordinary run. RESTRICT: a parent row cannot go while a child
            # row names it (delete-run deletes the children first, with --children);
            # a child whose parent is gone all the same (a hand edit without foreign
            # keys, a rebuild that skipped the parent) is check's orphan-child.
            "ALTER TABLE runs ADD COLUMN parent_run_id INTEGER"
            " REFERENCES runs(run_id) ON DELETE RESTRICT",
            # The children of one parent, newest first, read in order (list-runs
            # --parent); also the index the foreign key's check on delete needs.
            "CREATE INDEX IF NOT EXISTS idx_runs_parent_created ON runs(parent_run_id, created_at)",
        ),
    ),
    MigrationStep(
        version=5,
        description="the headline figures of each run (run_metrics), searchable by value",
        statements=(
            # One row per figure. ``number`` has no type affinity, so an integer stays an
            # integer and a float a float (SQLite compares them numerically); text goes
            # to ``text``; a boolean is the only value with both: 0/1 and 'false'/'true';
            # None has neither. The figures go with their run (CASCADE): they are
            # nothing without it, and delete-run needs no second statement.
            """CREATE TABLE IF NOT EXISTS run_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  number,
  text TEXT,
  PRIMARY KEY (run_id, key),
  CHECK (number IS NULL OR typeof(number) IN ('integer', 'real')),
  CHECK (number IS NULL OR text IS NULL
         OR (number IN (0, 1) AND text IN ('false', 'true')))
) WITHOUT ROWID""",
            # list-runs --where KEY OP VALUE: the runs holding a figure in a range (or
            # equal to a text) are read from these when they are few (each ends with the
            # primary key, so run_id comes with the entry).
            "CREATE INDEX IF NOT EXISTS idx_run_metrics_key_number ON run_metrics(key, number)",
            "CREATE INDEX IF NOT EXISTS idx_run_metrics_key_text ON run_metrics(key, text)",
        ),
    ),
)
"""Every schema step, oldest first; step ``i`` has version ``i + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The schema version this code reads and writes."""


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """Run the block as one write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``.

    On any exception (``KeyboardInterrupt`` included) the transaction is rolled back
    and the exception re-raised; an ``sqlite3`` error as its :func:`typed_error` (a
    lock that outlasted the busy timeout: :class:`DatabaseLockedError`). Nested use
    becomes a savepoint of the outer transaction. The connection must be in autocommit
    mode (``isolation_level=None``), as :class:`SQLiteConnectionFactory` opens it.

    A connection of another backend (PostgreSQL) runs its own ``write_transaction()``,
    with the same guarantees (see ``postgres.py``).
    """
    own: Callable[[], AbstractContextManager[Any]] | None = getattr(conn, "write_transaction", None)
    if own is not None:
        with own():
            yield conn
        return
    yield from _sqlite_transaction(conn)  # type: ignore[arg-type]


def _sqlite_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """:func:`transaction` on an ``sqlite3.Connection``."""
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
        _begin_immediate(conn)
    except sqlite3.Error as err:  # a plain connection's; the factory's come typed
        _raise_typed(conn, err)
    try:
        yield conn
        # A busy COMMIT leaves the transaction open and uncommitted: retry only then.
        _execute_retrying(conn, "COMMIT", may_retry=lambda: _in_transaction(conn))
    except BaseException as err:
        # SQLite may already have rolled back (e.g. after SQLITE_FULL); only roll back
        # what is still open, and never let a failed ROLLBACK hide the first error.
        if _in_transaction(conn):
            with suppress(sqlite3.Error, DatabaseError):
                conn.execute("ROLLBACK")
        if isinstance(err, sqlite3.Error):
            _raise_typed(conn, err)
        raise


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
    except (sqlite3.OperationalError, DatabaseLockedError) as err:
        if not is_busy(err) or (may_retry is not None and not may_retry()):
            raise
        budget = conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
        remaining = budget - (time.monotonic() - started)
        if remaining <= 0:
            raise
        retry_busy(lambda: conn.execute(sql), timeout=remaining, may_retry=may_retry)


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting up to the busy timeout for another process's lock.

    The wait is split: after :data:`LOCK_NOTICE_AFTER` seconds a line on stderr says
    that the database is busy and how long this waits, then the rest of the timeout
    is waited (SQLite's busy handler cannot be hooked from Python). ``BEGIN`` has done
    nothing when it fails, so trying it again is safe.
    """
    budget = _busy_timeout(conn)
    if budget <= LOCK_NOTICE_AFTER:
        _execute_retrying(conn, "BEGIN IMMEDIATE")
        return
    started = time.monotonic()
    _set_busy_timeout(conn, LOCK_NOTICE_AFTER)
    try:
        try:
            _execute_retrying(conn, "BEGIN IMMEDIATE")
            return
        except (sqlite3.OperationalError, DatabaseLockedError) as err:
            if not is_busy(err):
                raise
        remaining = budget - (time.monotonic() - started)
        sys.stderr.write(
            f"runmeta: database {printable(str(_database_name(conn)))} is busy"
            " (locked by another process);"
            f" waiting up to {budget:g} s...\n"
        )
        _set_busy_timeout(conn, max(remaining, 0.001))
        try:
            _execute_retrying(conn, "BEGIN IMMEDIATE")
        except DatabaseLockedError as err:
            # Typed while the timeout was the remainder: say how long was waited in all.
            locked = DatabaseLockedError(_database_name(conn), budget)
            locked.sqlite_errorcode = err.sqlite_errorcode
            locked.sqlite_errorname = err.sqlite_errorname
            raise locked from err.__cause__
    finally:
        _set_busy_timeout(conn, budget)


def _set_busy_timeout(conn: sqlite3.Connection, seconds: float) -> None:
    # The base class's execute: a failure here must not be translated again.
    sqlite3.Connection.execute(conn, f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def _in_transaction(conn: sqlite3.Connection) -> bool:
    # A function call, so a type checker does not carry over the narrowing of the
    # first ``conn.in_transaction`` test: the flag changes as statements run.
    return conn.in_transaction


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the database's ``PRAGMA user_version``."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, steps: Sequence[MigrationStep] = MIGRATIONS) -> None:
    """Bring the schema up to the last of ``steps``; each step is atomic.

    Safe to call again (nothing happens when up to date) and from several processes at
    once. Raises :class:`SchemaTooNewError` for a database newer than ``steps``.
    """
    latest = len(steps)
    version = schema_version(conn)
    if version > latest:
        raise SchemaTooNewError(_database_name(conn), version, latest)
    while version < latest:
        with transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = schema_version(conn)
            if version > latest:
                raise SchemaTooNewError(_database_name(conn), version, latest)
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

    def connect(self, *, read_only: bool = False) -> RunDatabaseConnection:
        """Open a connection, creating and migrating the database if needed.

        The connection is a :class:`RunDatabaseConnection`: its errors are typed.
        Raises :class:`NotADatabaseError` for a file that is not SQLite (the file is
        left untouched), :class:`SchemaTooNewError` for a newer schema,
        :class:`DatabaseAccessError` when the file cannot be opened or is another
        program's SQLite file (found by reading only, before anything is written), and
        the other :class:`DatabaseError` kinds (locked, damaged, I/O error...) as
        reading it fails.

        With ``read_only`` (the commands that only read the history) nothing is
        created: a missing file raises :class:`DatabaseNotFoundError` and no folder is
        made. The file is opened with SQLite's ``mode=ro``; where SQLite cannot create
        the ``-shm`` file beside it (a read-only mount or folder), with ``immutable=1``
        as long as no write-ahead log holds changes that this would miss (else a
        :class:`DatabaseAccessError` says what to do). Only a database of an older
        schema is opened for writing, to be migrated.
        """
        path = self._db_path
        if read_only and isinstance(path, Path):
            return self._connect_read_only(path)
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
            conn = sqlite3.connect(
                path,
                timeout=self._busy_timeout,
                isolation_level=None,
                factory=RunDatabaseConnection,
            )
        except sqlite3.Error as err:
            raise DatabaseAccessError(path, _open_failure(path, err)) from err
        conn.db_path = path
        try:
            conn.row_factory = sqlite3.Row
            # The first read: fails here, before anything is written, for a non-database.
            version = retry_busy(lambda: schema_version(conn), timeout=self._busy_timeout)
            conn.execute("PRAGMA foreign_keys = ON")
            if in_file:
                conn.execute("PRAGMA synchronous = NORMAL")
            if version > SCHEMA_VERSION:
                raise SchemaTooNewError(path, version, SCHEMA_VERSION)
            if in_file:
                # Read only: nothing has been written when another program's file is refused.
                _refuse_other_schema(conn, path, version)
            if version != SCHEMA_VERSION:
                if in_file and version == 0:
                    # Persistent in the file; cannot be changed inside a transaction. The
                    # switch does not wait on the busy timeout when another process
                    # holds the file, hence the retry (setting it twice is harmless).
                    retry_busy(
                        lambda: conn.execute("PRAGMA journal_mode = WAL"),
                        timeout=self._busy_timeout,
                    )
                migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def migrate(self, conn: sqlite3.Connection) -> None:
        """Bring ``conn``'s schema up to date (see :func:`migrate`)."""
        migrate(conn)

    def _connect_read_only(self, path: Path) -> RunDatabaseConnection:
        """Open an existing database for reading only (see :meth:`connect`)."""
        try:
            if path.is_dir():
                raise DatabaseAccessError(path, "it is a folder, not a database file")
            exists = path.exists()
        except OSError as err:
            raise DatabaseAccessError(path, err.strerror or str(err)) from err
        if not exists:
            raise DatabaseNotFoundError(path)
        conn = self._open_uri(path, "mode=ro")
        try:
            try:
                version = retry_busy(lambda: schema_version(conn), timeout=self._busy_timeout)
            except DatabaseError as err:
                code = err.sqlite_errorcode or 0
                if code & 0xFF != _SQLITE_CANTOPEN and code not in _SHM_IMPOSSIBLE:
                    raise
                conn.close()  # the -shm file cannot be created here
                conn = self._open_immutable(path, err)
                version = retry_busy(lambda: schema_version(conn), timeout=self._busy_timeout)
            conn.execute("PRAGMA foreign_keys = ON")
            if version > SCHEMA_VERSION:
                raise SchemaTooNewError(path, version, SCHEMA_VERSION)
            _refuse_other_schema(conn, path, version)
        except BaseException:
            conn.close()
            raise
        if version == SCHEMA_VERSION:
            return conn
        conn.close()  # an older schema: only a writing connection can migrate it
        try:
            return self.connect()
        except (DatabaseReadOnlyError, DatabaseAccessError) as err:
            raise DatabaseAccessError(
                path,
                f"its schema version {version} is older than {SCHEMA_VERSION} and it cannot"
                f" be upgraded here ({err}); run any runmeta command where it is writable",
            ) from err

    def _open_uri(self, path: Path, query: str) -> RunDatabaseConnection:
        """Open ``path`` through an SQLite URI with ``query`` (``mode=ro``...)."""
        posix = path.absolute().as_posix()
        for char, code in (("%", "%25"), ("?", "%3f"), ("#", "%23")):
            posix = posix.replace(char, code)
        uri = f"file:{posix if posix.startswith('/') else '/' + posix}?{query}"
        try:
            conn = sqlite3.connect(
                uri,
                timeout=self._busy_timeout,
                isolation_level=None,
                factory=RunDatabaseConnection,
                uri=True,
            )
        except sqlite3.Error as err:
            raise DatabaseAccessError(path, _open_failure(path, err)) from err
        conn.db_path = path
        conn.row_factory = sqlite3.Row
        return conn

    def _open_immutable(self, path: Path, err: DatabaseError) -> RunDatabaseConnection:
        """Open ``path`` as immutable, unless its write-ahead log holds what that would miss."""
        wal = path.with_name(path.name + "-wal")
        try:
            pending = wal.stat().st_size > 0
        except OSError:
            pending = False
        if pending:
            raise DatabaseAccessError(
                path,
                f"SQLite cannot create its -shm file in {path.parent} (read-only?) and"
                f" {wal.name} holds changes it cannot read without one; copy the folder"
                " somewhere writable and give the copy with --db-path",
            ) from err
        return self._open_uri(path, "mode=ro&immutable=1")


_OWN_TABLES: Final = frozenset({"projects", "runs"})
_OWN_COLUMNS: Final = {
    "projects": frozenset({"project_id", "project_path", "created_at", "note"}),
    "runs": frozenset(
        {
            "run_id",
            "created_at",
            "started_at",
            "ended_at",
            "status",
            "command",
            "git_commit",
            "note",
            "project_id",
            "updated_at",
        }
    ),
}
"""The columns of schema version 1; later versions only add."""
_LATER_TABLES: Final = frozenset({"run_metrics"})
"""Tables of later schema versions. Ours too: a file read as version 0 may already hold
them, when another process created the database and migrated it meanwhile."""


def _refuse_other_schema(conn: sqlite3.Connection, path: str | Path, version: int) -> None:
    """Refuse an SQLite file of another program (reading only; nothing is written).

    A new database has no tables; one whose schema was typed in from the design
    document has only ``projects`` and ``runs`` (version 0). From version 1 on, both
    are there. Either way they must have our columns: another program's ``runs``
    table, or its own ``user_version``, is refused and the file left untouched.
    """
    columns: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c"
        " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
    ):
        columns.setdefault(str(table), set()).add(str(column))
    others = sorted(set(columns) - _OWN_TABLES - _LATER_TABLES)
    absent = version > 0 and not _OWN_TABLES.issubset(columns)
    if (version == 0 and others) or absent:
        listed = others if version == 0 else sorted(columns)
        shown = ", ".join(listed[:5]) + (", ..." if len(listed) > 5 else "") or "none"
        schema = f"user_version {version}, " if version else ""
        raise DatabaseAccessError(
            path,
            f"it is an SQLite database of another program ({schema}tables: {shown});"
            " left untouched",
        )
    for table in sorted(_OWN_TABLES & set(columns)):
        missing = sorted(_OWN_COLUMNS[table] - columns[table])
        if missing:
            raise DatabaseAccessError(
                path,
                f"it is an SQLite database of another program (its table {table} has no"
                f" {', '.join(missing)}); left untouched",
            )


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
