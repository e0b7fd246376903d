"""PostgreSQL as the run database: the dialect layer, connections, schema and migrations.

Imported only for a PostgreSQL URL (``backends.connect``), so the core never needs
psycopg. Every difference between the two dialects lives here; the repositories keep
their SQL, written once with ``?`` placeholders, and run it unchanged on either backend:

* **Placeholders and case.** :func:`postgres_sql` rewrites a statement once (cached):
  ``?`` becomes ``%s``, a literal ``%`` becomes ``%%``, and ``LIKE`` becomes
  ``ILIKE`` (SQLite's ``LIKE`` ignores the case of ASCII letters; on the ``COLLATE
  "C"`` columns of this schema ``ILIKE`` does exactly that, no more).
* **Rows.** As ``sqlite3.Row`` by default (a tuple that also answers ``row["name"]``
  and ``keys()``, so ``dict(row)`` works), plain tuples on a cursor whose
  ``row_factory`` is set to ``None`` (the listings' fast path), as on SQLite. Text is
  ``COLLATE "C"`` everywhere, so orders and comparisons are byte orders, as in SQLite,
  whatever the server's locale. Times are the same ``+09:00`` text.
* **Figures.** ``run_metrics.number`` is ``numeric``. A Python ``float`` is sent as
  its exact decimal with a fraction (``3.0``, never ``3``), an ``int`` as an integer,
  and a ``numeric`` read back is an ``int`` when it has no fraction, else a ``float``
  (the shortest decimal that names a float reads back as that float): an integer
  stays an integer and a float a float, as SQLite's untyped column keeps them.
* **Transactions.** Connections run in autocommit mode. :meth:`PostgresConnection.
  write_transaction` (what ``db.transaction`` calls for this backend) is ``BEGIN``,
  then the database-wide advisory lock :data:`WRITE_LOCK_KEY`
  (``pg_advisory_xact_lock``, released at the end of the transaction), then the
  block, then ``COMMIT``. Writers therefore queue one at a time exactly as behind
  SQLite's ``BEGIN IMMEDIATE``: a look-up and the insert it decides (a project
  registered once, a run reaped once, the schema version read before a migration
  step) cannot interleave with another writer's. Readers never wait (MVCC). The
  wait is bounded by the busy timeout (``lock_timeout``), with the same line on
  stderr after a second, and ends in :class:`DatabaseLockedError`.
* **Ids.** ``runs.run_id`` is an identity column: the server hands out 1, 2, 3, ...
  and, behind the write lock, in the order the runs are committed. A refused start
  is refused before its ``INSERT``, so no id is lost.
* **Errors.** Every psycopg error that is not misuse of the driver becomes a
  ``DatabaseError`` naming the database by its URL without password
  (:meth:`PostgresConnection.typed_error`, by SQLSTATE): a lock or statement timeout,
  a deadlock or a serialization failure is :class:`DatabaseLockedError`; a broken
  connection :class:`DatabaseConnectionLostError` (during ``COMMIT``: outcome
  unknown); a full disk :class:`DatabaseFullError`; a violated constraint keeps its
  kind in ``constraint``. What is safe to repeat is repeated after a broken
  connection: ``BEGIN`` and a ``SELECT`` outside a transaction reconnect once and run
  again; a statement inside a transaction, or a ``COMMIT``, never.

Schema versions: the table ``runmeta_schema`` holds the version, the same numbers as
SQLite's ``PRAGMA user_version`` (:data:`POSTGRES_MIGRATIONS` has one step per SQLite
step). Each step and its version update are one transaction, under the write lock,
with the version read again inside it, so processes that migrate at once apply each
step once; DDL is transactional here, so a failing step leaves nothing. A newer
version is refused (:class:`SchemaTooNewError`), and so is a database holding tables
named like ours without ``runmeta_schema`` (another program's).
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper, Loader
from psycopg.rows import tuple_row

from monocycle_nash.runmeta.backends import DatabaseUrl
from monocycle_nash.runmeta.db import (
    DEFAULT_BUSY_TIMEOUT,
    LOCK_NOTICE_AFTER,
    SCHEMA_VERSION,
    MigrationStep,
)
from monocycle_nash.runmeta.errors import (
    DatabaseAccessError,
    DatabaseConnectionLostError,
    DatabaseError,
    DatabaseFullError,
    DatabaseIOError,
    DatabaseLockedError,
    DatabaseNotFoundError,
    DatabaseReadOnlyError,
    SchemaTooNewError,
)
from monocycle_nash.text import printable

if TYPE_CHECKING:
    from psycopg.abc import Buffer

__all__ = [
    "POSTGRES_MIGRATIONS",
    "WRITE_LOCK_KEY",
    "PostgresConnection",
    "PostgresConnectionFactory",
    "PostgresCursor",
    "migrate",
    "postgres_sql",
]

WRITE_LOCK_KEY: Final = 0x72756E6D657461
"""The advisory lock of every write transaction ("runmeta" read as a number)."""
VERSION_TABLE: Final = "runmeta_schema"
_OWN_TABLES: Final = ("projects", "runs", "run_metrics")
_CONNECT_TIMEOUT: Final = 10
"""Seconds to wait for the server when connecting (unless the URL says otherwise)."""
_LONGEST_DETAIL: Final = 200

# SQLSTATE codes, https://www.postgresql.org/docs/current/errcodes-appendix.html
_LOST: Final = frozenset({"57P01", "57P02", "57P03"})  # admin/crash shutdown, cannot connect now
_LOCKED: Final = frozenset({"55P03", "57014", "40001", "40P01"})
_CONSTRAINTS: Final = {
    "23503": "foreign_key",
    "23505": "unique",
    "23514": "check",
    "23502": "not_null",
}
_ACCESS: Final = ("28", "3D", "42501")  # authorization, unknown database, no privilege


# --- the dialect: statements, values -------------------------------------------------

_TOKENS: Final = re.compile(r"'[^']*'|\"[^\"]*\"|\?|%|\bLIKE\b", re.IGNORECASE)


_SWAPS: Final = {"?": "%s", "%": "%%"}


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """Return ``sql`` (SQLite's dialect, ``?`` placeholders) as psycopg runs it here.

    ``?`` becomes ``%s``; ``%`` becomes ``%%`` (inside quotes too: psycopg reads
    the whole text); ``LIKE`` becomes ``ILIKE``. Quoted text is otherwise left alone.
    """

    def swap(match: re.Match[str]) -> str:
        token = match.group()
        if token[0] in "'\"":
            return token.replace("%", "%%")
        return _SWAPS.get(token, "ILIKE")

    return _TOKENS.sub(swap, sql)


class _ExactFloatDumper(Dumper):
    """A ``float`` as the exact ``numeric`` it is, always with a fraction (``3.0``)."""

    oid = psycopg.adapters.types["numeric"].oid

    def dump(self, obj: float) -> bytes:
        if math.isnan(obj):
            return b"NaN"
        if math.isinf(obj):
            return b"Infinity" if obj > 0 else b"-Infinity"
        text = format(Decimal(repr(obj)), "f")
        if "." not in text:
            text += ".0"
        return text.encode()


class _NumberLoader(Loader):
    """A ``numeric`` as an ``int`` without a fraction, else a ``float``."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode()
        if "." in text or not text.lstrip("-").isdigit():
            return float(text)
        return int(text)


# --- rows -----------------------------------------------------------------------------


class Row(tuple[Any, ...]):
    """A row as ``sqlite3.Row`` gives it: by index, by column name (any case), ``keys()``."""

    __slots__ = ()
    _names: tuple[str, ...] = ()
    _index: dict[str, int] = {}  # noqa: RUF012 - each subclass replaces it whole

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                key = self._index[key.lower()]
            except KeyError:
                raise IndexError(f"no column named {key!r}") from None
        return tuple.__getitem__(self, key)


@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name.lower(), position)
    return type("Row", (Row,), {"__slots__": (), "_names": names, "_index": index})


