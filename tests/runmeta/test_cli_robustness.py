"""``runmeta`` on hostile input: one line or an answer, never a traceback, never a raw escape.

Arguments that are not UTF-8, dates at the ends of the calendar, odd folder names in
the result root, another program's database, meta.json files nested 100000 levels
deep or naming impossible processes, a stdout that is full or closed, and notes,
paths and file names holding terminal escapes or bidi controls. Each case uses real
files, a real SQLite file and, where the operating system is involved (argv bytes,
``/dev/full``, a closed descriptor), a real ``runmeta`` process.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta.cli import SUBCOMMANDS
from monocycle_nash.runmeta.service import RunSessionService
from monocycle_nash.text import cell_width
from tests.runmeta.cli_support import DB, cli, get_run, read_meta, usage_error

RAW_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
"""What must never reach the terminal raw (a newline ends a line and is allowed)."""


def _runmeta_process(
    *argv: str | bytes, cwd: Path, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m monocycle_nash.runmeta ARGV`` in ``cwd``; capture stderr (and stdout)."""
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", *argv],
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
        **options,
    )


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# --- item 7: arguments that are not UTF-8 ---------------------------------------------


# Refused before any database is opened; the check that nothing changed reads .runmeta/.
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        pytest.param(
            ["update-run", "--run-id", "1", "--note", "a\udce3\udc81"],
            "--note 'a\\xe3\\x81'",
            id="note",
        ),
        pytest.param(
            ["add-project", "--project-id", "p", "--project-path", "\udcff-folder"],
            "--project-path '\\xff-folder'",
            id="project-path",
        ),
        pytest.param(
            ["update-run", "--run-id", "1", "--project-id", "p\udcff"],
            "--project-id 'p\\xff'",
            id="project-id",
        ),
        pytest.param(["--db-path", "h\udcff.db", "list-runs"], "--db-path 'h\\xff.db'", id="db"),
        pytest.param(
            ["list-runs", "--result-root", "r\udcff"], "--result-root 'r\\xff'", id="result-root"
        ),
    ],
)
def test_an_argument_that_is_not_utf8_is_refused_in_one_line(
    service: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    shown: str,
) -> None:
    """argv bytes that are not UTF-8 (surrogate-escaped by Python): one line, exit 1, no change."""
    service.finish_success(service.start("python src/main.py", note="kept"))
    meta = read_meta(1)
    before = _names(Path(".runmeta"))
    code, out, err = cli(capsys, *argv)
    assert (code, out) == (1, "")
    assert err == f"runmeta: error: {shown} is not valid UTF-8; nothing was done\n"
    assert get_run(1).note == "kept"
    assert read_meta(1) == meta
    assert service.projects.list() == []
    assert _names(Path(".runmeta")) == before


def test_undecodable_argv_bytes_from_a_shell_are_one_line(tmp_path: Path) -> None:
    """A real process given ``--note $'\\xe3\\x81'``: one stderr line, exit 1, nothing created."""
    result = _runmeta_process(
        "add-project",
        "--project-id",
        "p",
        "--project-path",
        ".",
        "--note",
        b"\xe3\x81",
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "runmeta: error: --note '\\xe3\\x81' is not valid UTF-8; nothing was done\n"
    )
    assert not (tmp_path / ".runmeta").exists()


# --- item 8: the ends of the calendar, odd folder names -------------------------------


