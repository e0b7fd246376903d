"""Tests of the tables and JSON shapes printed by ``runmeta``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from monocycle_nash.runmeta.cli_format import (
    WINDOW,
    clean,
    describe_run,
    format_duration,
    format_project_table,
    format_run_details,
    format_run_table,
    format_size,
    json_array_lines,
    run_to_json,
    terminal_width,
)
from monocycle_nash.runmeta.models import RUN_FIELDS, ProjectRecord, RunRecord, RunStatus
from monocycle_nash.text import cell_width


def _run(
    run_id: int,
    *,
    status: RunStatus = "success",
    command: str = "python src/main.py",
    note: str = "",
    project_id: str | None = None,
    started_at: str = "2026-02-14T19:30:12+09:00",
    ended_at: str | None = "2026-02-14T19:31:02+09:00",
) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        created_at=started_at,
        started_at=started_at,
        ended_at=None if status == "running" else ended_at,
        status=status,
        command=command,
        git_commit="abc123",
        note=note,
        project_id=project_id,
        updated_at=ended_at or started_at,
        project_path=None if project_id is None else f"/analysis/{project_id}",
    )


@pytest.mark.parametrize(
    ("ended_at", "status", "expected"),
    [
        pytest.param(None, "running", "running", id="running"),
        pytest.param("2026-02-14T19:30:12+09:00", "success", "0s", id="zero"),
        pytest.param("2026-02-14T19:31:02+09:00", "success", "50s", id="seconds"),
        pytest.param("2026-02-14T19:33:17+09:00", "fail", "3m05s", id="minutes"),
        pytest.param("2026-02-14T21:33:17+09:00", "killed", "2h03m05s", id="hours"),
        pytest.param("2026-02-14T11:31:02+01:00", "success", "50s", id="other-offset"),
        pytest.param(None, "fail", "-", id="finished-without-end"),
        pytest.param("2026-02-14T19:00:00+09:00", "success", "-", id="end-before-start"),
        pytest.param("garbage", "success", "-", id="unreadable-end"),
    ],
)
def test_format_duration(ended_at: str | None, status: str, expected: str) -> None:
    """Durations read as s, m, h; a running run says running; impossible spans show '-'."""
    assert format_duration("2026-02-14T19:30:12+09:00", ended_at, status) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, "", id="none"),
        pytest.param("a  b\n\tc ", "a b c", id="whitespace"),
        pytest.param("red\x1b[31m", "red\\x1b[31m", id="escape-sequence"),
        pytest.param("a\u202etxt.exe\x7f", "a\\u202etxt.exe\\x7f", id="bidi-and-del"),
        pytest.param("日本語", "日本語", id="japanese"),
    ],
)
def test_clean_makes_one_printable_line(text: str | None, expected: str) -> None:
    """clean() collapses whitespace and shows control and bidi characters as escapes."""
    assert clean(text) == expected


def test_run_table_aligns_columns() -> None:
    """Every column starts at the same position on every line, wide notes included."""
    runs = [
        _run(12, note="日本語", project_id="analysis-main"),
        _run(9, status="running", note="ok"),
        _run(100, status="fail", ended_at="2026-02-14T21:33:17+09:00"),
    ]
    lines = list(format_run_table(runs, None))
    assert lines[0].split() == [
        "RUN",
        "STATUS",
        "CREATED",
        "(+09:00)",
        "DURATION",
        "PROJECT",
        "NOTE",
        "COMMAND",
    ]
    command_at = {cell_width(line[: line.index("python")]) for line in lines[1:]}
    assert len(command_at) == 1
    assert cell_width(lines[0][: lines[0].index("COMMAND")]) in command_at
    assert lines[1].startswith(" 12  success  2026-02-14 19:30:12")
    assert "running" in lines[2].split()
    assert "2h03m05s" in lines[3]
    assert lines[2].split()[5] == "-"  # no project


def test_run_table_shortens_the_command_to_the_width() -> None:
    """With a width, the command is cut with '...' so that no line is wider."""
    runs = [_run(1, command="python src/main.py " + "--option value " * 20)]
    lines = list(format_run_table(runs, 80))
    assert all(cell_width(line) <= 80 for line in lines)
    assert lines[1].endswith("...")
    wide = list(format_run_table(runs, None))
    assert wide[1].endswith("--option value")


def test_run_table_keeps_a_minimum_command_width_on_narrow_terminals() -> None:
    """A terminal too narrow for the table still shows the start of the command."""
    lines = list(format_run_table([_run(1, command="python src/main.py --long")], 20))
    assert lines[1].endswith("  python sr...")


def test_run_table_streams_after_the_window() -> None:
    """Rows after the first window are formatted lazily with the window's widths."""
    produced: list[int] = []

    def runs() -> object:
        for run_id in range(1, WINDOW + 50):
            produced.append(run_id)
            yield _run(run_id, note="x" * (5 if run_id <= WINDOW else 60))

    lines = format_run_table(runs(), None)  # type: ignore[arg-type]
    header = next(lines)
    assert len(produced) == WINDOW
    rest = list(lines)
    assert len(rest) == WINDOW + 49
    assert "x" * 60 not in rest[-1]
    assert "xx..." in rest[-1]
    assert rest[-1].index("python") == rest[0].index("python") == header.index("COMMAND")


def test_run_table_without_runs_is_the_header() -> None:
    """An empty listing prints only the header line."""
    [header] = format_run_table([], 80)
    assert header.split()[:3] == ["RUN", "STATUS", "CREATED"]
    assert header.split()[-1] == "COMMAND"


