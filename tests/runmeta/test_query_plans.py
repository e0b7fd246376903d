"""Query plans of the run searches: each filter reads its own index, in order, no sort."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.repositories import RunsRepository

STATUSES = ("success", "success", "success", "fail", "killed", "running")


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A migrated database of 600 runs over 5 projects and every status; 2-40 are 1's children."""
    connection = SQLiteConnectionFactory(tmp_path / "run_history.db").connect()
    connection.executemany(
        "INSERT INTO projects (project_id, project_path, created_at) VALUES (?, ?, ?)",
        [(f"p{i}", f"/p{i}", "2026-01-01T00:00:00+09:00") for i in range(5)],
    )
    connection.executemany(
        "INSERT INTO runs (created_at, started_at, status, command, project_id, note,"
        " updated_at) VALUES (?1, ?1, ?2, 'cmd', ?3, ?4, ?1)",
        [
            (
                f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00+09:00",
                STATUSES[i % len(STATUSES)],
                None if i % 3 == 0 else f"p{i % 5}",
                None if i % 4 == 0 else "",  # a NULL note (older rows) reads as ""
            )
            for i in range(600)
        ],
    )
    connection.execute("UPDATE runs SET parent_run_id = 1 WHERE run_id BETWEEN 2 AND 40")
    yield connection
    connection.close()


def _plan(conn: sqlite3.Connection, **filters: object) -> list[str]:
    """EXPLAIN QUERY PLAN of the SELECT that list_runs(limit=50, **filters) runs."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # the SQL with its values filled in
    try:
        rows = RunsRepository(conn).list_runs(limit=50, **filters)  # type: ignore[arg-type]
    finally:
        conn.set_trace_callback(None)
    assert rows, "the fixture has matching runs"
    selects = [sql for sql in statements if sql.startswith("SELECT")]
    return [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {selects[-1]}")]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({}, "SCAN r USING INDEX idx_runs_created_at", id="unfiltered"),
        pytest.param(
            {"status": "fail"},
            "SEARCH r USING INDEX idx_runs_status_created (status=?)",
            id="status",
        ),
        pytest.param(
            {"project_id": "p2"},
            "SEARCH r USING INDEX idx_runs_project_created (project_id=?)",
            id="project",
        ),
        pytest.param(
            {"from_at": "2026-01-05T00:00:00+09:00", "to_at": "2026-01-09T00:00:00+09:00"},
            "SEARCH r USING INDEX idx_runs_created_at (created_at>? AND created_at<?)",
            id="range",
        ),
        pytest.param(
            {"status": "killed", "from_at": "2026-01-05T00:00:00+09:00"},
            "SEARCH r USING INDEX idx_runs_status_created (status=? AND created_at>?)",
            id="status-from",
        ),
        pytest.param(
            {"project_id": "p1", "to_at": "2026-01-20T00:00:00+09:00"},
            "SEARCH r USING INDEX idx_runs_project_created (project_id=? AND created_at<?)",
            id="project-to",
        ),
        pytest.param(
            {"project_id": "p3", "status": "killed"},
            "SEARCH r USING INDEX idx_runs_project_status_created (project_id=? AND status=?)",
            id="project-status",
        ),
        pytest.param(
            {"parent_run_id": 1},
            "SEARCH r USING INDEX idx_runs_parent_created (parent_run_id=?)",
            id="parent",
        ),
    ],
)
def test_page_reads_the_matching_index_without_sorting(
    conn: sqlite3.Connection, filters: dict[str, object], expected: str
) -> None:
    """A newest-first page walks the (filter, created_at) index: no temp B-tree, no scan."""
    plan = _plan(conn, **filters)
    assert plan[0] == expected, plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert plan[1:] == [
        "SEARCH p USING INDEX sqlite_autoindex_projects_1 (project_id=?) LEFT-JOIN"
    ], plan


def test_list_and_iter_return_the_same_records(conn: sqlite3.Connection) -> None:
    """list_runs and iter_runs agree, newest first, notes never None."""
    runs = RunsRepository(conn)
    listed = runs.list_runs(status="killed", project_id="p3")
    assert listed == list(runs.iter_runs(status="killed", project_id="p3"))
    assert len(listed) == 20
    assert all(run.status == "killed" and run.project_path == "/p3" for run in listed)
    assert all(run.note == "" for run in listed)
    keys = [(run.created_at, run.run_id) for run in listed]
    assert keys == sorted(keys, reverse=True)
