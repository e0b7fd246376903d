"""Tests of connections, migrations and the transaction helper, on real SQLite files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from monocycle_nash.runmeta.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    MigrationStep,
    SQLiteConnectionFactory,
    migrate,
    schema_version,
    transaction,
)
from monocycle_nash.runmeta.errors import (
    DatabaseAccessError,
    DatabaseCorruptError,
    DatabaseError,
    DatabaseLockedError,
    NotADatabaseError,
    SchemaTooNewError,
)


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows} - {"sqlite_sequence"}


def _indexes(conn: sqlite3.Connection) -> dict[str, list[str]]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'"
        " AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {
        row[0]: [info[2] for info in conn.execute(f"PRAGMA index_info({row[0]})")] for row in rows
    }


def _open_transaction(conn: sqlite3.Connection) -> bool:
    return conn.in_transaction  # read anew: a type checker would keep the earlier narrowing


def test_connect_creates_parent_folder_schema_and_pragmas(tmp_path: Path) -> None:
    """A missing database is created with the SPEC schema, WAL and foreign keys on."""
    db_path = tmp_path / "deep" / ".runmeta" / "run_history.db"
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        assert db_path.is_file()
        assert _tables(conn) == {"projects", "runs", "run_metrics"}
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
        assert conn.isolation_level is None
        assert schema_version(conn) == SCHEMA_VERSION
        row = conn.execute("SELECT 1 AS one").fetchone()
        assert row["one"] == 1  # rows are sqlite3.Row
    finally:
        conn.close()


def test_schema_has_every_column_and_index(tmp_path: Path) -> None:
    """runs has the SPEC columns and the indexes for filtered, ordered pages."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite").connect()
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        assert columns == [
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
            "host",
            "pid",
            "process_start",
            "reason",
            "folder",
            "parent_run_id",
        ]
        assert [row[1] for row in conn.execute("PRAGMA table_info(projects)")] == [
            "project_id",
            "project_path",
            "created_at",
            "note",
        ]
        assert sorted(_indexes(conn).values()) == sorted(
            [
                ["created_at"],
                ["status"],
                ["project_id"],
                ["project_id", "created_at"],
                ["status", "created_at"],
                ["project_id", "status", "created_at"],
                ["parent_run_id", "created_at"],
            ]
        )
        keys = {
            (fk["from"], fk["table"], fk["to"], fk["on_update"], fk["on_delete"])
            for fk in conn.execute("PRAGMA foreign_key_list(runs)")
        }
        assert keys == {
            ("project_id", "projects", "project_id", "CASCADE", "SET NULL"),
            ("parent_run_id", "runs", "run_id", "NO ACTION", "RESTRICT"),
        }
    finally:
        conn.close()


