"""In-process tests of the project subcommands: add, update, delete and list projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monocycle_nash.runmeta.edits import root_tag
from monocycle_nash.runmeta.models import ProjectRecord
from monocycle_nash.runmeta.repositories import ProjectsRepository
from monocycle_nash.runmeta.service import RunSessionService
from tests.runmeta.cli_support import DB, cli, connect, get_run, read_meta, usage_error


def _project(project_id: str) -> ProjectRecord | None:
    with connect() as connection:
        return ProjectsRepository(connection).find(project_id)


def _projects() -> list[ProjectRecord]:
    with connect() as connection:
        return ProjectsRepository(connection).list()


def test_add_project_stores_an_absolute_path(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """add-project resolves a relative path against the current folder and stores the note."""
    code, out, err = cli(
        capsys, "add-project", "--project-id", "main", "--project-path", "analysis/main",
        "--note", "baseline study",
    )  # fmt: skip
    assert (code, err) == (0, "")
    expected = workspace.resolve() / "analysis" / "main"
    assert out == (
        f"added project main at {expected} (no such folder yet: create it; until then its runs"
        " warn that no link was made)\n"
    )
    project = _project("main")
    assert project is not None
    assert (project.project_path, project.note) == (str(expected), "baseline study")
    assert project.created_at.endswith("+09:00")
    expected.mkdir(parents=True)
    code, out, err = cli(
        capsys, "add-project", "--project-id", "b", "--project-path", str(expected)
    )
    assert (code, out, err) == (0, f"added project b at {expected}\n", "")


@pytest.mark.parametrize(
    ("project_id", "message"),
    [
        pytest.param("main", "project 'main' already exists", id="duplicate"),
        pytest.param("  ", "project id", id="blank-id"),
        pytest.param("a\nb", "invalid project id 'a\\nb': it must not hold control", id="newline"),
        pytest.param("x", "invalid project path '': it must not be empty", id="empty-path"),
        pytest.param("y", "it is a file, not a folder", id="file-path"),
    ],
)
def test_add_project_refusals_exit_1(
    workspace: Path, capsys: pytest.CaptureFixture[str], project_id: str, message: str
) -> None:
    """A duplicate, blank or control-character id, an empty or file path: exit 1, one line."""
    assert cli(capsys, "add-project", "--project-id", "main", "--project-path", "a")[0] == 0
    (workspace / "notes.txt").write_text("not a folder\n", encoding="utf-8")
    path = {"x": "", "y": "notes.txt"}.get(project_id, "b")
    code, out, err = cli(capsys, "add-project", "--project-id", project_id, "--project-path", path)
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: ") and message in err
    assert err.count("\n") == 1
    project = _project("main")
    assert project is not None and project.project_path == str(workspace.resolve() / "a")
    assert [p.project_id for p in _projects()] == ["main"]


@pytest.mark.backends("sqlite")  # refused before any database is opened
def test_add_project_needs_an_id_and_a_path(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing --project-path is a usage error (exit 2) and creates nothing."""
    err = usage_error(capsys, "add-project", "--project-id", "main")
    assert "the following arguments are required: --project-path" in err
    assert not DB.exists()


