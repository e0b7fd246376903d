"""Tests of the references from analysis projects to run folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monocycle_nash.runmeta.edits import (
    find_link,
    link_problem,
    link_run,
    links_of_root,
    refresh_link,
    root_tag,
    unlink_run,
)
from monocycle_nash.runmeta.errors import ProjectLinkError

T0 = "2026-02-14T19:30:12+09:00"


def _refuse_symlink(*args: object, **kwargs: object) -> None:
    raise OSError(1314, "A required privilege is not held by the client")


@pytest.fixture
def no_symlinks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make os.symlink fail as it does on Windows without the privilege."""
    monkeypatch.setattr(os, "symlink", _refuse_symlink)


def _run_dir(root: Path, run_id: int) -> Path:
    run_dir = root / str(run_id)
    run_dir.mkdir(parents=True)
    return run_dir


def _refs(project: Path, result_root: Path) -> Path:
    return project / "experiment_refs" / root_tag(result_root)


def test_symlink_points_at_the_absolute_run_folder(tmp_path: Path) -> None:
    """experiment_refs/<root tag>/<id> is a symlink to the absolute run folder."""
    project, run_dir = tmp_path / "project", _run_dir(tmp_path / "result", 4)
    project.mkdir()
    link = link_run(project, 4, run_dir, T0, "running")
    assert link.kind == "symlink"
    assert link.path == _refs(project, tmp_path / "result") / "4"
    assert link.path.readlink() == run_dir.absolute()
    assert link.path.resolve() == run_dir.resolve()
    assert find_link(project, 4, run_dir) == link


def test_root_tag_is_readable_stable_and_distinct(tmp_path: Path) -> None:
    """The tag names the root's folders, is the same for the same root, differs otherwise."""
    tag = root_tag(tmp_path / "lab" / "result")
    assert tag.startswith("lab-result-") and len(tag.rsplit("-", 1)[1]) == 12
    assert root_tag(tmp_path / "lab" / "x" / ".." / "result") == tag
    assert root_tag(tmp_path / "other" / "result") != tag
    assert root_tag(Path("/") / "we ird\x1b name" / "result").startswith("we_ird__name-result-")


@pytest.mark.usefixtures("no_symlinks")
def test_text_file_when_symlinks_fail(tmp_path: Path) -> None:
    """Without symlinks, <id>.txt holds the path, creation time and status."""
    project, run_dir = tmp_path / "project", tmp_path / "result" / "4"
    project.mkdir()
    link = link_run(project, 4, run_dir, T0, "running")
    assert link.kind == "text"
    assert link.path == _refs(project, tmp_path / "result") / "4.txt"
    assert link.path.read_text().splitlines() == [
        str(run_dir),
        f"created_at: {T0}",
        "status: running",
    ]
    refreshed = refresh_link(project, 4, run_dir, T0, "success")
    assert refreshed == link
    assert link.path.read_text().splitlines()[-1] == "status: success"
    assert sorted(p.name for p in link.path.parent.iterdir()) == ["4.txt"]


def test_refresh_without_reference_creates_nothing(tmp_path: Path) -> None:
    """refresh_link does not invent a reference that was never made."""
    (tmp_path / "project").mkdir()
    assert refresh_link(tmp_path / "project", 1, tmp_path / "result" / "1", T0, "fail") is None
    assert not (tmp_path / "project" / "experiment_refs").exists()


def test_missing_project_folder_is_an_error(tmp_path: Path) -> None:
    """The project folder is never created; its absence is a ProjectLinkError."""
    with pytest.raises(ProjectLinkError, match="does not exist"):
        link_run(tmp_path / "gone", 1, tmp_path, T0, "running")
    assert not (tmp_path / "gone").exists()


def test_unlink_removes_either_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """unlink_run removes a symlink or a text reference, never the run folder."""
    project, run_dir = tmp_path / "project", _run_dir(tmp_path / "result", 1)
    project.mkdir()
    link_run(project, 1, run_dir, T0, "success")
    assert unlink_run(project, 1, run_dir) is True
    assert run_dir.is_dir()
    monkeypatch.setattr(os, "symlink", _refuse_symlink)
    other = _run_dir(tmp_path / "result", 2)
    link_run(project, 2, other, T0, "success")
    assert unlink_run(project, 2, other) is True
    assert unlink_run(project, 2, other) is False
    assert unlink_run(tmp_path / "nowhere", 2, other) is False
    assert list((project / "experiment_refs").iterdir()) == []  # the emptied folder went too


def test_two_result_roots_sharing_a_project_keep_their_own_links(tmp_path: Path) -> None:
    """Run 1 of two roots linked into one project: two links, each removed only by its root."""
    project = tmp_path / "analysis"
    project.mkdir()
    first, second = _run_dir(tmp_path / "a" / "result", 1), _run_dir(tmp_path / "b" / "result", 1)
    one = link_run(project, 1, first, T0, "success")
    two = link_run(project, 1, second, T0, "success")
    assert one.path != two.path
    assert (one.path.resolve(), two.path.resolve()) == (first.resolve(), second.resolve())
    assert unlink_run(project, 1, first) is True
    assert not one.path.exists()
    assert two.path.resolve() == second.resolve()
    assert find_link(project, 1, first) is None
    assert find_link(project, 1, second) == two