@pytest.mark.parametrize(
    "bounds",
    [
        pytest.param(["--from", "0001-01-01"], id="from-year-1"),
        pytest.param(["--from", "0001-01-01T00:00:00+14:00"], id="from-year-1-east"),
        pytest.param(["--to", "9999-12-31"], id="to-year-9999"),
        pytest.param(["--to", "9999-12-31T23:59:59-05:00"], id="to-year-9999-west"),
        pytest.param(["--from", "0001-01-01", "--to", "9999-12-31"], id="both"),
    ],
)
def test_list_runs_answers_bounds_at_the_ends_of_the_calendar(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], bounds: list[str]
) -> None:
    """Bounds that exclude nothing, even beyond what a date can hold in +09:00, list every run."""
    service.finish_success(service.start("python a.py"))
    service.finish_success(service.start("python b.py"))
    code, out, err = cli(capsys, "list-runs", *bounds, "--json")
    assert (code, err) == (0, "")
    assert [run["run_id"] for run in json.loads(out)] == [2, 1]


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    "bound",
    [
        pytest.param(["--to", "0001-01-01T05:00"], id="to-before-the-first-storable-time"),
        pytest.param(["--from", "9999-12-31T23:59:59-05:00"], id="from-after-year-9999"),
        pytest.param(["--from", "9999-12-31T23:59:59.5"], id="from-rounded-past-year-9999"),
    ],
)
def test_list_runs_refuses_bounds_that_exclude_every_time(
    workspace: Path, capsys: pytest.CaptureFixture[str], bound: list[str]
) -> None:
    """A bound past the storable times on the excluding side is a usage error naming the range."""
    err = usage_error(capsys, "list-runs", *bound)
    assert err.splitlines()[-1].endswith(
        "is out of range: stored times lie between 0001-01-01T09:00:00+09:00"
        " and 9999-12-31T23:59:59+09:00"
    )


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("99999999999999999999999", id="beyond-sqlite-integers"),
        pytest.param("9223372036854775808", id="one-past-sqlite-integers"),
        pytest.param("\u00b9", id="superscript-one"),
        pytest.param("\u0663", id="arabic-three"),
        pytest.param("007", id="leading-zeros"),
    ],
)
def test_check_ignores_folders_that_cannot_be_run_ids(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """A folder whose name no run id has is not a run folder: check and rebuild pass it by."""
    service.finish_success(service.start("python a.py"))
    (Path("result") / name).mkdir()
    assert cli(capsys, "check") == (0, "checked 1 run and 1 folder: consistent\n", "")
    report = json.loads(cli(capsys, "check", "--json")[1])
    assert (report["consistent"], report["folders_checked"]) == (True, 1)


# --- item 16: another program's database ----------------------------------------------

FOREIGN_COMMANDS = [
    pytest.param(["list-runs"], id="list-runs"),
    pytest.param(["show-run", "--run-id", "1"], id="show-run"),
    pytest.param(["update-run", "--run-id", "1", "--note", "x"], id="update-run"),
    pytest.param(["delete-run", "--run-id", "1"], id="delete-run"),
    pytest.param(["add-project", "--project-id", "p", "--project-path", "."], id="add-project"),
    pytest.param(["update-project", "--project-id", "p", "--note", "x"], id="update-project"),
    pytest.param(["delete-project", "--project-id", "p"], id="delete-project"),
    pytest.param(["list-projects"], id="list-projects"),
    pytest.param(["reap"], id="reap"),
    pytest.param(["reap", "--dry-run"], id="reap-dry-run"),
    pytest.param(["check"], id="check"),
    pytest.param(["check", "--repair"], id="check-repair"),
    pytest.param(["check", "--integrity"], id="check-integrity"),
    pytest.param(["rebuild", "--move-aside"], id="rebuild"),
    # The source is refused before the target (no server at that port) is reached.
    pytest.param(["migrate-db", "--to", "postgresql://nobody@127.0.0.1:9/none"], id="migrate-db"),
    pytest.param(["diff", "1", "2"], id="diff"),
    pytest.param(["rerun", "1"], id="rerun"),
    pytest.param(["ui"], id="ui"),
]
COMPARING = frozenset({"diff", "rerun"})
"""Subcommands that answer like diff(1): trouble (this refusal included) exits 2."""


def test_every_subcommand_is_tried_on_a_foreign_database() -> None:
    """The foreign-database cases below cover every subcommand."""
    tried = {case.values[0][0] for case in FOREIGN_COMMANDS}  # type: ignore[index]
    assert tried == {subcommand.name for subcommand in SUBCOMMANDS}


@pytest.mark.backends("sqlite")  # another program's SQLite file
@pytest.mark.parametrize("argv", FOREIGN_COMMANDS)
def test_another_programs_database_with_our_version_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """user_version 2 with another program's tables: one line, exit 1, not a byte changed."""
    Path("result/1").mkdir(parents=True)  # something for rebuild to rebuild from
    DB.parent.mkdir()
    with closing(sqlite3.connect(DB)) as conn, conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE TABLE runs (x)")
        conn.execute("PRAGMA user_version = 2")
    before = DB.read_bytes()
    code, out, err = cli(capsys, *argv)
    assert (code, out) == (2 if argv[0] in COMPARING else 1, "")
    assert err.startswith("runmeta: error: ") and err.count("\n") == 1, err
    assert "another program" in err
    assert DB.read_bytes() == before
    assert _names(DB.parent) == [DB.name]


# --- item 16: one broken meta.json breaks only its own run ----------------------------


def _deep(meta: dict[str, Any]) -> str:
    return "[" * 100_000 + "]" * 100_000


def _deep_extra(meta: dict[str, Any]) -> str:
    """Deep enough to break a printer or a writer (json.dumps with indent recurses)."""
    return json.dumps({**meta, "extra": json.loads("[" * 500 + "]" * 500)})


def _process(**changes: Any) -> Callable[[dict[str, Any]], str]:
    def edit(meta: dict[str, Any]) -> str:
        return json.dumps({**meta, "process": {**meta["process"], **changes}})

    return edit


def _process_is(value: Any) -> Callable[[dict[str, Any]], str]:
    def edit(meta: dict[str, Any]) -> str:
        return json.dumps({**meta, "process": value})

    return edit


def _lone_surrogate(meta: dict[str, Any]) -> str:
    """Valid JSON that Python reads, but whose "\\udcff" no UTF-8 file can hold."""
    return json.dumps({**meta, "label": "\udcff"})


BROKEN_META = [
    pytest.param(_deep, id="100000-nested-lists"),
    pytest.param(_lone_surrogate, id="lone-surrogate"),
    pytest.param(_deep_extra, id="500-nested-lists-in-a-field"),
    pytest.param(_process(pid=10**30), id="pid-10**30"),
    pytest.param(_process(pid=2**63), id="pid-2**63"),
    pytest.param(_process(pid="12"), id="pid-text"),
    pytest.param(_process(pid=1.5), id="pid-float"),
    pytest.param(_process(pid=True), id="pid-bool"),
    pytest.param(_process(pid=-1), id="pid-negative"),
    pytest.param(_process(host=["vm"]), id="host-list"),
    pytest.param(_process(start_time=[1, 2]), id="start-time-list"),
    pytest.param(_process_is([1, 2]), id="process-list"),
]


@pytest.mark.parametrize("breaks", BROKEN_META)
def test_a_broken_meta_breaks_only_its_own_run(
    service: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    breaks: Callable[[dict[str, Any]], str],
) -> None:
    """list-runs, show-run, reap and check still answer for every run; the broken one is named."""
    service.finish_success(service.start("python done.py"))
    service.start("python broken.py")  # running, recorded by this (live) process
    service.start("python healthy.py")  # running too
    Path("result/2/meta.json").write_text(breaks(read_meta(2)), encoding="utf-8")

    code, out, err = cli(capsys, "list-runs", "--json")
    assert (code, err) == (0, "")
    listed = {run["run_id"]: run.get("process") for run in json.loads(out)}
    assert listed == {3: "alive", 2: "alive", 1: None}  # the row names its process
    code, out, err = cli(capsys, "list-runs")
    assert (code, err, len(out.splitlines())) == (0, "", 4)

    for run_id in ("1", "2", "3"):
        for json_flag in ([], ["--json"]):
            code, out, err = cli(capsys, "show-run", "--run-id", run_id, *json_flag)
            assert (code, err) == (0, ""), run_id

    code, out, err = cli(capsys, "reap", "--json")
    assert (code, err) == (0, "")
    outcomes = {run["run_id"]: run["outcome"] for run in json.loads(out)["runs"]}
    assert outcomes[3] == "alive"
    assert outcomes[2] in {"no-meta", "alive"}  # judged from the row where it has the process

    code, out, err = cli(capsys, "check")
    assert err == ""
    assert out.splitlines()[-1].startswith("checked 3 runs and 3 folders: ")
    assert {line.split()[0] for line in out.splitlines()[1:-1]} <= {"2"}
    assert get_run(2).status == get_run(3).status == "running"


def test_a_deeply_nested_meta_is_unreadable_and_repaired_aside(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """check calls a 100000-deep meta.json unreadable; --repair keeps it aside and rebuilds it."""
    service.finish_success(service.start("python a.py"))
    Path("result/1/meta.json").write_text(_deep({}), encoding="utf-8")
    code, out, err = cli(capsys, "check")
    assert (code, err) == (1, "")
    assert "unreadable-meta" in out and "nested too deeply" in out
    code, out, err = cli(capsys, "check", "--repair")
    assert (code, err) == (0, "")
    assert read_meta(1)["status"] == "success"
    assert Path("result/1/meta.json.unreadable").read_text(encoding="utf-8") == _deep({})


@pytest.mark.parametrize(
    "breaks", [pytest.param(_deep, id="deep"), pytest.param(_lone_surrogate, id="surrogate")]
)
def test_check_repair_sets_a_broken_meta_aside_and_goes_on(
    service: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    breaks: Callable[[dict[str, Any]], str],
) -> None:
    """check --repair keeps an unusable meta.json aside, rebuilds it and repairs the next run."""
    service.finish_success(service.start("python a.py"))
    service.finish_success(service.start("python b.py"))
    broken = breaks(read_meta(1))
    Path("result/1/meta.json").write_text(broken, encoding="utf-8")
    stale = {**read_meta(2), "note": "stale"}
    Path("result/2/meta.json").write_text(json.dumps(stale), encoding="utf-8")
    code, out, err = cli(capsys, "check", "--repair")
    assert (code, err) == (0, "")
    assert out.endswith("checked 2 runs and 2 folders: 2 repaired, now consistent\n")
    assert read_meta(1)["status"] == read_meta(2)["status"] == "success"
    assert read_meta(2)["note"] == ""
    assert Path("result/1/meta.json.unreadable").read_text(encoding="utf-8") == broken


# --- item 16: a stdout that cannot be written -----------------------------------------


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A project root holding three finished runs."""
    with RunSessionService.open(tmp_path) as rs:
        for index in range(3):
            rs.finish_success(rs.start(f"python job.py {index}"))
    return tmp_path


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("json_flag", [pytest.param([], id="table"), pytest.param(["--json"])])
def test_list_runs_to_a_full_device_is_one_line(recorded: Path, json_flag: list[str]) -> None:
    """list-runs > /dev/full: one line saying the output cannot be written, exit 1."""
    with Path("/dev/full").open("w", encoding="utf-8") as full:
        result = _runmeta_process("list-runs", *json_flag, cwd=recorded, stdout=full)
    assert result.returncode == 1
    assert result.stderr == ("runmeta: error: cannot write the output: No space left on device\n")


def test_list_runs_with_stdout_closed_is_one_line(recorded: Path) -> None:
    """list-runs >&- (no stdout at all): one line, exit 1, before anything is opened."""
    result = _runmeta_process(
        "list-runs", cwd=recorded, stdout=None, preexec_fn=lambda: os.close(1)
    )
    assert result.returncode == 1
    assert result.stderr == "runmeta: error: standard output is closed; nothing was done\n"


# --- escaping: control and bidi characters never reach the terminal raw --------------

HOSTILE = "a\x1b[2J\x9b31m\u202eexe.txt\x7f\u2066b"
SHOWN = "a\\x1b[2J\\x9b31m\\u202eexe.txt\\x7f\\u2066b"


def test_add_project_echoes_a_path_escaped(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """add-project with an ESC and a bidi override in the path prints them as escapes."""
    code, out, err = cli(capsys, "add-project", "--project-id", "p", "--project-path", HOSTILE)
    assert (code, err) == (0, "")
    assert out.startswith(f"added project p at {workspace}/{SHOWN} (no such folder yet")
    assert not RAW_CONTROL.search(out)
    code, out, err = cli(capsys, "list-projects")
    assert (code, err) == (0, "")
    assert SHOWN in out and not RAW_CONTROL.search(out)


def test_tables_escape_notes_and_stay_aligned(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A note with escapes and bidi controls shows escaped; the next column stays aligned."""
    service.finish_success(service.start("python a.py", note=HOSTILE[:12]))
    service.finish_success(service.start("python b.py", note="日本語"))
    code, out, err = cli(capsys, "list-runs")
    assert (code, err) == (0, "")
    assert not RAW_CONTROL.search(out)
    lines = out.splitlines()
    assert SHOWN[:21] in lines[2]
    starts = {
        cell_width(line[: line.index(word)])
        for line, word in zip(lines, ["COMMAND", "python b.py", "python a.py"], strict=True)
    }
    assert len(starts) == 1


def test_show_run_escapes_fields_meta_and_file_names(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """show-run escapes the row, meta.json values and file names (an undecodable byte as \\xff)."""
    ctx = service.start(f"python {HOSTILE}.py", note=HOSTILE)
    ctx.extra["label"] = HOSTILE
    (ctx.output_dir / f"{HOSTILE}.txt").write_text("x")
    service.finish_success(ctx)
    os.close(os.open(os.fsencode("result/1/output") + b"/out\xff.txt", os.O_CREAT | os.O_WRONLY))
    code, out, err = cli(capsys, "show-run", "--run-id", "1")
    assert (code, err) == (0, "")
    assert not RAW_CONTROL.search(out)
    assert f"  note        {SHOWN}" in out.splitlines()
    assert '"label": "a\\u001b[2J\\x9b31m\\u202eexe.txt\\x7f\\u2066b"' in out
    assert f"  output/{SHOWN}.txt" in out
    assert "  output/out\\xff.txt" in out


@pytest.mark.backends("sqlite")  # a --db-path that is a folder
def test_error_lines_escape_what_they_quote(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refusal naming a path with an ESC prints it escaped, still on one line."""
    folder = Path("db\x1b[31m")
    folder.mkdir()
    code, out, err = cli(
        capsys, "--db-path", str(folder), "add-project", "--project-id", "p", "--project-path", "."
    )
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: ") and err.count("\n") == 1
    assert "db\\x1b[31m" in err and not RAW_CONTROL.search(err)