def test_status_check_constraint(tmp_path: Path) -> None:
    """The database itself refuses a status outside the four, as a typed error with its code."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite").connect()
    try:
        with pytest.raises(DatabaseError, match="CHECK constraint failed") as caught:
            conn.execute(
                "INSERT INTO runs (created_at, started_at, status, command, updated_at)"
                " VALUES ('t', 't', 'paused', 'c', 't')"
            )
    finally:
        conn.close()
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    assert caught.value.sqlite_errorname == "SQLITE_CONSTRAINT_CHECK"
    assert str(caught.value).startswith(f"run database {tmp_path / 'db.sqlite'}: ")


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    """Migrating an up-to-date database changes nothing and keeps the data."""
    factory = SQLiteConnectionFactory(tmp_path / "db.sqlite")
    conn = factory.connect()
    try:
        conn.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
        migrate(conn)
        factory.migrate(conn)
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 1
    finally:
        conn.close()
    again = factory.connect()
    try:
        assert again.execute("SELECT count(*) FROM projects").fetchone()[0] == 1
    finally:
        again.close()


def test_migrate_applies_steps_in_order_with_versions(tmp_path: Path) -> None:
    """Each step bumps user_version; a later step runs on top of the earlier ones."""
    steps = (
        *MIGRATIONS,
        MigrationStep(SCHEMA_VERSION + 1, "extra", ("CREATE TABLE extra (x INTEGER)",)),
    )
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    try:
        migrate(conn, steps)
        assert schema_version(conn) == SCHEMA_VERSION + 1
        assert _tables(conn) == {"projects", "runs", "run_metrics", "extra"}
    finally:
        conn.close()


def test_failing_step_rolls_back_with_its_version(tmp_path: Path) -> None:
    """A step that fails half-way leaves neither its tables nor its version bump."""
    broken = MigrationStep(
        SCHEMA_VERSION + 1,
        "broken",
        ("CREATE TABLE half_done (x INTEGER)", "CREATE TABLE runs (oops)"),
    )
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite").connect()
    try:
        with pytest.raises(DatabaseError, match="table runs already exists"):
            migrate(conn, (*MIGRATIONS, broken))
        assert schema_version(conn) == SCHEMA_VERSION
        assert "half_done" not in _tables(conn)
        assert not conn.in_transaction
    finally:
        conn.close()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    """A database written by a newer program raises SchemaTooNewError and is untouched."""
    db_path = tmp_path / "db.sqlite"
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(SchemaTooNewError, match="newer") as caught:
        SQLiteConnectionFactory(db_path).connect()
    assert caught.value.found == SCHEMA_VERSION + 1
    raw = sqlite3.connect(db_path)
    try:
        assert schema_version(raw) == SCHEMA_VERSION + 1
        assert _tables(raw) == set()
    finally:
        raw.close()


def test_file_that_is_not_a_database_is_refused_and_kept(tmp_path: Path) -> None:
    """A non-SQLite file raises NotADatabaseError and keeps its bytes."""
    db_path = tmp_path / "run_history.db"
    content = b"these are my notes, not a database\n" * 100
    db_path.write_bytes(content)
    with pytest.raises(NotADatabaseError, match="not an SQLite database"):
        SQLiteConnectionFactory(db_path).connect()
    assert db_path.read_bytes() == content
    assert not (tmp_path / "run_history.db-wal").exists()


def test_transaction_commits_on_success(tmp_path: Path) -> None:
    """Writes inside transaction() are visible to another connection afterwards."""
    factory = SQLiteConnectionFactory(tmp_path / "db.sqlite")
    conn, other = factory.connect(), factory.connect()
    try:
        with transaction(conn):
            conn.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
            assert conn.in_transaction
        assert not _open_transaction(conn)
        assert other.execute("SELECT count(*) FROM projects").fetchone()[0] == 1
    finally:
        conn.close()
        other.close()


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(ValueError("boom"), id="exception"),
        pytest.param(KeyboardInterrupt(), id="keyboard-interrupt"),
    ],
)
def test_transaction_rolls_back_and_reraises(tmp_path: Path, error: BaseException) -> None:
    """Any exception inside transaction() rolls the writes back and propagates."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite").connect()
    try:
        with pytest.raises(type(error)), transaction(conn):
            conn.execute("INSERT INTO projects VALUES ('p', '/p', 't', '')")
            raise error
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
        assert not conn.in_transaction
    finally:
        conn.close()


def test_nested_transaction_is_a_savepoint(tmp_path: Path) -> None:
    """A failing inner block undoes only its own writes."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite").connect()
    try:
        with transaction(conn):
            conn.execute("INSERT INTO projects VALUES ('a', '/a', 't', '')")
            with pytest.raises(ValueError, match="inner"), transaction(conn):
                conn.execute("INSERT INTO projects VALUES ('b', '/b', 't', '')")
                raise ValueError("inner")
        rows = conn.execute("SELECT project_id FROM projects").fetchall()
        assert [row[0] for row in rows] == ["a"]
    finally:
        conn.close()


def test_writer_waits_for_another_writer(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE with a busy timeout waits instead of failing at once."""
    factory = SQLiteConnectionFactory(tmp_path / "db.sqlite", busy_timeout=0.2)
    first, second = factory.connect(), factory.connect()
    try:
        with transaction(first):
            first.execute("INSERT INTO projects VALUES ('a', '/a', 't', '')")
            with pytest.raises(DatabaseLockedError, match="locked"), transaction(second):
                pass  # pragma: no cover - BEGIN IMMEDIATE cannot get the lock
        with transaction(second):
            second.execute("INSERT INTO projects VALUES ('b', '/b', 't', '')")
        assert second.execute("SELECT count(*) FROM projects").fetchone()[0] == 2
    finally:
        first.close()
        second.close()


