"""In-process tests of the run subcommands: list-runs, show-run, update-run, delete-run."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta import edits
from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.db import transaction
from monocycle_nash.runmeta.edits import root_tag
from monocycle_nash.runmeta.errors import DatabaseError, ProjectLinkError
from monocycle_nash.runmeta.models import RUN_FIELDS, ListedRun, RunRecord
from monocycle_nash.runmeta.process import ProcessIdentity, current_host
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
from monocycle_nash.runmeta.service import RunSessionService
from tests.runmeta.cli_support import (
    DB,
    cli,
    connect,
    find_run,
    get_run,
    read_meta,
    usage_error,
)


def _seed_rows(rows: list[tuple[str, str, str | None]]) -> None:
    """Insert finished runs (created_at, status, project_id) straight into the database."""
    with connect() as connection, transaction(connection):
        projects = ProjectsRepository(connection)
        for name in sorted({p for _, _, p in rows if p is not None}):
            projects.add(name, f"/analysis/{name}", "2026-01-01T00:00:00+09:00")
        runs = RunsRepository(connection)
        for index, (created_at, status, project_id) in enumerate(rows):
            run_id = runs.create_running(
                f"python job.py {index}",
                None,
                "",
                project_id,
                created_at,
                created_at,
                created_at,
            )
            if status != "running":
                runs.finish(run_id, status, created_at, created_at)


# --- list-runs ----------------------------------------------------------------------


@pytest.mark.backends("sqlite")  # a database file that does not exist: SQLite's case
@pytest.mark.parametrize(
    ("flag", "expected"),
    [pytest.param([], "", id="table"), pytest.param(["--json"], "[]\n", id="json")],
)
def test_list_runs_on_a_missing_database_creates_nothing(
    workspace: Path, capsys: pytest.CaptureFixture[str], flag: list[str], expected: str
) -> None:
    """A read on a missing database says so in one line, exit 0, and creates no file or folder."""
    code, out, err = cli(capsys, "list-runs", "--db-path", "deep/down/runs.db", *flag)
    assert (code, out) == (0, expected)
    assert err == "runmeta: no run database at deep/down/runs.db (nothing recorded yet)\n"
    assert list(workspace.iterdir()) == []


def test_list_runs_prints_a_table_newest_first(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table has one line per run, newest first, with status and duration."""
    first = service.start("python src/main.py --seed 1", note="baseline")
    service.finish_success(first)
    service.start("python src/main.py --seed 2")
    code, out, err = cli(capsys, "list-runs")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["RUN", "STATUS", "CREATED"]
    assert lines[1].split()[:2] == ["2", "running"]
    assert lines[1].split()[4] == "running"
    assert lines[2].split()[:2] == ["1", "success"]
    assert "10s" in lines[2].split()
    assert "baseline" in lines[2]
    assert lines[2].endswith("python src/main.py --seed 1")


