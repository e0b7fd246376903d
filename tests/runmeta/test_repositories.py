"""Tests of RunsRepository and ProjectsRepository against a real database.

The ``conn`` fixture is a fresh database of each backend (an SQLite file, a PostgreSQL
database); the tests of SQLite's query plans and damaged pages use SQLite files only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monocycle_nash.runmeta.db import SQLiteConnectionFactory, transaction
from monocycle_nash.runmeta.errors import (
    DatabaseCorruptError,
    DatabaseError,
    DuplicateProjectError,
    InvalidProjectIdError,
    InvalidStatusError,
    InvalidTimestampError,
    ProjectNotFoundError,
    RunNotFoundError,
)
from monocycle_nash.runmeta.models import ProjectRecord, RunRecord
from monocycle_nash.runmeta.process import ProcessIdentity
from monocycle_nash.runmeta.repositories import (
    FOREIGN_FOLDER,
    NO_FOLDER,
    ProjectsRepository,
    RunBookkeeping,
    RunsRepository,
)
from tests.runmeta.backend_support import Backend

T0 = "2026-02-14T19:30:12+09:00"
T1 = "2026-02-14T19:31:02+09:00"


@pytest.fixture
def conn(backend: Backend) -> Iterator[sqlite3.Connection]:
    """A migrated connection to a fresh database."""
    with backend.connect() as connection:
        yield connection


def _add_run(
    conn: sqlite3.Connection,
    created_at: str = T0,
    project_id: str | None = None,
    status: str | None = None,
) -> int:
    runs = RunsRepository(conn)
    with transaction(conn):
        run_id = runs.create_running(
            "cmd", "abc", "", project_id, created_at, created_at, created_at
        )
        if status is not None and status != "running":
            runs.finish(run_id, status, created_at, created_at)
    return run_id


def _add_project(conn: sqlite3.Connection, project_id: str, path: Path) -> None:
    with transaction(conn):
        ProjectsRepository(conn).add(project_id, path, T0, "note")


def test_create_running_inserts_a_row_and_returns_increasing_ids(
    conn: sqlite3.Connection,
) -> None:
    """Each new run is 'running' with the given fields and its process, ids 1, 2, 3 ..."""
    runs = RunsRepository(conn)
    with transaction(conn):
        first = runs.create_running(
            "uv run x", "abc", "n", None, T0, T0, T0, host="lab", pid=42, process_start="b:7"
        )
        second = runs.create_running("uv run y", None, "", None, T1, T1, T1)
    assert (first, second) == (1, 2)
    raw = conn.execute("SELECT * FROM runs WHERE run_id = 1").fetchone()
    assert dict(raw) == {
        "run_id": 1,
        "created_at": T0,
        "started_at": T0,
        "ended_at": None,
        "status": "running",
        "command": "uv run x",
        "git_commit": "abc",
        "note": "n",
        "project_id": None,
        "updated_at": T0,
        "host": "lab",
        "pid": 42,
        "process_start": "b:7",
        "reason": None,
        "folder": None,
        "parent_run_id": None,
    }
    assert runs.bookkeeping(first).process == ProcessIdentity("lab", 42, "b:7", None)
    assert runs.bookkeeping(second) == RunBookkeeping(None, None, None, None, None)
    assert runs.bookkeeping(second).process is None


def test_bookkeeping_of_a_run_in_full(conn: sqlite3.Connection) -> None:
    """get_in_full, iter_in_full (oldest first, by status) and set_folder read and write it."""
    runs = RunsRepository(conn)
    with transaction(conn):
        first = runs.create_running("a", None, "", None, T0, T0, T0, host="h", pid=1)
        second = runs.create_running("b", None, "", None, T1, T1, T1, host="h", pid=2)
        runs.finish(first, "fail", T1, T1, reason="boom")
        runs.set_folder(second, FOREIGN_FOLDER)
    record, books = runs.get_in_full(first)
    assert (record.status, books.reason, books.owns_folder) == ("fail", "boom", True)
    assert books.same_process(ProcessIdentity("h", 1, None, "whenever"))
    assert not books.same_process(ProcessIdentity("h", 1, "b:1", None))
    listed = [(run.run_id, books.folder) for run, books in runs.iter_in_full()]
    assert listed == [(first, None), (second, FOREIGN_FOLDER)]
    assert [run.run_id for run, _ in runs.iter_in_full(status="running")] == [second]
    with transaction(conn):
        runs.set_folder(second, NO_FOLDER)
    assert not runs.bookkeeping(second).owns_folder
    with pytest.raises(ValueError, match="folder must be"):
        runs.set_folder(second, "mine")
    with pytest.raises(RunNotFoundError):
        runs.set_folder(99, None)
    with pytest.raises(RunNotFoundError):
        runs.get_in_full(99)


def test_finish_running_leaves_a_run_that_already_ended(conn: sqlite3.Connection) -> None:
    """finish_running ends a running run (with its reason) and returns None for an ended one."""
    run_id = _add_run(conn)
    runs = RunsRepository(conn)
    with transaction(conn):
        ended = runs.finish_running(run_id, "killed", T1, T1, reason="stopped")
    assert ended is not None and (ended.status, ended.ended_at) == ("killed", T1)
    assert runs.bookkeeping(run_id).reason == "stopped"
    with transaction(conn):
        assert runs.finish_running(run_id, "success", T1, T1) is None
        assert runs.finish_running(99, "success", T1, T1) is None
    assert runs.get(run_id).status == "killed"
    assert runs.bookkeeping(run_id).reason == "stopped"


def test_update_sets_reason_and_end_time(conn: sqlite3.Connection) -> None:
    """update() stores a reason, and an explicit ended_at replaces the end time."""
    run_id = _add_run(conn, status="success")
    runs = RunsRepository(conn)
    with transaction(conn):
        record = runs.update(run_id, status="killed", ended_at=T1, reason="by hand", updated_at=T1)
    assert (record.status, record.ended_at) == ("killed", T1)
    assert runs.bookkeeping(run_id).reason == "by hand"


def test_ids_are_never_reused(conn: sqlite3.Connection) -> None:
    """After deleting the newest run, the next run gets a new id (AUTOINCREMENT)."""
    runs = RunsRepository(conn)
    last = _add_run(conn)
    with transaction(conn):
        runs.delete(last)
    assert _add_run(conn) == last + 1


def test_create_running_with_unknown_project_is_refused(conn: sqlite3.Connection) -> None:
    """A run cannot name a project that is not registered."""
    with pytest.raises(ProjectNotFoundError, match="nope"), transaction(conn):
        RunsRepository(conn).create_running("c", None, "", "nope", T0, T0, T0)
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_finish_sets_status_times_and_returns_the_row(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    """finish() writes the final status, ended_at and updated_at, with project_path."""
    _add_project(conn, "p", tmp_path)
    run_id = _add_run(conn, project_id="p")
    with transaction(conn):
        record = RunsRepository(conn).finish(run_id, "success", T1, T1, note="done")
    assert record == RunRecord(
        run_id, T0, T0, T1, "success", "cmd", "abc", "done", "p", T1, str(tmp_path.resolve())
    )
    assert RunsRepository(conn).find_by_id(run_id) == record


@pytest.mark.parametrize(
    "status",
    [pytest.param("running", id="running"), pytest.param("paused", id="unknown")],
)
def test_finish_refuses_a_non_final_status(conn: sqlite3.Connection, status: str) -> None:
    """Only success, fail and killed end a run."""
    run_id = _add_run(conn)
    with pytest.raises(InvalidStatusError):
        RunsRepository(conn).finish(run_id, status, T1, T1)


def test_finish_unknown_run_raises(conn: sqlite3.Connection) -> None:
    """Finishing a missing id raises RunNotFoundError and writes nothing."""
    with pytest.raises(RunNotFoundError, match="run 99 not found"), transaction(conn):
        RunsRepository(conn).finish(99, "fail", T1, T1)


def test_update_changes_only_given_fields(conn: sqlite3.Connection, tmp_path: Path) -> None:
    """update() changes note, project and status; a final status gets an end time."""
    _add_project(conn, "p", tmp_path)
    run_id = _add_run(conn)
    runs = RunsRepository(conn)
    with transaction(conn):
        noted = runs.update(run_id, note="hello", updated_at=T1)
    assert (noted.note, noted.status, noted.ended_at, noted.updated_at) == (
        "hello",
        "running",
        None,
        T1,
    )
    with transaction(conn):
        moved = runs.update(run_id, project_id="p", status="killed", updated_at=T1)
    assert (moved.project_id, moved.project_path, moved.status, moved.ended_at) == (
        "p",
        str(tmp_path.resolve()),
        "killed",
        T1,
    )
    with transaction(conn):
        detached = runs.update(run_id, clear_project=True, updated_at=T0)
    assert (detached.project_id, detached.project_path, detached.note) == (None, None, "hello")


def test_update_keeps_an_existing_end_time(conn: sqlite3.Connection) -> None:
    """Correcting the status of a finished run keeps its ended_at."""
    run_id = _add_run(conn, status="success")
    with transaction(conn):
        record = RunsRepository(conn).update(run_id, status="fail", updated_at=T1)
    assert (record.status, record.ended_at, record.updated_at) == ("fail", T0, T1)


def test_update_with_nothing_to_change_leaves_row(conn: sqlite3.Connection) -> None:
    """An empty update returns the row without touching updated_at."""
    run_id = _add_run(conn)
    assert RunsRepository(conn).update(run_id, updated_at=T1).updated_at == T0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"status": "running"}, InvalidStatusError, id="back-to-running"),
        pytest.param({"project_id": "missing"}, ProjectNotFoundError, id="unknown-project"),
        pytest.param({"run_id": 42, "note": "x"}, RunNotFoundError, id="unknown-run"),
        pytest.param({"run_id": 42}, RunNotFoundError, id="unknown-run-no-change"),
    ],
)
def test_update_refusals(
    conn: sqlite3.Connection, kwargs: dict[str, object], error: type[Exception]
) -> None:
    """Bad updates raise typed errors and change nothing."""
    existing = _add_run(conn)
    kwargs = dict(kwargs)  # the parameter's own dict serves every backend's variant
    run_id = int(kwargs.pop("run_id", existing))  # type: ignore[call-overload]
    with pytest.raises(error), transaction(conn):
        RunsRepository(conn).update(run_id, updated_at=T1, **kwargs)  # type: ignore[arg-type]
    rows = [tuple(row) for row in conn.execute("SELECT status, note, project_id FROM runs")]
    assert rows == [("running", "", None)]


def test_update_refuses_both_project_and_clear(conn: sqlite3.Connection) -> None:
    """Setting and clearing the project at once is a programming error."""
    with pytest.raises(ValueError, match="either"):
        RunsRepository(conn).update(1, project_id="p", clear_project=True, updated_at=T1)


def test_delete_removes_the_row(conn: sqlite3.Connection) -> None:
    """delete() removes the row; a second delete raises RunNotFoundError."""
    run_id = _add_run(conn)
    runs = RunsRepository(conn)
    with transaction(conn):
        runs.delete(run_id)
    assert runs.find_by_id(run_id) is None
    with pytest.raises(RunNotFoundError):
        runs.delete(run_id)
    with pytest.raises(RunNotFoundError):
        runs.get(run_id)


def _stamp(day: int, hour: int = 12) -> str:
    return f"2026-02-{day:02d}T{hour:02d}:00:00+09:00"


@pytest.fixture
def populated(conn: sqlite3.Connection, tmp_path: Path) -> sqlite3.Connection:
    """Runs over five days, two projects, all four statuses, and a same-second tie."""
    _add_project(conn, "a", tmp_path / "a")
    _add_project(conn, "b", tmp_path / "b")
    layout = [
        (_stamp(10), "a", "success"),  # 1
        (_stamp(11), "b", "fail"),  # 2
        (_stamp(12), "a", "killed"),  # 3
        (_stamp(12), None, "success"),  # 4 (same second as 3)
        (_stamp(13), "a", "running"),  # 5
        (_stamp(14), "b", "success"),  # 6
    ]
    for created_at, project, status in layout:
        _add_run(conn, created_at, project, status)
    return conn


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, [6, 5, 4, 3, 2, 1], id="all-newest-first-ties-by-id"),
        pytest.param({"status": "success"}, [6, 4, 1], id="status"),
        pytest.param({"project_id": "a"}, [5, 3, 1], id="project"),
        pytest.param({"project_id": "a", "status": "killed"}, [3], id="project-and-status"),
        pytest.param({"from_at": _stamp(12)}, [6, 5, 4, 3], id="from-inclusive"),
        pytest.param({"to_at": _stamp(12)}, [4, 3, 2, 1], id="to-inclusive"),
        pytest.param(
            {"from_at": _stamp(11), "to_at": _stamp(13), "status": "success"},
            [4],
            id="range-and-status",
        ),
        pytest.param(
            {"from_at": datetime(2026, 2, 13, 3, 0, tzinfo=UTC)}, [6, 5], id="aware-datetime"
        ),
        pytest.param({"from_at": "2026-02-13T03:00:00Z"}, [6, 5], id="utc-text"),
        pytest.param({"limit": 2}, [6, 5], id="limit"),
        pytest.param({"project_id": "zzz"}, [], id="no-match"),
    ],
)
def test_list_runs_filters_and_order(
    populated: sqlite3.Connection, filters: dict[str, object], expected: list[int]
) -> None:
    """list_runs and iter_runs apply every filter and sort newest first."""
    runs = RunsRepository(populated)
    assert [r.run_id for r in runs.list_runs(**filters)] == expected  # type: ignore[arg-type]
    assert [r.run_id for r in runs.iter_runs(**filters)] == expected  # type: ignore[arg-type]
    count_filters = {k: v for k, v in filters.items() if k != "limit"}
    if "limit" not in filters:
        assert runs.count_runs(**count_filters) == len(expected)  # type: ignore[arg-type]


def test_list_runs_joins_project_path(populated: sqlite3.Connection, tmp_path: Path) -> None:
    """Listed runs carry their project's path, None without a project."""
    by_id = {r.run_id: r for r in RunsRepository(populated).list_runs()}
    assert by_id[1].project_path == str((tmp_path / "a").resolve())
    assert by_id[4].project_path is None


