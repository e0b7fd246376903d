"""The bounded SQLITE_BUSY retry: what is retried, what is not, and that it gives up."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from monocycle_nash.runmeta import db
from monocycle_nash.runmeta.db import (
    RunDatabaseConnection,
    SQLiteConnectionFactory,
    is_busy,
    retry_busy,
    transaction,
)
from monocycle_nash.runmeta.errors import DatabaseLockedError


def _busy() -> sqlite3.OperationalError:
    err = sqlite3.OperationalError("database is locked")
    err.sqlite_errorcode = 5
    return err


def test_busy_operation_is_retried_until_it_succeeds() -> None:
    """An operation failing with SQLITE_BUSY twice is called a third time and returns."""
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _busy()
        return "done"

    assert retry_busy(operation, timeout=5) == "done"
    assert len(calls) == 3


def test_retry_gives_up_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock that never clears: pauses double from 2 ms to 100 ms until the timeout, then raise."""
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 9))
        now[0] += seconds

    # A fake clock that only sleeping advances, and no jitter: the schedule is exact.
    monkeypatch.setattr(db, "time", SimpleNamespace(monotonic=lambda: now[0], sleep=sleep))
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise _busy()

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_busy(operation, timeout=0.5)
    assert sleeps == [0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.1, 0.1, 0.1]
    assert len(calls) == len(sleeps) + 1


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(sqlite3.OperationalError("no such table: x"), id="other-operational"),
        pytest.param(sqlite3.IntegrityError("UNIQUE constraint failed"), id="integrity"),
    ],
)
def test_other_errors_are_not_retried(error: sqlite3.Error) -> None:
    """Only SQLITE_BUSY is retried; any other error is raised at the first attempt."""
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        retry_busy(operation, timeout=5)
    assert calls == [1]
    assert not is_busy(error)


def test_may_retry_can_forbid_a_retry() -> None:
    """When may_retry says no (e.g. the transaction closed), the busy error is raised."""
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise _busy()

    with pytest.raises(sqlite3.OperationalError):
        retry_busy(operation, timeout=5, may_retry=lambda: False)
    assert calls == [1]


def test_real_lock_is_raised_after_the_connection_busy_timeout(tmp_path: Path) -> None:
    """A writer holding the lock makes BEGIN IMMEDIATE fail after the busy timeout only."""
    factory = SQLiteConnectionFactory(tmp_path / "db.sqlite", busy_timeout=0.1)
    first, second = factory.connect(), factory.connect()
    try:
        with transaction(first):
            assert is_busy(_busy())
            with (
                pytest.raises(DatabaseLockedError, match="locked") as caught,
                transaction(second),
            ):
                pass  # pragma: no cover - the lock is never granted
            assert is_busy(caught.value)
        with transaction(second):
            second.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
    finally:
        first.close()
        second.close()


class _FlakyConnection(RunDatabaseConnection):
    """A real connection whose chosen statements first answer SQLITE_BUSY, as under load."""

    busy: ClassVar[dict[str, int]] = {}
    rollback_on_busy: ClassVar[bool] = False
    seen: ClassVar[list[str]] = []

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        """Run ``sql``, unless it is still due to fail with SQLITE_BUSY."""
        _FlakyConnection.seen.append(sql)
        if _FlakyConnection.busy.get(sql, 0) > 0:
            _FlakyConnection.busy[sql] -= 1
            if _FlakyConnection.rollback_on_busy:
                super().execute("ROLLBACK")  # as if SQLite had given the transaction up
            raise _busy()
        return super().execute(sql, *args)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> type[_FlakyConnection]:
    """Make every new connection a _FlakyConnection (no statement flaky yet)."""
    real_connect = sqlite3.connect
    monkeypatch.setattr(_FlakyConnection, "busy", {})
    monkeypatch.setattr(_FlakyConnection, "seen", [])
    monkeypatch.setattr(_FlakyConnection, "rollback_on_busy", False)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        assert kwargs["factory"] is RunDatabaseConnection
        return real_connect(*args, **{**kwargs, "factory": _FlakyConnection})

    monkeypatch.setattr(sqlite3, "connect", connect)
    return _FlakyConnection


def test_busy_wal_switch_of_a_new_database_is_retried(
    tmp_path: Path, flaky: type[_FlakyConnection]
) -> None:
    """The WAL switch answering SQLITE_BUSY at once (many processes opening) is retried."""
    flaky.busy["PRAGMA journal_mode = WAL"] = 3
    conn = SQLiteConnectionFactory(tmp_path / "new.db", busy_timeout=5).connect()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert flaky.seen.count("PRAGMA journal_mode = WAL") == 4


def test_busy_commit_of_an_open_transaction_is_retried_and_the_insert_runs_once(
    tmp_path: Path, flaky: type[_FlakyConnection]
) -> None:
    """A busy COMMIT leaves the transaction open: COMMIT is retried, the INSERT is not."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite", busy_timeout=5).connect()
    try:
        flaky.seen.clear()  # opening migrated the new database in its own transaction
        flaky.busy.update({"BEGIN IMMEDIATE": 2, "COMMIT": 2})
        with transaction(conn):
            conn.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 1
    finally:
        conn.close()
    assert flaky.seen.count("BEGIN IMMEDIATE") == 3
    assert flaky.seen.count("COMMIT") == 3
    assert sum(sql.startswith("INSERT") for sql in flaky.seen) == 1


def test_busy_commit_after_the_transaction_ended_is_raised(
    tmp_path: Path, flaky: type[_FlakyConnection]
) -> None:
    """If the transaction is gone after a busy COMMIT, nothing is retried or re-run."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite", busy_timeout=5).connect()
    try:
        flaky.seen.clear()
        flaky.busy["COMMIT"] = 1
        flaky.rollback_on_busy = True
        with pytest.raises(DatabaseLockedError, match="locked"), transaction(conn):
            conn.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
        assert not conn.in_transaction
    finally:
        conn.close()
    assert flaky.seen.count("COMMIT") == 1
