"""In-process tests of parent and child runs on the command line.

``list-runs --parent``, ``show-run`` of a parent and of a child, ``delete-run`` of a run
with children (refused, or with ``--children``), and ``check``'s ``orphan-child``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monocycle_nash.runmeta.models import RUN_FIELDS
from monocycle_nash.runmeta.service import RunSessionService
from tests.runmeta.cli_support import cli, current_backend, find_run, read_meta, usage_error


def _sweep(service: RunSessionService) -> None:
    """Run 1: a sweep (success) with children 2 (success), 3 (fail), 4 (success); run 5 alone."""
    parent = service.start("monocycle-nash --sweep sweep.toml", note="sweep of p")
    for index, status in enumerate(("success", "fail", "success")):
        child = service.start(
            f"case {index}", note=f"p=0.{index}, seed 1", parent_run_id=parent.run_id
        )
        if status == "success":
            service.finish_success(child)
        else:
            service.finish_fail(child, "diverged")
    service.finish_success(parent)
    service.finish_success(service.start("python other.py", note="unrelated"))


def _delete_parent_row_by_hand() -> None:
    """Delete run 1's row as a user of the sqlite3 shell (or psql) would, foreign keys off."""
    current_backend().delete_run_row_unchecked(1)


# --- list-runs --parent -------------------------------------------------------------------


def test_list_runs_parent_lists_only_its_children(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--parent 1 prints the table of runs 4, 3, 2 (newest first): not the parent, not run 5."""
    _sweep(service)
    code, out, err = cli(capsys, "list-runs", "--parent", "1")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "RUN",
        "STATUS",
        "CREATED",
        "(+09:00)",
        "DURATION",
        "PROJECT",
        "NOTE",
        "RESULT",
        "COMMAND",
    ]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["4", "success"],
        ["3", "fail"],
        ["2", "success"],
    ]


def test_list_runs_parent_json_has_parent_run_id(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json elements carry every row field (parent_run_id last of them, then reason and
    metrics); an ordinary run's parent is null."""
    _sweep(service)
    code, out, err = cli(capsys, "list-runs", "--parent", "1", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [item["run_id"] for item in data] == [4, 3, 2]
    assert all(tuple(item) == (*RUN_FIELDS, "reason", "metrics") for item in data)
    assert RUN_FIELDS[-1] == "parent_run_id"
    assert {item["parent_run_id"] for item in data} == {1}
    code, out, _ = cli(capsys, "list-runs", "--json")
    assert [(item["run_id"], item["parent_run_id"]) for item in json.loads(out)] == [
        (5, None),
        (4, 1),
        (3, 1),
        (2, 1),
        (1, None),
    ]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["--status", "fail"], [3], id="status"),
        pytest.param(["--status", "success", "--limit", "1"], [4], id="status-limit"),
        pytest.param(["--status", "killed"], [], id="none-match"),
    ],
)
def test_list_runs_parent_combines_with_the_other_filters(
    service: RunSessionService,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: list[int],
) -> None:
    """--parent narrows whatever the other filters select."""
    _sweep(service)
    code, out, err = cli(capsys, "list-runs", "--parent", "1", *argv, "--json")
    assert (code, err) == (0, "")
    assert [item["run_id"] for item in json.loads(out)] == expected