_MIGRATE_SCRIPT = """
import sys
from monocycle_nash.runmeta.db import SQLiteConnectionFactory, transaction
from monocycle_nash.runmeta.repositories import RunsRepository
conn = SQLiteConnectionFactory(sys.argv[1]).connect()
try:
    for _ in range(5):
        with transaction(conn):
            RunsRepository(conn).create_running("c", None, "", None, "t", "t", "t")
finally:
    conn.close()
"""


def test_processes_creating_a_missing_database_at_once(tmp_path: Path) -> None:
    """Several processes opening a missing database together migrate it once, lose nothing."""
    db_path = tmp_path / "fresh" / "run_history.db"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_SCRIPT, str(db_path)], stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 6, errors
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        ids = [row[0] for row in conn.execute("SELECT run_id FROM runs ORDER BY run_id")]
        assert ids == list(range(1, 31))
        assert schema_version(conn) == SCHEMA_VERSION
    finally:
        conn.close()


def test_unopenable_path_is_a_typed_error(tmp_path: Path) -> None:
    """A database path that is a folder raises DatabaseAccessError naming it."""
    folder = tmp_path / "run_history.db"
    folder.mkdir()
    with pytest.raises(DatabaseAccessError, match=r"run_history\.db"):
        SQLiteConnectionFactory(folder).connect()


def test_version_1_database_is_upgraded_with_its_runs_kept(tmp_path: Path) -> None:
    """A database left at schema version 1 gains the version 2 index and keeps its rows."""
    db_path = tmp_path / "old.db"
    raw = sqlite3.connect(db_path, isolation_level=None)
    try:
        migrate(raw, steps=MIGRATIONS[:1])
        raw.execute(
            "INSERT INTO runs (created_at, started_at, status, command, updated_at)"
            " VALUES ('2026-01-01T00:00:00+09:00', '2026-01-01T00:00:00+09:00', 'success',"
            " 'old run', '2026-01-01T00:00:00+09:00')"
        )
        assert schema_version(raw) == 1
    finally:
        raw.close()
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        assert _indexes(conn)["idx_runs_project_status_created"] == [
            "project_id",
            "status",
            "created_at",
        ]
        assert [row["command"] for row in conn.execute("SELECT command FROM runs")] == ["old run"]
    finally:
        conn.close()