def test_list_runs_refuses_bad_filters(populated: sqlite3.Connection) -> None:
    """Unknown status, a naive time or a negative limit raise before querying."""
    runs = RunsRepository(populated)
    with pytest.raises(InvalidStatusError):
        runs.list_runs(status="done")
    with pytest.raises(InvalidTimestampError, match="offset"):
        runs.list_runs(from_at="2026-02-14")
    with pytest.raises(ValueError, match="negative"):
        runs.list_runs(limit=-1)


@pytest.mark.backends("sqlite")  # SQLite's query plans
@pytest.mark.parametrize(
    "filters",
    [
        pytest.param({}, id="unfiltered"),
        pytest.param({"status": "success"}, id="status"),
        pytest.param({"project_id": "a"}, id="project"),
        pytest.param({"from_at": _stamp(11), "to_at": _stamp(13)}, id="range"),
        pytest.param({"status": "fail", "from_at": _stamp(11)}, id="status-range"),
    ],
)
def test_filtered_page_needs_no_sort(
    populated: sqlite3.Connection, filters: dict[str, str]
) -> None:
    """A newest-first page is read from an index: no temporary sort, no full scan."""
    conn = populated
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        RunsRepository(conn).list_runs(limit=50, **filters)
    finally:
        conn.set_trace_callback(None)
    sql = statements[-1]
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    assert not any("TEMP B-TREE" in step for step in plan), plan
    runs_step = next(step for step in plan if step.split()[1] == "r")
    assert "USING INDEX" in runs_step or "USING COVERING INDEX" in runs_step, plan