def _sqlite_rows(cursor: Any) -> Callable[[Sequence[Any]], Row]:
    """A psycopg row factory making :class:`Row` s for the cursor's columns."""
    description = cursor.description or ()
    return _row_class(tuple(column.name for column in description))


# --- connections ----------------------------------------------------------------------


class PostgresCursor:
    """A cursor of a :class:`PostgresConnection`: ``sqlite3.Cursor``'s interface, typed errors."""

    __slots__ = ("_conn", "_raw", "lastrowid", "row_factory")

    def __init__(self, conn: PostgresConnection) -> None:
        self._conn = conn
        self._raw = conn.raw.cursor()
        self.row_factory: Any = Row
        """``Row`` (the default: as ``sqlite3.Row``) or ``None``: plain tuples."""
        self.lastrowid: int | None = None
        """Always ``None``: ids come back through ``RETURNING``."""

    def _prepare(self) -> None:
        """A fresh raw cursor after a reconnection; rows as :attr:`row_factory` says."""
        if self._raw.connection is not self._conn.raw:
            self._raw = self._conn.raw.cursor()
        self._raw.row_factory = tuple_row if self.row_factory is None else _sqlite_rows

    @property
    def rowcount(self) -> int:
        """Rows changed by the last UPDATE or DELETE (or read by a SELECT)."""
        return self._raw.rowcount

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        """Run ``sql`` (``?`` placeholders) with ``parameters``."""
        query = postgres_sql(sql)
        conn = self._conn
        conn.before_statement()
        self._prepare()
        try:
            self._raw.execute(query, parameters)
        except psycopg.Error as err:
            if not (conn.lost(err) and conn.may_repeat(sql)):
                conn.raise_typed(err)
            conn.reconnect(err)
            self._prepare()
            try:
                self._raw.execute(query, parameters)
            except psycopg.Error as again:
                conn.raise_typed(again)
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        """Run ``sql`` once per parameter set."""
        self._conn.before_statement()
        self._prepare()
        try:
            self._raw.executemany(postgres_sql(sql), seq_of_parameters)
        except psycopg.Error as err:
            self._conn.raise_typed(err)
        return self

    def fetchone(self) -> Any:
        """Return the next row, or ``None``."""
        try:
            return self._raw.fetchone()
        except psycopg.Error as err:
            self._conn.raise_typed(err)

    def fetchmany(self, size: int = 1, /) -> list[Any]:
        """Return up to ``size`` more rows."""
        try:
            return self._raw.fetchmany(size)
        except psycopg.Error as err:
            self._conn.raise_typed(err)

    def fetchall(self) -> list[Any]:
        """Return the remaining rows."""
        try:
            return self._raw.fetchall()
        except psycopg.Error as err:
            self._conn.raise_typed(err)

    def close(self) -> None:
        """Release the cursor."""
        self._raw.close()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class PostgresConnection:
    """A connection to a PostgreSQL run database with ``sqlite3.Connection``'s interface.

    What the repositories use (``execute``, ``executemany``, ``cursor``, ``close``,
    ``in_transaction``) behaves as on SQLite, statements in SQLite's dialect included;
    :meth:`write_transaction` is what ``db.transaction`` runs. ``url`` is the database
    (``str()``: without password), ``db_path`` its shown form (as errors name it).
    """

    def __init__(self, url: DatabaseUrl, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.url = url
        self.db_path = url.public
        self.busy_timeout = busy_timeout
        self._closed = False
        self._depth = 0
        self.raw = self._open()

    # -- opening -----------------------------------------------------------------------

    def _open(self) -> psycopg.Connection[Any]:
        options: dict[str, Any] = {"autocommit": True}
        secret = self.url.secret
        if "connect_timeout" not in secret:
            options["connect_timeout"] = _CONNECT_TIMEOUT
        if "application_name" not in secret:
            options["application_name"] = "runmeta"
        try:
            raw = psycopg.connect(secret, **options)
        except psycopg.Error as err:
            raise DatabaseAccessError(self.db_path, self._detail(err)) from None
        except ValueError as err:  # a URL libpq cannot parse
            raise DatabaseAccessError(self.db_path, self._detail(err)) from None
        raw.adapters.register_dumper(float, _ExactFloatDumper)
        raw.adapters.register_loader("numeric", _NumberLoader)
        try:
            # Waits on a table lock (a migration's) end like a wait on the write lock.
            raw.execute(f"SET lock_timeout = {_milliseconds(self.busy_timeout)}")
        except psycopg.Error as err:
            raw.close()
            raise DatabaseAccessError(self.db_path, self._detail(err)) from None
        return raw

    def reconnect(self, cause: BaseException | None = None) -> None:
        """Open a new session in place of a broken one (only between transactions)."""
        with suppress(psycopg.Error):
            self.raw.close()
        try:
            self.raw = self._open()
        except DatabaseAccessError as err:
            why = f"cannot reconnect: {err.reason}"
            raise DatabaseConnectionLostError(self.db_path, why) from cause

    def before_statement(self) -> None:
        """Reconnect first when the session broke since the last transaction ended."""
        if self._closed:
            raise psycopg.InterfaceError("the run database connection is closed")
        if self._depth == 0 and (self.raw.broken or self.raw.closed):
            self.reconnect()

    def may_repeat(self, sql: str) -> bool:
        """Whether ``sql`` may run again after a broken connection: a read outside a transaction."""
        return self._depth == 0 and sql.lstrip()[:6].upper() == "SELECT"

    # -- sqlite3.Connection's interface --------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or failed and not yet rolled back)."""
        status = self.raw.info.transaction_status
        return status in (
            pq.TransactionStatus.INTRANS,
            pq.TransactionStatus.INERROR,
            pq.TransactionStatus.ACTIVE,
        )

    def cursor(self) -> PostgresCursor:
        """Return a new cursor."""
        return PostgresCursor(self)

    def execute(self, sql: str, parameters: Any = (), /) -> PostgresCursor:
        """Run ``sql`` on a new cursor and return it."""
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> PostgresCursor:
        """Run ``sql`` once per parameter set on a new cursor and return it."""
        return self.cursor().executemany(sql, parameters)

    def close(self) -> None:
        """Close the session; safe to call twice."""
        self._closed = True
        with suppress(psycopg.Error):
            self.raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def write_transaction(self) -> Iterator[Self]:
        """Run the block as one write transaction behind the database-wide write lock.

        ``BEGIN`` and the lock are taken first (a broken session is replaced first:
        nothing has happened yet); on any exception the transaction is rolled back and
        the exception re-raised; nested use is a savepoint of the outer transaction.
        """
        if self._depth:
            self.execute("SAVEPOINT runmeta_nested")
            self._depth += 1
            try:
                yield self
            except BaseException:
                if not self.raw.broken and self.in_transaction:
                    with suppress(psycopg.Error):
                        self.raw.execute("ROLLBACK TO runmeta_nested")
                        self.raw.execute("RELEASE runmeta_nested")
                raise
            else:
                self.execute("RELEASE runmeta_nested")
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
            self._commit()
        except BaseException as err:
            if not self.raw.broken and self.in_transaction:
                with suppress(psycopg.Error):
                    self.raw.execute("ROLLBACK")
            if isinstance(err, psycopg.Error):  # raised by the block itself, untranslated
                self.raise_typed(err)
            raise
        finally:
            self._depth = 0

    def _begin(self) -> None:
        """``BEGIN`` and the write lock, waiting up to the busy timeout (see the module doc)."""
        self.before_statement()
        try:
            self._run("BEGIN")
        except psycopg.Error as err:
            if not self.lost(err):
                self.raise_typed(err)
            self.reconnect(err)  # nothing had begun: begin again on a new session
            try:
                self._run("BEGIN")
            except psycopg.Error as again:
                self.raise_typed(again)
        try:
            row = self._run(f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})").fetchone()
            if row is None or not row[0]:
                self._wait_for_lock()
        except BaseException as err:
            if not self.raw.broken and self.in_transaction:
                with suppress(psycopg.Error):
                    self.raw.execute("ROLLBACK")
            if isinstance(err, psycopg.Error):
                self.raise_typed(err)
            raise

    def _wait_for_lock(self) -> None:
        """Wait for another writer's transaction to end; say so on stderr after a second."""
        budget = self.busy_timeout
        started = time.monotonic()
        if self._lock_within(min(budget, LOCK_NOTICE_AFTER)):
            return
        remaining = budget - (time.monotonic() - started)
        if remaining <= 0:
            raise DatabaseLockedError(self.db_path, budget)
        sys.stderr.write(
            f"runmeta: database {printable(self.db_path)} is busy (locked by another process);"
            f" waiting up to {budget:g} s...\n"
        )
        self._run("BEGIN")
        if not self._lock_within(remaining):
            raise DatabaseLockedError(self.db_path, budget)

    def _lock_within(self, seconds: float) -> bool:
        """Take the write lock within ``seconds``; on a timeout roll back and return False."""
        try:
            self._run(f"SET LOCAL lock_timeout = {_milliseconds(seconds)}")
            self._run(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        except psycopg.errors.LockNotAvailable:
            self.raw.execute("ROLLBACK")
            return False
        return True

    def _commit(self) -> None:
        if self.raw.info.transaction_status == pq.TransactionStatus.INERROR:
            # A statement failed and its error was swallowed: COMMIT would roll back
            # without a word.
            raise DatabaseError(
                self.db_path,
                f"run database {self.db_path}: a statement of the transaction failed;"
                " nothing was changed",
            )
        try:
            self.raw.execute("COMMIT")
        except psycopg.Error as err:
            self.raise_typed(err, committing=True)

    def _run(self, sql: str) -> psycopg.Cursor[Any]:
        """Run one statement of our own (no placeholders) on the session."""
        return self.raw.execute(sql)

    # -- errors --------------------------------------------------------------------------

    def lost(self, err: BaseException) -> bool:
        """Whether ``err`` says the session is gone (the server, or the network)."""
        state = getattr(err, "sqlstate", None) or ""
        return (
            self.raw.broken
            or (self.raw.closed and not self._closed)
            or state.startswith("08")
            or state in _LOST
        )

    def typed_error(self, err: BaseException, *, committing: bool = False) -> DatabaseError | None:
        """The :class:`DatabaseError` that stands for ``err``, or ``None`` (not the server's).

        Misuse of the driver (``InterfaceError``, a ``ProgrammingError`` without a
        SQLSTATE: a wrong number of parameters) is a bug and stays as it is.
        """
        if not isinstance(err, psycopg.Error):
            return None
        state = err.sqlstate or ""
        if isinstance(err, psycopg.InterfaceError) and not self.lost(err):
            return None
        if isinstance(err, psycopg.ProgrammingError) and not state:
            return None
        path = self.db_path
        detail = self._detail(err)
        typed: DatabaseError
        if self.lost(err):
            typed = DatabaseConnectionLostError(path, detail, unknown_outcome=committing)
        elif state in _LOCKED:
            typed = DatabaseLockedError(path, self.busy_timeout)
        elif state == "53100":
            typed = DatabaseFullError(path, detail)
        elif state == "58030":
            typed = DatabaseIOError(path, detail)
        elif state == "25006":
            typed = DatabaseReadOnlyError(path, detail, hint="give a user that may write")
        elif state.startswith(_ACCESS):
            typed = DatabaseAccessError(path, detail)
        else:
            typed = DatabaseError(path, f"run database {path}: {detail}")
        typed.sqlstate = state or None
        typed.constraint = _CONSTRAINTS.get(state)
        return typed

    def raise_typed(self, err: psycopg.Error, *, committing: bool = False) -> NoReturn:
        """Raise the :meth:`typed_error` of ``err`` (from it), or ``err`` itself."""
        typed = self.typed_error(err, committing=committing)
        if typed is None:
            raise err
        raise typed from err

    def _detail(self, err: BaseException) -> str:
        """The driver's message on one short line, the password masked."""
        import textwrap  # noqa: PLC0415 - only a failure pays for it

        diag = getattr(err, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        text = primary or str(err) or type(err).__name__
        text = " ".join(self.url.scrub(text).split())
        return textwrap.shorten(text, width=_LONGEST_DETAIL, placeholder=" ...")

    # -- the schema ----------------------------------------------------------------------

    def schema_version(self) -> int:
        """The version in ``runmeta_schema`` (0 when the table does not exist).

        Raises :class:`DatabaseAccessError` when there is no version table but tables
        with our names (another program's), judged in one snapshot: a migration that
        another process commits meanwhile creates them all at once.
        """
        tables = self.existing_tables((VERSION_TABLE, *_OWN_TABLES))
        if VERSION_TABLE not in tables:
            if tables:
                raise DatabaseAccessError(
                    self.db_path,
                    f"it holds tables of another program ({', '.join(tables)}, without"
                    f" {VERSION_TABLE}); left untouched",
                )
            return 0
        row = self.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()  # noqa: S608
        return int(row[0] or 0)

    def existing_tables(self, names: Sequence[str]) -> list[str]:
        """Those of ``names`` that are tables (or views...) of the current schema.

        Read from ``pg_class`` with the statement's own snapshot: ``to_regclass`` reads
        the session's catalog cache, which can miss a table another session created
        while this one waited for the write lock (a concurrent migration).
        """
        marks = ", ".join("?" * len(names))
        rows = self.execute(
            "SELECT c.relname FROM pg_catalog.pg_class AS c"  # noqa: S608 - placeholders only
            " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
            f" WHERE n.nspname = current_schema() AND c.relname IN ({marks})",
            tuple(names),
        ).fetchall()
        present = {str(row[0]) for row in rows}
        return [name for name in names if name in present]

    def restart_run_ids(self, after: int) -> None:
        """Make the next run id ``after + 1`` (``runs.run_id``'s identity sequence)."""
        self.execute(
            "SELECT setval(pg_get_serial_sequence('runs', 'run_id'), ?, ?)",
            (max(after, 1), after >= 1),
        )


def _milliseconds(seconds: float) -> int:
    """A PostgreSQL timeout in whole milliseconds, at least 1 (0 would mean none)."""
    return max(int(seconds * 1000), 1)


# --- schema and migrations ------------------------------------------------------------

# Every text column is COLLATE "C": byte order, as SQLite compares, whatever the
# server's locale (and ILIKE then folds ASCII letters only, as SQLite's LIKE).
POSTGRES_MIGRATIONS: Final[tuple[MigrationStep, ...]] = (
    MigrationStep(
        version=1,
        description="projects and runs tables with their search indexes",
        statements=(
            """CREATE TABLE projects (
  project_id TEXT COLLATE "C" PRIMARY KEY,
  project_path TEXT COLLATE "C" NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  note TEXT COLLATE "C" DEFAULT ''
)""",
            """CREATE TABLE runs (
  run_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  created_at TEXT COLLATE "C" NOT NULL,
  started_at TEXT COLLATE "C" NOT NULL,
  ended_at TEXT COLLATE "C",
  status TEXT COLLATE "C" NOT NULL CHECK(status IN ('running','success','fail','killed')),
  command TEXT COLLATE "C" NOT NULL,
  git_commit TEXT COLLATE "C",
  note TEXT COLLATE "C" DEFAULT '',
  project_id TEXT COLLATE "C",
  updated_at TEXT COLLATE "C" NOT NULL,
  FOREIGN KEY(project_id) REFERENCES projects(project_id)
    ON UPDATE CASCADE ON DELETE SET NULL
)""",
            # SQLite's indexes end with the rowid (run_id); here it is said.
            "CREATE INDEX idx_runs_created_at ON runs(created_at, run_id)",
            "CREATE INDEX idx_runs_status ON runs(status)",
            "CREATE INDEX idx_runs_project_id ON runs(project_id)",
            "CREATE INDEX idx_runs_project_created ON runs(project_id, created_at, run_id)",
            "CREATE INDEX idx_runs_status_created ON runs(status, created_at, run_id)",
        ),
    ),
    MigrationStep(
        version=2,
        description="index for pages filtered by project and status together",
        statements=(
            "CREATE INDEX idx_runs_project_status_created"
            " ON runs(project_id, status, created_at, run_id)",
        ),
    ),
    MigrationStep(
        version=3,
        description="the recording process, the reason and the folder's owner in each run",
        statements=(
            'ALTER TABLE runs ADD COLUMN host TEXT COLLATE "C"',
            "ALTER TABLE runs ADD COLUMN pid BIGINT",
            'ALTER TABLE runs ADD COLUMN process_start TEXT COLLATE "C"',
            'ALTER TABLE runs ADD COLUMN reason TEXT COLLATE "C"',
            'ALTER TABLE runs ADD COLUMN folder TEXT COLLATE "C"',
        ),
    ),
    MigrationStep(
        version=4,
        description="parent and child runs (a sweep is a parent run, each case a child)",
        statements=(
            "ALTER TABLE runs ADD COLUMN parent_run_id BIGINT"
            " REFERENCES runs(run_id) ON DELETE RESTRICT",
            "CREATE INDEX idx_runs_parent_created ON runs(parent_run_id, created_at, run_id)",
        ),
    ),
    MigrationStep(
        version=5,
        description="the headline figures of each run (run_metrics), searchable by value",
        statements=(
            # numeric keeps an integer and a float apart (see the module documentation).
            """CREATE TABLE run_metrics (
  run_id BIGINT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  key TEXT COLLATE "C" NOT NULL,
  number NUMERIC,
  text TEXT COLLATE "C",
  PRIMARY KEY (run_id, key),
  CHECK (number IS NULL OR text IS NULL
         OR (number IN (0, 1) AND text IN ('false', 'true')))
)""",
            "CREATE INDEX idx_run_metrics_key_number ON run_metrics(key, number)",
            "CREATE INDEX idx_run_metrics_key_text ON run_metrics(key, text)",
        ),
    ),
)
"""Every schema step for PostgreSQL, oldest first; the versions are SQLite's."""


def migrate(conn: PostgresConnection, steps: Sequence[MigrationStep] = POSTGRES_MIGRATIONS) -> None:
    """Bring the schema up to the last of ``steps``; each step is atomic.

    Safe to call again and from several processes at once (the version is read again
    behind the write lock). Raises :class:`SchemaTooNewError` for a newer database
    and :class:`DatabaseAccessError` for another program's tables (nothing written).
    """
    latest = len(steps)
    version = conn.schema_version()
    if version > latest:
        raise SchemaTooNewError(conn.db_path, version, latest)
    while version < latest:
        with conn.write_transaction():
            version = conn.schema_version()
            if version > latest:
                raise SchemaTooNewError(conn.db_path, version, latest)
            if version == latest:
                break
            if version == 0:  # no table of ours yet (schema_version() made sure)
                conn.execute(f"CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL)")
                conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)")  # noqa: S608
            step = steps[version]
            for statement in step.statements:
                conn.execute(statement)
            version = step.version
            conn.execute(f"UPDATE {VERSION_TABLE} SET version = ?", (version,))  # noqa: S608


class PostgresConnectionFactory:
    """Opens connections to a PostgreSQL run database, migrated (see the module documentation)."""

    __slots__ = ("_busy_timeout", "_url")

    def __init__(self, url: DatabaseUrl, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self._url = url
        self._busy_timeout = busy_timeout

    @property
    def db_path(self) -> DatabaseUrl:
        """The database (``str()``: its URL without password)."""
        return self._url

    def connect(self, *, read_only: bool = False) -> PostgresConnection:
        """Open a session, creating and migrating the schema if needed.

        With ``read_only`` nothing is created: a database without the schema raises
        :class:`DatabaseNotFoundError` (nothing recorded yet). A database of an older
        schema is migrated either way, as on SQLite.
        """
        conn = PostgresConnection(self._url, busy_timeout=self._busy_timeout)
        try:
            version = conn.schema_version()
            if version > SCHEMA_VERSION:
                raise SchemaTooNewError(conn.db_path, version, SCHEMA_VERSION)
            if version == 0 and read_only:
                raise DatabaseNotFoundError(conn.db_path)
            if version < SCHEMA_VERSION:
                migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def migrate(self, conn: PostgresConnection) -> None:
        """Bring ``conn``'s schema up to date (see :func:`migrate`)."""
        migrate(conn)


def connector(url: DatabaseUrl, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Callable[[], Any]:
    """A function opening a read-only session of ``url`` per call (the run browser's)."""
    factory = PostgresConnectionFactory(url, busy_timeout=busy_timeout)
    return lambda: factory.connect(read_only=True)