def test_list_runs_shortens_commands_to_columns(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With COLUMNS set, no line is wider and a long command ends with '...'."""
    service.finish_success(service.start("python src/main.py " + "--flag " * 30))
    monkeypatch.setenv("COLUMNS", "90")
    code, out, _ = cli(capsys, "list-runs")
    assert code == 0
    assert all(len(line) <= 90 for line in out.splitlines())
    assert out.splitlines()[1].endswith("...")


def test_list_runs_json_has_every_column_and_the_project_path(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """--json prints one array of objects: every runs column plus project_path, reason and
    metrics (+ process)."""
    (workspace / "analysis").mkdir()
    service.edits.add_project("main", workspace / "analysis", note="")
    service.finish_fail(service.start("python a.py", project_id="main", note="n1"), "boom")
    service.start("python b.py")
    code, out, err = cli(capsys, "list-runs", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [item["run_id"] for item in data] == [2, 1]
    assert tuple(data[1]) == (*RUN_FIELDS, "reason", "metrics")
    # A running run also says whether its process lives (this test process: alive).
    assert tuple(data[0]) == (*RUN_FIELDS, "reason", "metrics", "process")
    assert data[0]["process"] == "alive"
    assert data[1] == {**service.runs.get(1).to_dict(), "reason": "boom", "metrics": {}}
    assert data[1]["project_path"] == str(workspace / "analysis")
    assert data[0]["ended_at"] is None


DAYS = [
    ("2026-02-13T23:59:59+09:00", "success", "main"),
    ("2026-02-14T00:00:00+09:00", "fail", "main"),
    ("2026-02-14T12:00:00+09:00", "success", None),
    ("2026-02-14T23:59:59+09:00", "killed", "other"),
    ("2026-02-15T00:00:00+09:00", "running", "main"),
]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param([], [5, 4, 3, 2, 1], id="all-newest-first"),
        pytest.param(["--from", "2026-02-14", "--to", "2026-02-14"], [4, 3, 2], id="one-day"),
        pytest.param(["--to", "2026-02-14"], [4, 3, 2, 1], id="date-to-whole-day"),
        pytest.param(["--from", "2026-02-14T12:00"], [5, 4, 3], id="naive-from-is-jst"),
        pytest.param(["--from", "2026-02-14T03:00:00Z"], [5, 4, 3], id="utc-from"),
        pytest.param(["--to", "2026-02-13T10:00:00-05:00"], [2, 1], id="offset-to"),
        pytest.param(["--status", "success"], [3, 1], id="status"),
        pytest.param(["--project-id", "main"], [5, 2, 1], id="project"),
        pytest.param(["--project-id", "main", "--status", "fail"], [2], id="project-status"),
        pytest.param(["--limit", "2"], [5, 4], id="limit"),
        pytest.param(["--status", "running", "--limit", "1"], [5], id="status-limit"),
        pytest.param(["--from", "2026-02-16"], [], id="nothing"),
    ],
)
def test_list_runs_filters(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[int]
) -> None:
    """--from/--to/--status/--project-id/--limit select the expected runs, newest first."""
    _seed_rows(DAYS)
    code, out, err = cli(capsys, "list-runs", "--json", *argv)
    assert (code, err) == (0, "")
    assert [item["run_id"] for item in json.loads(out)] == expected
    code, out, err = cli(capsys, "list-runs", *argv)
    assert (code, err) == (0, "")
    assert [int(line.split()[0]) for line in out.splitlines()[1:]] == expected


def test_list_runs_of_an_unknown_project_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --project-id exits 1 with one line on stderr and nothing on stdout."""
    _seed_rows(DAYS)
    code, out, err = cli(capsys, "list-runs", "--project-id", "nope")
    assert (code, out) == (1, "")
    assert err == "runmeta: error: project 'nope' not found\n"


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--status", "done"], "invalid choice: 'done'", id="bad-status"),
        pytest.param(["--from", "tomorrow"], "argument --from: 'tomorrow' is not", id="bad-from"),
        pytest.param(["--to", "2026-02-30"], "argument --to: '2026-02-30' is not", id="bad-to"),
        pytest.param(["--limit", "0"], "argument --limit: '0' is not a positive", id="zero"),
        pytest.param(["--limit", "ten"], "argument --limit: 'ten' is not a whole", id="nan"),
        pytest.param(
            ["--from", "2026-02-15", "--to", "2026-02-14"], "is later than --to", id="reversed"
        ),
        pytest.param(["--bogus"], "unrecognized arguments: --bogus", id="unknown-option"),
    ],
)
def test_list_runs_usage_errors_exit_2(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad option values are usage errors: exit 2, usage and message on stderr, no database."""
    assert message in usage_error(capsys, "list-runs", *argv)
    assert not DB.exists()


@pytest.mark.backends("sqlite")  # a file that is not SQLite
def test_list_runs_refuses_a_file_that_is_not_a_database(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-SQLite file at --db-path is refused with exit 1 and left untouched."""
    path = workspace / "notes.txt"
    path.write_bytes(b"not a database, just notes\n" * 100)
    code, out, err = cli(capsys, "--db-path", str(path), "list-runs")
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: ")
    assert "not an SQLite database" in err
    assert err.count("\n") == 1
    assert path.read_bytes() == b"not a database, just notes\n" * 100


@pytest.mark.backends("sqlite")  # SQLite's PRAGMA user_version (PostgreSQL's: tests/postgres)
def test_list_runs_refuses_a_newer_database(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database written by a newer program exits 1 naming the versions."""
    _seed_rows([])
    connection = sqlite3.connect(DB)
    try:
        connection.execute("PRAGMA user_version = 99")
    finally:
        connection.close()
    code, out, err = cli(capsys, "list-runs")
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: run database") and "99" in err


def test_a_bug_keeps_its_traceback(
    service: RunSessionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception that is not a RunMetaError propagates out of main() unchanged."""

    def broken(*args: object, **kwargs: object) -> Iterator[RunRecord]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(RunsRepository, "iter_listing", broken)
    with pytest.raises(ZeroDivisionError, match="a bug"):
        main(["list-runs"])


@pytest.mark.parametrize(
    ("flag", "printed"),
    [
        # The table measures its first 200 rows before printing anything.
        pytest.param([], "", id="table"),
        pytest.param(["--json"], "[\n  {", id="json"),
    ],
)
def test_a_database_error_while_rows_stream_is_one_line(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flag: list[str],
    printed: str,
) -> None:
    """A RunMetaError raised while rows stream ends the listing with one line, exit 1."""
    _seed_rows([("2026-02-14T10:00:00+09:00", "success", None)])
    streamed = RunsRepository.iter_listing

    def failing(self: RunsRepository, **filters: object) -> Iterator[ListedRun]:
        yield from streamed(self, **filters)  # type: ignore[arg-type]
        raise DatabaseError(DB, f"run database {DB}: disk I/O error")

    monkeypatch.setattr(RunsRepository, "iter_listing", failing)
    code, out, err = cli(capsys, "list-runs", *flag)
    assert code == 1
    assert out.startswith(printed)
    assert ("python job.py 0" in out) == bool(printed)
    assert err == f"runmeta: error: run database {DB}: disk I/O error\n"


# --- show-run -----------------------------------------------------------------------


def test_show_run_prints_row_meta_and_files(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """show-run prints the row's fields, meta.json and the folder's files with sizes."""
    ctx = service.start("python src/main.py", note="baseline")
    (ctx.output_dir / "answer.txt").write_text("42\n")
    service.finish_success(ctx)
    code, out, err = cli(capsys, "show-run", "--run-id", "1")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "run 1"
    assert "  status      success" in lines
    assert "  note        baseline" in lines
    assert "  git commit  abc123" in lines
    assert "meta.json:" in lines
    assert '    "status": "success",' in lines
    assert "files in result/1:" in lines
    # the size column is as wide as meta.json's size (which holds this process's argv)
    assert ["output/answer.txt", "3", "B"] in [line.split() for line in lines]


def test_show_run_json_has_run_meta_and_files(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints {"run", "meta", "files", "children"}: row, meta.json, path and size."""
    ctx = service.start("python src/main.py")
    (ctx.output_dir / "answer.txt").write_text("42\n")
    service.finish_success(ctx)
    code, out, err = cli(capsys, "show-run", "--run-id", "1", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"run", "meta", "files", "children"}
    assert data["children"] == []
    assert data["run"] == service.runs.get(1).to_dict()
    assert data["meta"] == read_meta(1)
    files = {item["path"]: item["size"] for item in data["files"]}
    assert files["output/answer.txt"] == 3
    assert files["meta.json"] == Path("result/1/meta.json").stat().st_size
    assert sorted(files) == ["meta.json", "output/answer.txt"]


def test_show_run_without_folder_says_so(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose folder is gone shows meta null and no files, and still exits 0."""
    service.finish_success(service.start("python src/main.py"))
    shutil.rmtree("result/1")
    code, out, err = cli(capsys, "show-run", "--run-id", "1", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["meta"] is None
    assert json.loads(out)["files"] == []
    code, out, err = cli(capsys, "show-run", "--run-id", "1")
    assert (code, err) == (0, "")
    assert "meta.json: " in out and "does not exist" in out
    assert out.splitlines()[-1] == "files: result/1 does not exist"


def test_show_run_with_unreadable_meta_still_shows_the_row(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A corrupt meta.json is reported in the page; the row is shown; exit 0."""
    service.finish_success(service.start("python src/main.py"))
    Path("result/1/meta.json").write_text("{truncated")
    code, out, err = cli(capsys, "show-run", "--run-id", "1")
    assert (code, err) == (0, "")
    assert "meta.json: " in out and "unreadable" in out


def test_show_run_of_an_unknown_run_is_refused(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown run id exits 1 with one line on stderr."""
    assert cli(capsys, "show-run", "--run-id", "7") == (1, "", "runmeta: error: run 7 not found\n")


# --- update-run ---------------------------------------------------------------------


def _exited_process() -> ProcessIdentity:
    """A process of this host that has ended: a child that printed its pid and exited."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return ProcessIdentity(current_host(), int(child.stdout), None, None)


def test_update_run_changes_row_and_meta_together(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """update-run sets status and note, bumps updated_at and rewrites meta.json to match."""
    # Left running by a process that is gone, as after a crash (a live one is refused).
    gone = _exited_process()
    crashed = RunSessionService(
        service.connection, service.store, clock=service.clock, process_identity=lambda: gone
    )
    crashed.start("python src/main.py")
    before = service.runs.get(1)
    code, out, err = cli(
        capsys, "update-run", "--run-id", "1", "--status", "killed", "--note", "oom"
    )
    assert (code, err) == (0, "")
    assert out == "updated run 1 (killed, no project, note 'oom')\n"
    after = find_run(1)
    assert after is not None
    assert (after.status, after.note) == ("killed", "oom")
    assert after.updated_at > before.updated_at
    meta = read_meta(1)
    for field in RUN_FIELDS:
        assert meta[field] == getattr(after, field), field


def test_update_run_attaches_a_project_and_links_it(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """--project-id attaches the run and creates the project's reference to its folder."""
    (workspace / "analysis").mkdir()
    service.edits.add_project("main", workspace / "analysis")
    service.finish_success(service.start("python src/main.py"))
    code, out, err = cli(capsys, "update-run", "--run-id", "1", "--project-id", "main")
    assert (code, err) == (0, "")
    assert out == "updated run 1 (success, project main)\n"
    refs = workspace / "analysis" / "experiment_refs" / root_tag("result")
    link, text = refs / "1", refs / "1.txt"
    run_dir = (workspace / "result" / "1").resolve()
    if link.is_symlink():
        assert link.resolve() == run_dir
    else:  # no symlinks here: a text reference names the folder instead
        assert Path(text.read_text(encoding="utf-8").splitlines()[0]).resolve() == run_dir
    meta = read_meta(1)
    assert (meta["project_id"], meta["project_path"]) == ("main", str(workspace / "analysis"))
    code, out, err = cli(capsys, "update-run", "--run-id", "1", "--no-project")
    assert (code, err) == (0, "")
    assert out == "updated run 1 (success, no project)\n"
    assert read_meta(1)["project_id"] is None
    assert not link.is_symlink() and not text.exists()


def test_update_run_to_a_missing_project_folder_warns(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """A project whose folder is missing: the run is attached, with a warning on stderr."""
    service.edits.add_project("main", workspace / "analysis")
    service.finish_success(service.start("python src/main.py"))
    code, out, err = cli(capsys, "update-run", "--run-id", "1", "--project-id", "main")
    assert (code, out) == (0, "updated run 1 (success, project main)\n")
    assert err == (
        f"runmeta: warning: run 1: project link not updated: cannot link run into "
        f"{workspace / 'analysis'}: the project folder does not exist\n"
    )
    assert read_meta(1)["warnings"] == [err.split(": ", 3)[3].rstrip("\n")]
    assert get_run(1).project_id == "main"


def test_update_run_without_a_folder_makes_no_dangling_link(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """Attaching a run whose folder is gone changes the row and links nothing."""
    (workspace / "analysis").mkdir()
    service.edits.add_project("main", workspace / "analysis")
    service.finish_success(service.start("python src/main.py"))
    shutil.rmtree(workspace / "result" / "1")
    code, out, err = cli(capsys, "update-run", "--run-id", "1", "--project-id", "main")
    assert (code, out, err) == (0, "updated run 1 (success, project main)\n", "")
    assert not (workspace / "analysis" / "experiment_refs").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--run-id", "9", "--note", "x"], "run 9 not found", id="unknown-run"),
        pytest.param(
            ["--run-id", "1", "--project-id", "ghost"], "project 'ghost' not found", id="project"
        ),
    ],
)
def test_update_run_refusals_exit_1_and_change_nothing(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Unknown run or project ids exit 1; row and meta.json stay."""
    service.finish_success(service.start("python src/main.py"))
    row, meta = find_run(1), read_meta(1)
    code, out, err = cli(capsys, "update-run", *argv)
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: ") and message in err
    assert err.count("\n") == 1
    assert (find_run(1), read_meta(1)) == (row, meta)


@pytest.mark.backends("sqlite")  # refused before any database is opened
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--run-id", "1"], "nothing to change", id="no-change"),
        pytest.param(["--status", "fail"], "required: --run-id", id="no-run-id"),
        pytest.param(["--run-id", "1", "--status", "done"], "invalid choice", id="bad-status"),
        pytest.param(["--run-id", "-3", "--note", "x"], "--run-id", id="negative-id"),
        pytest.param(["--run-id", "1_0", "--note", "x"], "'1_0' is not a whole", id="underscore"),
        pytest.param(["--run-id", "\u0661", "--note", "x"], "is not a whole", id="arabic-digit"),
        pytest.param(["--run-id", "", "--note", "x"], "'' is not a whole", id="empty-id"),
        pytest.param(
            ["--run-id", str(2**63), "--note", "x"],
            f"'{2**63}' is too large (at most {2**63 - 1})",
            id="id-too-big",
        ),
        pytest.param(
            ["--run-id", "1", "--status", "running"],
            "invalid choice: 'running' (choose from 'success', 'fail', 'killed')",
            id="back-to-running",
        ),
        pytest.param(
            ["--run-id", "1", "--project-id", "p", "--no-project"],
            "not allowed with argument",
            id="attach-and-detach",
        ),
    ],
)
def test_update_run_usage_errors_exit_2(
    workspace: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Missing, contradictory or malformed options exit 2 with the subcommand's usage."""
    err = usage_error(capsys, "update-run", *argv)
    assert err.startswith("usage: runmeta update-run ")
    assert message in err


# --- delete-run ---------------------------------------------------------------------


def test_delete_run_removes_only_the_row_by_default(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --with-files the row goes and the run folder stays."""
    service.finish_success(service.start("python src/main.py"))
    code, out, err = cli(capsys, "delete-run", "--run-id", "1")
    assert (code, err) == (0, "")
    assert out == "deleted run 1 (success, no project)\n"
    assert find_run(1) is None
    assert Path("result/1/meta.json").is_file()


def test_delete_run_with_files_removes_link_folder_and_row(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """--with-files removes the project's reference, the run folder and the row."""
    (workspace / "analysis").mkdir()
    service.edits.add_project("main", workspace / "analysis")
    service.finish_success(service.start("python src/main.py", project_id="main"))
    refs = workspace / "analysis" / "experiment_refs"
    assert any(refs.iterdir())
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "deleted run 1 (success, project main)",
        f"removed the link in {workspace / 'analysis'}",
        "removed result/1",
    ]
    assert find_run(1) is None
    assert not Path("result/1").exists()
    assert not any(refs.iterdir())


def test_delete_run_refuses_a_running_run_without_force(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A running run is kept (row and files) unless --force is given."""
    service.start("python src/main.py")
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files")
    assert (code, out) == (1, "")
    assert err == (
        "runmeta: error: run 1 is still running; nothing deleted "
        "(give --force to delete it anyway)\n"
    )
    assert find_run(1) is not None and Path("result/1").is_dir()
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files", "--force")
    assert (code, err) == (0, "")
    assert find_run(1) is None and not Path("result/1").exists()


def test_delete_run_keeps_the_row_when_files_cannot_be_removed(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that cannot be removed keeps the row; the error says what is left; rerun works."""
    ctx = service.start("python src/main.py")
    (ctx.output_dir / "big.bin").write_bytes(b"x" * 10)
    service.finish_success(ctx)

    def refuse(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    with monkeypatch.context() as patch:
        patch.setattr(shutil, "rmtree", refuse)
        code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files")
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: cannot remove result/1: Permission denied; ")
    assert "run 1 is kept in the database" in err
    assert "result/1 (2 files) remain" in err
    assert err.count("\n") == 1
    assert find_run(1) is not None
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files")
    assert (code, err) == (0, "")
    assert find_run(1) is None and not Path("result/1").exists()


def test_delete_run_keeps_everything_when_the_link_cannot_be_removed(
    service: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workspace: Path,
) -> None:
    """A project link that cannot be removed stops before the folder and the row."""
    (workspace / "analysis").mkdir()
    service.edits.add_project("main", workspace / "analysis")
    service.finish_success(service.start("python src/main.py", project_id="main"))
    link = workspace / "analysis" / "experiment_refs" / root_tag("result") / "1"

    def refuse(project_path: object, run_id: int, run_dir: object) -> bool:
        raise ProjectLinkError(link, "Read-only file system")

    monkeypatch.setattr(edits, "unlink_run", refuse)
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files")
    assert (code, out) == (1, "")
    assert err == (
        f"runmeta: error: cannot remove {link}: Read-only file system; run 1 is kept in the "
        f"database and the project link {link}, the run folder result/1 remain; fix the cause "
        "and run delete-run --with-files again\n"
    )
    assert find_run(1) is not None and Path("result/1").is_dir()


def test_delete_run_of_an_unknown_run_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown run id exits 1 with one line on stderr."""
    code, out, err = cli(capsys, "delete-run", "--run-id", "3", "--with-files")
    assert (code, out, err) == (1, "", "runmeta: error: run 3 not found\n")