def test_list_runs_parent_combines_with_a_time_range(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--parent with --to keeps the children created up to that time."""
    _sweep(service)
    until = service.runs.get(3).created_at
    code, out, err = cli(capsys, "list-runs", "--parent", "1", "--to", until, "--json")
    assert (code, err) == (0, "")
    assert [item["run_id"] for item in json.loads(out)] == [3, 2]


def test_list_runs_parent_of_an_ordinary_run_is_empty(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run without children lists no run (the header only), exit 0."""
    _sweep(service)
    code, out, err = cli(capsys, "list-runs", "--parent", "5")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 1


def test_list_runs_parent_unknown_is_refused(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A parent id that is neither a run nor named by a child: one line, exit 1, no stdout."""
    _sweep(service)
    code, out, err = cli(capsys, "list-runs", "--parent", "99")
    assert (code, out, err) == (1, "", "runmeta: error: run 99 not found\n")


def test_list_runs_parent_still_lists_orphans(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """Children whose parent row is gone are still found by their parent's id."""
    _sweep(service)
    _delete_parent_row_by_hand()
    code, out, err = cli(capsys, "list-runs", "--parent", "1", "--json")
    assert (code, err) == (0, "")
    assert [item["run_id"] for item in json.loads(out)] == [4, 3, 2]


@pytest.mark.backends("sqlite")  # refused before any database is opened
def test_list_runs_parent_needs_a_positive_id(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--parent takes a positive whole number, like --run-id."""
    err = usage_error(capsys, "list-runs", "--parent", "0")
    assert "'0' is not a positive whole number" in err


# --- show-run ---------------------------------------------------------------------------


def test_show_run_of_a_parent_lists_its_children(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """The parent's page has one line per child (id, status, note) before its meta.json."""
    _sweep(service)
    code, out, err = cli(capsys, "show-run", "--run-id", "1")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    start = lines.index("child runs (3):")
    assert lines[start + 1 : start + 6] == [
        "  RUN  STATUS   NOTE",
        "    2  success  p=0.0, seed 1",
        "    3  fail     p=0.1, seed 1",
        "    4  success  p=0.2, seed 1",
        "",
    ]
    assert lines[start + 6] == "meta.json:"
    assert not any(line.startswith("  parent") for line in lines)


def test_show_run_of_a_child_names_its_parent(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child's page has a parent line and no children; an ordinary run's has neither."""
    _sweep(service)
    code, out, err = cli(capsys, "show-run", "--run-id", "3")
    assert (code, err) == (0, "")
    assert "  parent      run 1" in out.splitlines()
    assert "child runs" not in out
    code, out, err = cli(capsys, "show-run", "--run-id", "5")
    assert (code, err) == (0, "")
    assert not any(line.startswith("  parent ") for line in out.splitlines())
    assert "child runs" not in out


def test_show_run_of_a_child_whose_parent_is_gone_says_so(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """An orphan names its parent's id and that it is not in the database."""
    _sweep(service)
    _delete_parent_row_by_hand()
    code, out, err = cli(capsys, "show-run", "--run-id", "2")
    assert (code, err) == (0, "")
    assert "  parent      run 1 (not in the database)" in out.splitlines()


def test_show_run_json_has_the_parent_and_the_children(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON: run.parent_run_id, meta.parent_run_id, and children as list-runs elements."""
    _sweep(service)
    code, out, err = cli(capsys, "show-run", "--run-id", "1", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["run"]["parent_run_id"] is None
    assert [child["run_id"] for child in data["children"]] == [2, 3, 4]
    assert data["children"][1] == service.runs.get(3).to_dict()
    code, out, err = cli(capsys, "show-run", "--run-id", "2", "--json")
    data = json.loads(out)
    assert (data["run"]["parent_run_id"], data["meta"]["parent_run_id"]) == (1, 1)
    assert data["children"] == []


# --- delete-run ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files", [pytest.param([], id="row-only"), pytest.param(["--with-files"], id="with-files")]
)
def test_delete_run_of_a_parent_is_refused_without_children(
    service: RunSessionService, capsys: pytest.CaptureFixture[str], files: list[str]
) -> None:
    """A run with children: one line naming them, exit 1, nothing deleted."""
    _sweep(service)
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", *files)
    assert (code, out) == (1, "")
    assert err == (
        "runmeta: error: run 1 has 3 child runs (2, 3, 4); nothing deleted (give --children"
        " to delete them first, or delete them one by one)\n"
    )
    assert all(find_run(run_id) is not None for run_id in range(1, 6))
    assert all(Path(f"result/{run_id}").is_dir() for run_id in range(1, 6))


def test_delete_run_with_children_and_files_removes_them_all(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--children --with-files: children first, then the parent; rows and folders gone."""
    _sweep(service)
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files", "--children")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "deleted run 2 (success, no project, child of run 1, note 'p=0.0, seed 1')",
        "removed result/2",
        "deleted run 3 (fail, no project, child of run 1, note 'p=0.1, seed 1')",
        "removed result/3",
        "deleted run 4 (success, no project, child of run 1, note 'p=0.2, seed 1')",
        "removed result/4",
        "deleted run 1 (success, no project, note 'sweep of p') and 3 child runs",
        "removed result/1",
    ]
    assert [find_run(run_id) is None for run_id in range(1, 6)] == [True] * 4 + [False]
    assert sorted(path.name for path in Path("result").iterdir()) == ["5"]


def test_delete_run_with_children_without_files_keeps_the_folders(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """--children alone deletes the rows; every folder stays and no 'removed' line is said."""
    _sweep(service)
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--children")
    assert (code, err) == (0, "")
    assert [line.split(" (")[0] for line in out.splitlines()] == [
        "deleted run 2",
        "deleted run 3",
        "deleted run 4",
        "deleted run 1",
    ]
    assert all(find_run(run_id) is None for run_id in range(1, 5))
    assert all(Path(f"result/{run_id}/meta.json").is_file() for run_id in range(1, 5))


def test_delete_run_with_children_refuses_a_running_child_first(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A running child without --force: one line, exit 1, and not one run deleted."""
    parent = service.start("sweep")
    service.finish_success(service.start("case 1", parent_run_id=parent.run_id))
    service.start("case 2", parent_run_id=parent.run_id)
    service.finish_success(parent)
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files", "--children")
    assert (code, out) == (1, "")
    assert err == (
        "runmeta: error: run 3 is still running; nothing deleted (give --force to delete it"
        " anyway)\n"
    )
    assert all(find_run(run_id) is not None for run_id in (1, 2, 3))


def test_delete_run_with_children_stopped_midway_says_what_went(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child that cannot go stops the deletion: the line names the children deleted."""
    _sweep(service)
    meta = read_meta(3)
    meta["created_at"] = "2020-01-01T00:00:00+09:00"  # another run's folder: kept
    Path("result/3/meta.json").write_text(json.dumps(meta), encoding="utf-8")
    code, out, err = cli(capsys, "delete-run", "--run-id", "1", "--with-files", "--children")
    assert (code, out) == (1, "")
    assert err.startswith(
        "runmeta: error: deleted 1 child run of run 1 (2), then stopped at run 3: "
        "result/3/meta.json describes another run"
    )
    assert err.endswith(
        "run 1 is still in the database; fix the cause and give the same delete-run again"
        " to finish\n"
    )
    assert err.count("\n") == 1
    assert find_run(2) is None and not Path("result/2").exists()
    assert all(find_run(run_id) is not None for run_id in (1, 3, 4))


def test_delete_run_of_a_child_alone_is_allowed(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child is deleted like any run; its parent and siblings stay."""
    _sweep(service)
    code, out, err = cli(capsys, "delete-run", "--run-id", "3", "--with-files")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "deleted run 3 (fail, no project, child of run 1, note 'p=0.1, seed 1')",
        "removed result/3",
    ]
    code, out, _ = cli(capsys, "list-runs", "--parent", "1", "--json")
    assert [item["run_id"] for item in json.loads(out)] == [4, 2]


# --- check ----------------------------------------------------------------------------------


def test_check_reports_orphan_children_and_repair_leaves_them(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child whose parent row is gone is orphan-child, left: exit 1 with or without --repair."""
    _sweep(service)
    _delete_parent_row_by_hand()
    for repair in ([], ["--repair"]):
        code, out, err = cli(capsys, "check", *repair, "--json")
        assert (code, err) == (1, "")
        findings = json.loads(out)["findings"]
        orphans = [f for f in findings if f["kind"] == "orphan-child"]
        assert [(f["run_id"], f["repaired"]) for f in orphans] == [
            (2, False),
            (3, False),
            (4, False),
        ]
        assert [f["kind"] for f in findings if f["run_id"] == 1] == ["orphan-folder"]
    code, out, err = cli(capsys, "check")
    assert code == 1
    assert "  2  orphan-child   left   its parent run 1 is not in the database" in out
    assert out.splitlines()[-1] == "checked 4 runs and 5 folders: 4 problems left"
    assert all(find_run(run_id) is not None for run_id in (2, 3, 4))
