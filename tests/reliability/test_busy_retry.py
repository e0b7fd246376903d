"""The bounded SQLITE_BUSY retry: what is retried, what is not, and that it gives up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monocycle_nash.runmeta.db import SQLiteConnectionFactory, is_busy, retry_busy, transaction


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


def test_retry_gives_up_after_the_timeout() -> None:
    """A lock that never clears raises the busy error once the time is spent."""
    calls: list[int] = []

    def operation() -> None:
        calls.append(1)
        raise _busy()

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_busy(operation, timeout=0.05)
    assert 1 < len(calls) < 100


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
                pytest.raises(sqlite3.OperationalError, match="locked") as caught,
                transaction(second),
            ):
                pass  # pragma: no cover - the lock is never granted
            assert is_busy(caught.value)
        with transaction(second):
            second.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
    finally:
        first.close()
        second.close()