def test_project_delete_sets_runs_project_to_null(
    populated: sqlite3.Connection,
) -> None:
    """ON DELETE SET NULL: the project's runs stay, detached."""
    with transaction(populated):
        ProjectsRepository(populated).delete("a")
    runs = RunsRepository(populated)
    assert runs.count_runs() == 6
    assert runs.list_runs(project_id="a") == []
    assert runs.get(1).project_id is None


def test_detach_project_sets_updated_at(populated: sqlite3.Connection) -> None:
    """detach_project empties the runs' project, stamps updated_at and returns their ids."""
    runs = RunsRepository(populated)
    with transaction(populated):
        assert runs.detach_project("a", "2026-03-01T00:00:00+09:00") == [1, 3, 5]
    for run_id in (1, 3, 5):
        detached = runs.get(run_id)
        assert (detached.project_id, detached.updated_at) == (None, "2026-03-01T00:00:00+09:00")
    assert runs.get(2).project_id == "b"


def test_ids_of_project(populated: sqlite3.Connection) -> None:
    """ids_of_project lists a project's runs oldest first."""
    assert RunsRepository(populated).ids_of_project("a") == [1, 3, 5]


def test_projects_add_find_update_list_delete(conn: sqlite3.Connection, tmp_path: Path) -> None:
    """Projects go through their whole life; paths are stored absolute."""
    projects = ProjectsRepository(conn)
    with transaction(conn):
        added = projects.add("main", tmp_path / "x" / ".." / "main", T0)
        projects.add("other", tmp_path / "other", T1, "second")
    assert added == ProjectRecord("main", str((tmp_path / "main").resolve()), T0, "")
    assert projects.find("main") == added
    assert projects.find("missing") is None
    with transaction(conn):
        updated = projects.update("main", project_path=tmp_path / "moved", note="n")
    assert updated == ProjectRecord("main", str((tmp_path / "moved").resolve()), T0, "n")
    assert projects.update("main") == updated
    assert [p.project_id for p in projects.list()] == ["main", "other"]
    with transaction(conn):
        projects.delete("other")
    assert [p.project_id for p in projects.list()] == ["main"]