def test_project_table_lists_id_created_note_path() -> None:
    """The project table has one aligned line per project, path last."""
    projects = [
        ProjectRecord("main", "/analysis/main", "2026-02-14T19:30:12+09:00", "baseline"),
        ProjectRecord("b", "/x", "2026-02-15T08:00:00+09:00", ""),
    ]
    lines = list(format_project_table(projects, None))
    assert lines[0].split()[0] == "PROJECT"
    assert lines[1].split() == ["main", "2026-02-14", "19:30:12", "baseline", "/analysis/main"]
    assert lines[2].index("/x") == lines[1].index("/analysis")


def test_run_to_json_has_every_column_and_project_path() -> None:
    """A run's JSON object has exactly the runs columns plus project_path, in order."""
    data = run_to_json(_run(3, project_id="main"))
    assert tuple(data) == RUN_FIELDS
    assert data["project_path"] == "/analysis/main"


@pytest.mark.parametrize(
    "count", [pytest.param(0, id="empty"), pytest.param(1, id="one"), pytest.param(3, id="three")]
)
def test_json_array_lines_make_one_valid_array(count: int) -> None:
    """The streamed lines join into one JSON array with one element per line."""
    items = [{"run_id": index, "note": "日本"} for index in range(count)]
    text = "".join(json_array_lines(items))
    assert json.loads(text) == items
    assert text.endswith("\n")
    assert len(text.splitlines()) == (1 if count == 0 else count + 2)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        pytest.param(0, "0 B", id="zero"),
        pytest.param(1023, "1023 B", id="bytes"),
        pytest.param(3482, "3.4 KiB", id="kib"),
        pytest.param(12 * 1024 * 1024, "12.0 MiB", id="mib"),
        pytest.param(5 * 1024**4, "5120.0 GiB", id="beyond-gib"),
    ],
)
def test_format_size(size: int, expected: str) -> None:
    """Byte counts read as B, KiB, MiB or GiB."""
    assert format_size(size) == expected


def test_run_details_show_row_meta_and_files() -> None:
    """The show-run page lists the row's fields, meta.json and the files with sizes."""
    run = _run(42, note="baseline", project_id="main")
    lines = list(
        format_run_details(
            run, {"run_id": 42}, None, "result/42", [("logs/stdout.log", 12), ("meta.json", 900)]
        )
    )
    assert lines[0] == "run 42"
    assert "  project     main (/analysis/main)" in lines
    assert "  duration    50s" in lines
    assert '    "run_id": 42' in lines
    assert lines[-2:] == ["  logs/stdout.log   12 B", "  meta.json        900 B"]


def test_tables_measure_escaped_cells() -> None:
    """Controls in a note are escaped before measuring: the next column stays aligned."""
    runs = [_run(1, note="a\x1b[2J\u202eb"), _run(2, note="日本語"), _run(3, note="x")]
    lines = list(format_run_table(runs, None))
    assert "a\\x1b[2J\\u202eb" in lines[1]
    command_at = {cell_width(line[: line.index("python")]) for line in lines[1:]}
    assert command_at == {cell_width(lines[0][: lines[0].index("COMMAND")])}
    projects = [ProjectRecord("p\x9b", "/a\x1b/b", "2026-02-14T19:30:12+09:00", "n\x7f")]
    [_, row] = format_project_table(projects, None)
    assert row.split() == ["p\\x9b", "2026-02-14", "19:30:12", "n\\x7f", "/a\\x1b/b"]


def test_run_details_escape_row_meta_and_paths() -> None:
    """show-run's page escapes every field, meta.json's values, the folder and file names."""
    run = _run(1, note="n\x1b", project_id="p", command="c\u202e")._replace(
        project_path="/p\x1b", created_at="2026\x1b"
    )
    meta = {"label": "\x7f\x9b\u2066", "n": 1}
    lines = list(format_run_details(run, meta, None, "r\x1b/1", [("out\udcff\x1b", 1)]))
    assert "  note        n\\x1b" in lines
    assert "  command     c\\u202e" in lines
    assert "  project     p (/p\\x1b)" in lines
    assert "  created     2026\\x1b" in lines
    assert '    "label": "\\x7f\\x9b\\u2066",' in lines
    assert "files in r\\x1b/1:" in lines
    assert lines[-1] == "  out\\xff\\x1b  1 B"
    assert not any(ch in line for line in lines for ch in "\x1b\x7f\x9b\u202e\u2066")


def test_run_details_say_what_is_missing() -> None:
    """A missing meta.json and a missing folder are stated, not hidden."""
    lines = list(
        format_run_details(_run(7), None, "result/7/meta.json does not exist", "r/7", None)
    )
    assert "meta.json: result/7/meta.json does not exist" in lines
    assert lines[-1] == "files: r/7 does not exist"


def test_describe_run_is_one_line() -> None:
    """describe_run() summarises status, project and note."""
    assert (
        describe_run(_run(4, note="a\nb", project_id="p"))
        == "run 4 (success, project p, note 'a b')"
    )
    assert describe_run(_run(5)) == "run 5 (success, no project)"


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        pytest.param("120", 120, id="columns-set"),
        pytest.param("0", None, id="zero-ignored"),
        pytest.param("wide", None, id="garbage-ignored"),
        pytest.param(None, None, id="unset"),
    ],
)
def test_terminal_width_honours_columns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, columns: str | None, expected: int | None
) -> None:
    """COLUMNS wins; without it a file, or a stream without a descriptor, has no width."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    with (tmp_path / "out.txt").open("w") as handle:
        assert terminal_width(handle) == expected
    assert terminal_width(io.StringIO()) == expected