def test_version_2_database_is_upgraded_with_its_runs_kept(tmp_path: Path) -> None:
    """A version 2 database gains the process, reason and folder columns; its rows stay."""
    from monocycle_nash.runmeta.repositories import RunBookkeeping, RunsRepository  # noqa: PLC0415

    db_path = tmp_path / "v2.db"
    raw = sqlite3.connect(db_path, isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode = WAL")
        migrate(raw, steps=MIGRATIONS[:2])
        for index, status in enumerate(("success", "running")):
            raw.execute(
                "INSERT INTO runs (created_at, started_at, ended_at, status, command, note,"
                " updated_at) VALUES ('2026-01-01T00:00:00+09:00', '2026-01-01T00:00:00+09:00',"
                " NULL, ?, ?, 'kept', '2026-01-01T00:00:00+09:00')",
                (status, f"old run {index}"),
            )
        before = raw.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        assert schema_version(raw) == 2
    finally:
        raw.close()
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        assert schema_version(conn) == SCHEMA_VERSION
        rows = [tuple(row) for row in conn.execute("SELECT * FROM runs ORDER BY run_id")]
        assert rows == [(*row, None, None, None, None, None, None) for row in before]
        runs = RunsRepository(conn)
        assert [run.command for run in runs.list_runs()] == ["old run 1", "old run 0"]
        assert runs.bookkeeping(2) == RunBookkeeping(None, None, None, None, None)
        assert runs.bookkeeping(2).process is None
        new_id = runs.create_running(
            "new", None, "", None, "t", "t", "t", host="h", pid=7, process_start="b:1"
        )
        assert new_id == 3
        assert runs.bookkeeping(3).process is not None
    finally:
        conn.close()


def test_database_under_a_file_names_the_file(tmp_path: Path) -> None:
    """A database path whose parent is a file says which part is not a folder."""
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    db_path = tmp_path / "notes.txt" / "deep" / "run_history.db"
    with pytest.raises(DatabaseAccessError) as caught:
        SQLiteConnectionFactory(db_path).connect()
    assert str(caught.value).endswith(f"{tmp_path / 'notes.txt'} is a file, not a folder")


def test_database_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    """A database path naming a folder is refused as a folder, not 'unable to open'."""
    with pytest.raises(DatabaseAccessError) as caught:
        SQLiteConnectionFactory(tmp_path).connect()
    assert str(caught.value) == (
        f"cannot open run database {tmp_path}: it is a folder, not a database file"
    )


def test_sqlite_file_of_another_program_is_left_untouched(tmp_path: Path) -> None:
    """An SQLite file with other tables and no schema version is refused, byte for byte kept."""
    db_path = tmp_path / "other.sqlite"
    other = sqlite3.connect(db_path)
    try:
        with other:
            other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    finally:
        other.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseAccessError) as caught:
        SQLiteConnectionFactory(db_path).connect()
    assert str(caught.value) == (
        f"cannot open run database {db_path}: it is an SQLite database of another program"
        " (tables: invoices); left untouched"
    )
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]


def test_schema_typed_in_from_the_design_is_adopted(tmp_path: Path) -> None:
    """A file holding only the design's projects and runs tables (version 0) is migrated."""
    db_path = tmp_path / "run_history.db"
    typed = sqlite3.connect(db_path)
    try:
        with typed:
            for statement in MIGRATIONS[0].statements[:2]:
                typed.execute(statement)
    finally:
        typed.close()
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        assert schema_version(conn) == SCHEMA_VERSION
    finally:
        conn.close()


def test_transaction_on_a_plain_connection_raises_typed_errors(tmp_path: Path) -> None:
    """transaction() on a plain connection types a failure, naming the file SQLite reports."""
    db_path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        with (
            pytest.raises(DatabaseError, match="no such table: missing") as caught,
            transaction(conn),
        ):
            conn.execute("INSERT INTO missing VALUES (1)")
        assert not conn.in_transaction
    finally:
        conn.close()
    assert str(caught.value) == f"run database {db_path}: no such table: missing"
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert caught.value.sqlite_errorname == "SQLITE_ERROR"


def test_misuse_of_the_driver_keeps_its_own_error(tmp_path: Path) -> None:
    """A wrong number of parameters or a closed connection is a bug: sqlite3's error, untyped."""
    conn = SQLiteConnectionFactory(tmp_path / "db.sqlite").connect()
    try:
        with pytest.raises(sqlite3.ProgrammingError, match="bindings"):
            conn.execute("SELECT ?", ())
    finally:
        conn.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("SELECT 1")


def test_a_damaged_text_value_is_reported_as_damage_in_one_line(tmp_path: Path) -> None:
    """A stored text that is not UTF-8 (with a line break) is DatabaseCorruptError, one line."""
    db_path = tmp_path / "db.sqlite"
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        conn.execute("INSERT INTO projects VALUES ('p', CAST(x'ff0a41' AS TEXT), 't', '')")
        with pytest.raises(DatabaseCorruptError) as caught:
            conn.execute("SELECT project_path FROM projects").fetchall()
    finally:
        conn.close()
    assert str(caught.value) == (
        f"run database {db_path} is damaged (Could not decode to UTF-8 column"
        " 'project_path'); rebuild it from the run folders with `runmeta rebuild"
        " --move-aside`, or restore it from a backup"
    )
