"""Tests of the references from analysis projects to run folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monocycle_nash.runmeta.edits import find_link, link_run, refresh_link, unlink_run
from monocycle_nash.runmeta.errors import ProjectLinkError

T0 = "2026-02-14T19:30:12+09:00"


def _refuse_symlink(*args: object, **kwargs: object) -> None:
    raise OSError(1314, "A required privilege is not held by the client")


@pytest.fixture
def no_symlinks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make os.symlink fail as it does on Windows without the privilege."""
    monkeypatch.setattr(os, "symlink", _refuse_symlink)


def test_symlink_points_at_the_absolute_run_folder(tmp_path: Path) -> None:
    """experiment_refs/<id> is a symlink to the absolute run folder."""
    project, run_dir = tmp_path / "project", tmp_path / "result" / "4"
    project.mkdir()
    run_dir.mkdir(parents=True)
    link = link_run(project, 4, run_dir, T0, "running")
    assert link.kind == "symlink"
    assert link.path == project / "experiment_refs" / "4"
    assert link.path.readlink() == run_dir.absolute()
    assert link.path.resolve() == run_dir.resolve()
    assert find_link(project, 4) == link


@pytest.mark.usefixtures("no_symlinks")
def test_text_file_when_symlinks_fail(tmp_path: Path) -> None:
    """Without symlinks, <id>.txt holds the path, creation time and status."""
    project = tmp_path / "project"
    project.mkdir()
    link = link_run(project, 4, tmp_path / "result" / "4", T0, "running")
    assert link.kind == "text"
    assert link.path == project / "experiment_refs" / "4.txt"
    assert link.path.read_text().splitlines() == [
        str(tmp_path / "result" / "4"),
        f"created_at: {T0}",
        "status: running",
    ]
    refreshed = refresh_link(project, 4, tmp_path / "result" / "4", T0, "success")
    assert refreshed == link
    assert link.path.read_text().splitlines()[-1] == "status: success"
    assert sorted(p.name for p in link.path.parent.iterdir()) == ["4.txt"]


def test_refresh_without_reference_creates_nothing(tmp_path: Path) -> None:
    """refresh_link does not invent a reference that was never made."""
    (tmp_path / "project").mkdir()
    assert refresh_link(tmp_path / "project", 1, tmp_path, T0, "fail") is None
    assert not (tmp_path / "project" / "experiment_refs").exists()


def test_missing_project_folder_is_an_error(tmp_path: Path) -> None:
    """The project folder is never created; its absence is a ProjectLinkError."""
    with pytest.raises(ProjectLinkError, match="does not exist"):
        link_run(tmp_path / "gone", 1, tmp_path, T0, "running")
    assert not (tmp_path / "gone").exists()


def test_unlink_removes_either_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """unlink_run removes a symlink or a text reference, never the run folder."""
    project, run_dir = tmp_path / "project", tmp_path / "result" / "1"
    project.mkdir()
    run_dir.mkdir(parents=True)
    link_run(project, 1, run_dir, T0, "success")
    assert unlink_run(project, 1) is True
    assert run_dir.is_dir()
    monkeypatch.setattr(os, "symlink", _refuse_symlink)
    link_run(project, 2, run_dir, T0, "success")
    assert unlink_run(project, 2) is True
    assert unlink_run(project, 2) is False
    assert unlink_run(tmp_path / "nowhere", 2) is False
    assert list((project / "experiment_refs").iterdir()) == []


def test_relinking_replaces_a_stale_reference(tmp_path: Path) -> None:
    """Linking the same id again points at the new folder."""
    project = tmp_path / "project"
    project.mkdir()
    old, new = tmp_path / "old" / "1", tmp_path / "new" / "1"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    link_run(project, 1, old, T0, "success")
    link = link_run(project, 1, new, T0, "running")
    assert link.path.readlink() == new