@pytest.mark.parametrize(
    ("action", "error"),
    [
        pytest.param("add-duplicate", DuplicateProjectError, id="duplicate"),
        pytest.param("add-empty", InvalidProjectIdError, id="empty-id"),
        pytest.param("update-missing", ProjectNotFoundError, id="update-missing"),
        pytest.param("delete-missing", ProjectNotFoundError, id="delete-missing"),
        pytest.param("get-missing", ProjectNotFoundError, id="get-missing"),
    ],
)
def test_project_refusals(
    conn: sqlite3.Connection, tmp_path: Path, action: str, error: type[Exception]
) -> None:
    """Duplicate, empty and unknown project ids raise typed errors."""
    projects = ProjectsRepository(conn)
    _add_project(conn, "p", tmp_path)
    with pytest.raises(error):
        if action == "add-duplicate":
            projects.add("p", tmp_path, T0)
        elif action == "add-empty":
            projects.add("  ", tmp_path, T0)
        elif action == "update-missing":
            projects.update("q", note="x")
        elif action == "delete-missing":
            projects.delete("q")
        else:
            projects.get("q")
    assert [p.project_id for p in projects.list()] == ["p"]


def test_a_listing_that_reaches_a_damaged_page_raises_a_typed_error(tmp_path: Path) -> None:
    """Rows streamed before a damaged page arrive; the damaged page raises DatabaseCorruptError."""
    db_path = tmp_path / "run_history.db"
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        with transaction(conn):
            for day in range(1, 29):  # about 1 KiB each: the runs spread over several pages
                at = f"2026-02-{day:02d}T12:00:00+09:00"
                RunsRepository(conn).create_running("x" * 1000, None, "", None, at, at, at)
        try:
            row = conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'runs' AND pagetype = 'leaf'"
                " ORDER BY path LIMIT 1"
            ).fetchone()
        except DatabaseError:
            pytest.skip("this SQLite has no dbstat table to find the page of the oldest runs")
    finally:
        conn.close()  # the last connection: the WAL is checkpointed into the file
    oldest_page = int(row[0])
    image = bytearray(db_path.read_bytes())
    image[(oldest_page - 1) * 4096 : oldest_page * 4096] = b"\xff" * 4096  # no b-tree page
    db_path.write_bytes(bytes(image))
    conn = SQLiteConnectionFactory(db_path).connect()
    try:
        seen: list[int] = []
        with pytest.raises(DatabaseCorruptError, match="malformed") as caught:
            for record in RunsRepository(conn).iter_runs():
                seen.append(record.run_id)
    finally:
        conn.close()
    assert seen[:2] == [28, 27]  # newest first: the error came while streaming, not at once
    assert caught.value.db_path == str(db_path)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