@pytest.mark.parametrize("kind", ["symlink-elsewhere", "text-naming-another", "user-file"])
def test_a_link_not_made_for_the_run_is_never_replaced(tmp_path: Path, kind: str) -> None:
    """Whatever sits at the link's name without pointing at this run stays, byte for byte."""
    project, run_dir = tmp_path / "project", _run_dir(tmp_path / "result", 3)
    refs = _refs(project, tmp_path / "result")
    refs.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if kind == "symlink-elsewhere":
        (refs / "3").symlink_to(elsewhere)
        name = "3"
    elif kind == "text-naming-another":
        (refs / "3.txt").write_text(f"{elsewhere}\ncreated_at: {T0}\nstatus: fail\n")
        name = "3.txt"
    else:
        (refs / "3").write_text("my own notes on run 3\n")
        name = "3"
    before = (
        str((refs / name).readlink()) if (refs / name).is_symlink() else (refs / name).read_text()
    )
    with pytest.raises(ProjectLinkError, match="not made for this run; left alone"):
        link_run(project, 3, run_dir, T0, "success")
    assert refresh_link(project, 3, run_dir, T0, "killed") is None
    assert unlink_run(project, 3, run_dir) is False
    after = (
        str((refs / name).readlink()) if (refs / name).is_symlink() else (refs / name).read_text()
    )
    assert after == before
    problem = link_problem(project, 3, run_dir, T0, "success")
    assert problem is not None and not problem.repairable
    assert "left alone" in problem.detail


def test_experiment_refs_that_is_a_symlink_is_not_followed(tmp_path: Path) -> None:
    """A symlinked experiment_refs is refused: nothing is written where it points."""
    project, run_dir = tmp_path / "project", _run_dir(tmp_path / "result", 1)
    project.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "experiment_refs").symlink_to(outside)
    with pytest.raises(ProjectLinkError, match="symbolic link; not followed"):
        link_run(project, 1, run_dir, T0, "running")
    assert list(outside.iterdir()) == []
    assert find_link(project, 1, run_dir) is None
    problem = link_problem(project, 1, run_dir, T0, "running")
    assert problem is not None and (problem.kind, problem.repairable) == ("missing-link", False)


def test_older_layout_links_are_read_moved_and_removed_only_when_this_runs(
    tmp_path: Path,
) -> None:
    """experiment_refs/<id> of earlier versions counts while it points at this run's folder."""
    project, run_dir = tmp_path / "project", _run_dir(tmp_path / "result", 5)
    refs = project / "experiment_refs"
    refs.mkdir(parents=True)
    (refs / "5").symlink_to(run_dir.absolute())
    found = find_link(project, 5, run_dir)
    assert found is not None and found.path == refs / "5"
    assert link_problem(project, 5, run_dir, T0, "success") is None
    assert [run_id for run_id, _ in links_of_root(project, tmp_path / "result")] == [5]
    other_root = _run_dir(tmp_path / "other" / "result", 5)
    assert find_link(project, 5, other_root) is None
    assert unlink_run(project, 5, other_root) is False
    assert (refs / "5").is_symlink()
    made = link_run(project, 5, run_dir, T0, "success")  # moves it to the root's folder
    assert made.path == _refs(project, tmp_path / "result") / "5"
    assert not (refs / "5").is_symlink()


@pytest.mark.usefixtures("no_symlinks")
def test_older_layout_text_link_is_refreshed_in_place(tmp_path: Path) -> None:
    """A text link of the older layout naming this run's folder gets the new status."""
    project, run_dir = tmp_path / "project", tmp_path / "result" / "2"
    refs = project / "experiment_refs"
    refs.mkdir(parents=True)
    (refs / "2.txt").write_text(f"{run_dir}\ncreated_at: {T0}\nstatus: running\n")
    problem = link_problem(project, 2, run_dir, T0, "success")
    assert problem is not None and (problem.kind, problem.repairable) == ("stale-link", True)
    refreshed = refresh_link(project, 2, run_dir, T0, "success")
    assert refreshed is not None and refreshed.path == refs / "2.txt"
    assert (refs / "2.txt").read_text().splitlines()[-1] == "status: success"
    assert link_problem(project, 2, run_dir, T0, "success") is None


def test_link_problems_missing_and_overwritten_older_link(tmp_path: Path) -> None:
    """No link is missing-link; an older-layout link to another root's run is stale-link."""
    project, run_dir = tmp_path / "project", _run_dir(tmp_path / "result", 7)
    project.mkdir()
    problem = link_problem(project, 7, run_dir, T0, "success")
    assert problem is not None and (problem.kind, problem.repairable) == ("missing-link", True)
    other = _run_dir(tmp_path / "other" / "result", 7)
    (project / "experiment_refs").mkdir()
    (project / "experiment_refs" / "7").symlink_to(other.absolute())
    problem = link_problem(project, 7, run_dir, T0, "success")
    assert problem is not None and (problem.kind, problem.repairable) == ("stale-link", True)
    link_run(project, 7, run_dir, T0, "success")
    assert link_problem(project, 7, run_dir, T0, "success") is None
    assert (project / "experiment_refs" / "7").resolve() == other.resolve()  # not ours: kept
    assert link_problem(tmp_path / "no-such-project", 7, run_dir, T0, "success") is None


def test_links_of_root_lists_only_this_roots_links(tmp_path: Path) -> None:
    """links_of_root finds the root's folder's entries and older links into the root."""
    project = tmp_path / "project"
    project.mkdir()
    mine, theirs = tmp_path / "mine" / "result", tmp_path / "theirs" / "result"
    link_run(project, 1, _run_dir(mine, 1), T0, "success")
    link_run(project, 1, _run_dir(theirs, 1), T0, "success")
    link_run(project, 2, _run_dir(theirs, 2), T0, "success")
    (_refs(project, mine) / "notes.md").write_text("not a link\n")
    assert [run_id for run_id, _ in links_of_root(project, mine)] == [1]
    assert [run_id for run_id, _ in links_of_root(project, theirs)] == [1, 2]
    assert links_of_root(tmp_path / "nowhere", mine) == []
