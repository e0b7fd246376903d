"""A database another process keeps locked: one clear error, nothing changed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta import (
    DatabaseLockedError,
    FixedClock,
    RunMetaError,
    RunSessionService,
    SQLiteConnectionFactory,
    transaction,
)
from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.errors import DatabaseError

_SHORT = 0.1  # seconds of busy timeout: the lock outlasts it


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root holding one finished run (run 1)."""
    with RunSessionService.open(tmp_path, clock=FixedClock("2026-02-14T19:30:12+09:00")) as s:
        s.finish_success(s.start("first"))
    return tmp_path


@pytest.fixture
def locked(root: Path) -> Iterator[None]:
    """Another connection holds BEGIN EXCLUSIVE on the database while the test runs."""
    holder = sqlite3.connect(root / ".runmeta" / "run_history.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@pytest.mark.usefixtures("locked")
def test_transaction_on_a_locked_database_raises_a_clear_error(root: Path) -> None:
    """A write lock held past the busy timeout is DatabaseLockedError, chaining SQLite's busy."""
    conn = SQLiteConnectionFactory(root / ".runmeta" / "run_history.db").connect()
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(_SHORT * 1000)}")
        with pytest.raises(DatabaseLockedError) as caught, transaction(conn):
            pass  # pragma: no cover - BEGIN fails
    finally:
        conn.close()
    assert isinstance(caught.value, DatabaseError)
    assert isinstance(caught.value, RunMetaError)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert caught.value.sqlite_errorname == "SQLITE_BUSY"
    assert str(caught.value) == (
        f"run database {root / '.runmeta' / 'run_history.db'} is locked by another process"
        " (waited 0.1 s); nothing was changed, try again later"
    )


def test_update_run_on_a_locked_database_changes_nothing(root: Path) -> None:
    """update_run refused by a lock leaves the row and meta.json as they were."""
    meta_before = (root / "result" / "1" / "meta.json").read_text(encoding="utf-8")
    with RunSessionService.open(root, busy_timeout=_SHORT) as service:
        holder = sqlite3.connect(root / ".runmeta" / "run_history.db", isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(DatabaseLockedError):
                service.edits.update_run(1, note="changed")
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert service.runs.get(1).note == ""
    assert (root / "result" / "1" / "meta.json").read_text(encoding="utf-8") == meta_before


def _short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI's service give up on a lock after ``_SHORT`` seconds."""
    original = RunSessionService.open.__func__  # type: ignore[attr-defined]

    def open_quickly(cls: type[RunSessionService], *args: Any, **kwargs: Any) -> Any:
        return original(cls, *args, **{**kwargs, "busy_timeout": _SHORT})

    monkeypatch.setattr(RunSessionService, "open", classmethod(open_quickly))


@pytest.mark.usefixtures("locked")
@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["update-run", "--run-id", "1", "--note", "x"], id="update-run"),
        pytest.param(["delete-run", "--run-id", "1"], id="delete-run"),
        pytest.param(["add-project", "--project-id", "p", "--project-path", "."], id="add"),
    ],
)
def test_cli_on_a_locked_database_prints_one_line(
    root: Path,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A write refused by a lock exits 1 with one 'is locked' line and no traceback."""
    _short_busy_timeout(monkeypatch)
    monkeypatch.chdir(root)
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("runmeta: error: run database ")
    assert "is locked by another process" in err
    meta = json.loads((root / "result" / "1" / "meta.json").read_text(encoding="utf-8"))
    assert meta["note"] == ""


def test_opening_a_locked_rollback_journal_database_says_it_is_locked(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without WAL a writer blocks readers: list-runs then says 'locked', in one line."""
    db = root / ".runmeta" / "run_history.db"
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode = DELETE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseLockedError, match="is locked by another process"):
            SQLiteConnectionFactory(db, busy_timeout=_SHORT).connect()
        original = SQLiteConnectionFactory.__init__

        def quick(self: SQLiteConnectionFactory, path: Path, **kwargs: Any) -> None:
            original(self, path, busy_timeout=_SHORT)

        monkeypatch.setattr(SQLiteConnectionFactory, "__init__", quick)
        monkeypatch.chdir(root)
        assert main(["list-runs"]) == 1
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"runmeta: error: run database {Path('.runmeta/run_history.db')} is locked by another"
        " process (waited 0.1 s); nothing was changed, try again later\n"
    )