def test_update_project_changes_path_and_note_and_the_runs_meta(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """update-project changes the row, moves its runs' links and rewrites their meta.json."""
    (workspace / "old").mkdir()
    (workspace / "new").mkdir()
    service.edits.add_project("main", workspace / "old")
    service.finish_success(service.start("python src/main.py", project_id="main"))
    tag = root_tag("result")
    assert (workspace / "old" / "experiment_refs" / tag / "1").is_symlink()
    code, out, err = cli(
        capsys, "update-project", "--project-id", "main", "--project-path", "new", "--note", "moved"
    )
    assert (code, err) == (0, "")
    new_path = str(workspace.resolve() / "new")
    assert out == f"updated project main at {new_path}\n"
    project = _project("main")
    assert project is not None and (project.project_path, project.note) == (new_path, "moved")
    assert read_meta(1)["project_path"] == new_path == get_run(1).project_path
    new_link = workspace / "new" / "experiment_refs" / tag / "1"
    assert new_link.resolve() == (workspace / "result" / "1").resolve()
    assert not (workspace / "old" / "experiment_refs" / tag / "1").is_symlink()
    assert cli(capsys, "delete-run", "--run-id", "1", "--with-files")[0] == 0
    assert not new_link.is_symlink()
    assert list((workspace / "old" / "experiment_refs").iterdir()) == []


def test_update_project_to_a_missing_folder_warns_and_keeps_the_old_link(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """A new folder that does not exist: exit 0, a warning, the old link kept; rerun repairs."""
    (workspace / "old").mkdir()
    service.edits.add_project("main", workspace / "old")
    service.finish_success(service.start("python src/main.py", project_id="main"))
    code, out, err = cli(capsys, "update-project", "--project-id", "main", "--project-path", "new")
    assert (code, out) == (0, f"updated project main at {workspace.resolve() / 'new'}\n")
    assert err.startswith("runmeta: warning: run 1: project link not made: ")
    assert err.count("\n") == 1 and "the one in" in err
    assert (workspace / "old" / "experiment_refs" / root_tag("result") / "1").is_symlink()
    assert "project link not made" in read_meta(1)["warnings"][-1]  # type: ignore[index]
    (workspace / "new").mkdir()
    code, _, err = cli(capsys, "update-project", "--project-id", "main", "--project-path", "new")
    assert (code, err) == (0, "")
    assert (workspace / "new" / "experiment_refs" / root_tag("result") / "1").is_symlink()


def test_update_project_to_a_file_is_refused(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """A new path that is a file exits 1 with one line and changes nothing."""
    service.edits.add_project("main", workspace / "old")
    (workspace / "notes.txt").write_text("x\n", encoding="utf-8")
    code, out, err = cli(
        capsys, "update-project", "--project-id", "main", "--project-path", "notes.txt"
    )
    assert (code, out) == (1, "")
    assert err == (
        f"runmeta: error: invalid project path '{workspace.resolve() / 'notes.txt'}':"
        " it is a file, not a folder\n"
    )
    project = _project("main")
    assert project is not None and project.project_path == str(workspace.resolve() / "old")


def test_update_project_note_only_keeps_the_path(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--note alone changes the note and nothing else."""
    cli(capsys, "add-project", "--project-id", "main", "--project-path", "p")
    code, _, err = cli(capsys, "update-project", "--project-id", "main", "--note", "")
    assert (code, err) == (0, "")
    project = _project("main")
    assert project is not None
    assert (project.project_path, project.note) == (str(workspace.resolve() / "p"), "")


def test_update_project_of_an_unknown_project_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown project id exits 1 with one line on stderr."""
    code, out, err = cli(capsys, "update-project", "--project-id", "ghost", "--note", "x")
    assert (code, out, err) == (1, "", "runmeta: error: project 'ghost' not found\n")


@pytest.mark.backends("sqlite")  # refused before any database is opened
def test_update_project_without_a_change_is_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """update-project with neither --project-path nor --note exits 2."""
    err = usage_error(capsys, "update-project", "--project-id", "main")
    assert err.startswith("usage: runmeta update-project ")
    assert "nothing to change" in err


def test_delete_project_keeps_its_runs_without_a_project(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    """delete-project leaves the runs, with no project in the row nor in meta.json."""
    (workspace / "analysis").mkdir()
    service.edits.add_project("main", workspace / "analysis")
    service.finish_success(service.start("python a.py", project_id="main"))
    service.finish_success(service.start("python b.py", project_id="main"))
    service.finish_success(service.start("python c.py"))
    refs = workspace / "analysis" / "experiment_refs"
    (refs / "notes.md").write_text("mine\n", encoding="utf-8")
    before = get_run(1).updated_at
    code, out, err = cli(capsys, "delete-project", "--project-id", "main")
    assert (code, err) == (0, "")
    assert out == "deleted project main (2 runs now without a project)\n"
    assert _project("main") is None
    for run_id in (1, 2):
        assert get_run(run_id).project_id is None
        assert (read_meta(run_id)["project_id"], read_meta(run_id)["project_path"]) == (None, None)
        assert get_run(run_id).updated_at > before
        assert read_meta(run_id)["updated_at"] == get_run(run_id).updated_at
    assert [path.name for path in refs.iterdir()] == ["notes.md"]  # only the run links went


def test_delete_project_of_an_unknown_project_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown project id exits 1 with one line on stderr."""
    code, out, err = cli(capsys, "delete-project", "--project-id", "ghost")
    assert (code, out, err) == (1, "", "runmeta: error: project 'ghost' not found\n")


def test_list_projects_table_and_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """list-projects prints an aligned table by id, or one JSON array of the columns."""
    cli(capsys, "add-project", "--project-id", "zeta", "--project-path", "z", "--note", "last")
    cli(capsys, "add-project", "--project-id", "alpha", "--project-path", "a")
    code, out, err = cli(capsys, "list-projects")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["PROJECT", "CREATED", "(+09:00)", "NOTE", "PATH"]
    assert [line.split()[0] for line in lines[1:]] == ["alpha", "zeta"]
    assert lines[1].endswith(str(workspace.resolve() / "a"))
    assert lines[1].index("/") == lines[2].index("/")
    code, out, err = cli(capsys, "list-projects", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [tuple(item) for item in data] == [
        ("project_id", "project_path", "created_at", "note")
    ] * 2
    assert (data[1]["project_id"], data[1]["note"]) == ("zeta", "last")


@pytest.mark.backends("sqlite")  # a database file that does not exist: SQLite's case
@pytest.mark.parametrize(
    ("flag", "expected"),
    [pytest.param([], "", id="table"), pytest.param(["--json"], "[]\n", id="json")],
)
def test_list_projects_on_a_missing_database_is_empty(
    workspace: Path, capsys: pytest.CaptureFixture[str], flag: list[str], expected: str
) -> None:
    """With no database yet, list-projects says so in one line, exit 0, and creates nothing."""
    code, out, err = cli(capsys, "list-projects", *flag)
    assert (code, out) == (0, expected)
    assert err == f"runmeta: no run database at {DB} (nothing recorded yet)\n"
    assert list(workspace.iterdir()) == []
