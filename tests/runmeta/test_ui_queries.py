"""Keyed pages of runs (``ui/queries.py``) and the HTML helpers of the run browser."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.runmeta.ui.html import el, json_block, preformatted, text
from monocycle_nash.runmeta.ui.queries import RunFilter, project_counts, run_page

STATUSES = ("success", "success", "fail", "killed")


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """100 runs over 3 days, several in the same second (ties broken by id), 2 projects."""
    connection = SQLiteConnectionFactory(tmp_path / "run_history.db").connect()
    connection.executemany(
        "INSERT INTO projects (project_id, project_path, created_at) VALUES (?, ?, ?)",
        [(f"p{i}", f"/p{i}", "2026-01-01T00:00:00+09:00") for i in range(2)],
    )
    stamps = [
        f"2026-01-0{1 + i // 40}T{(i % 40) // 4:02d}:{i % 3:02d}:00+09:00" for i in range(100)
    ]
    connection.executemany(
        "INSERT INTO runs (created_at, started_at, status, command, project_id, note,"
        " updated_at) VALUES (?1, ?1, ?2, 'cmd', ?3, ?4, ?1)",
        [
            (stamp, STATUSES[i % 4], f"p{i % 2}" if i % 5 else None, f"note {i}")
            for i, stamp in enumerate(stamps)
        ],
    )
    yield connection
    connection.close()


def _ids(page_runs: list[object]) -> list[int]:
    return [run.record.run_id for run in page_runs]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "run_filter",
    [
        pytest.param(RunFilter(), id="all"),
        pytest.param(RunFilter(status="success"), id="status"),
        pytest.param(RunFilter(project_id="p1", search="note 1"), id="project-and-search"),
        pytest.param(RunFilter(from_at="2026-01-02T00:00:00+09:00"), id="from"),
    ],
)
def test_pages_walk_every_run_once_both_ways(
    conn: sqlite3.Connection, run_filter: RunFilter
) -> None:
    """Older pages list every match once, in list-runs order; newer pages walk back the same."""
    expected = [run.run_id for run in RunsRepository(conn).list_runs(**run_filter.arguments())]
    pages = [run_page(conn, run_filter, size=7)]
    assert pages[0].newer_than is None
    while pages[-1].older_than is not None:
        pages.append(run_page(conn, run_filter, after=pages[-1].older_than, size=7))
    assert [run_id for page in pages for run_id in _ids(page.runs)] == expected
    assert all(page.total == len(expected) for page in pages)
    assert all(len(page.runs) == 7 for page in pages[:-1])
    back = pages[-1]
    walked = [_ids(back.runs)]
    while back.newer_than is not None:
        back = run_page(conn, run_filter, before=back.newer_than, size=7)
        walked.append(_ids(back.runs))
    assert [run_id for ids in reversed(walked) for run_id in ids] == expected


def test_a_cursor_that_is_gone_gives_the_first_page(conn: sqlite3.Connection) -> None:
    """after= a deleted run starts over from the newest."""
    assert _ids(run_page(conn, RunFilter(), after=10_000, size=3).runs) == _ids(
        run_page(conn, RunFilter(), size=3).runs
    )


def test_project_counts(conn: sqlite3.Connection) -> None:
    """Each project's count and newest run; the runs without a project."""
    projects, without = project_counts(conn)
    assert [(p.project.project_id, p.runs) for p in projects] == [("p0", 40), ("p1", 40)]
    assert without == 20
    assert projects[0].newest is not None and projects[0].newest.startswith("2026-01-03")


# --- html -----------------------------------------------------------------------------


def test_text_escapes_markup_controls_and_bidi() -> None:
    """Markup is escaped; an ESC and a right-to-left override show as escapes."""
    assert text('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert text("a\x1b[31mb \u202eexe") == "a\\x1b[31mb \\u202eexe"
    assert preformatted("a\tb\n<c>") == "a\tb\n&lt;c&gt;"


def test_elements_escape_attributes() -> None:
    """Attribute values are escaped; True is a bare attribute, None and False are left out."""
    assert el("input", value='"><x', checked=True, disabled=None) == (
        '<input value="&quot;&gt;&lt;x" checked>'
    )
    assert el("a", "<b>", href="/?a=1&b=2", class_="x") == (
        '<a href="/?a=1&amp;b=2" class="x">&lt;b&gt;</a>'
    )


def test_json_block_puts_lists_beside_their_labels() -> None:
    """Lists as long as ``labels`` become columns; a square matrix gets labels both ways."""
    shown = json_block(
        {
            "labels": ["R", "P"],
            "weights": [0.5, 0.5],
            "matrix": [[0.0, 1.0], [-1.0, 0.0]],
            "solver": "lp",
            "support": ["R"],
        }
    )
    assert "<th>labels</th><th>weights</th>" in shown
    assert '<tr><th>R</th><td><span class="num">0.5</span></td></tr>' in shown
    assert '<table class="data matrix">' in shown
    assert "<th>solver</th><td>lp</td>" in shown


def test_json_block_cuts_long_lists() -> None:
    """A long list of numbers shows its first items and how many more there are."""
    shown = json_block({"values": list(range(100))})
    assert "… 88 more" in shown
