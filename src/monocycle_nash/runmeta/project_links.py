"""References from an analysis project folder to run folders.

A run attached to a project gets ``<project_path>/experiment_refs/<run_id>``: a
symbolic link to the absolute run folder where the system allows one (NTFS symlinks on
Windows need a privilege), otherwise a text file ``experiment_refs/<run_id>.txt``::

    /abs/path/to/result/42
    created_at: 2026-02-14T19:30:12+09:00
    status: success

The first line is the folder, so ``cd "$(head -n1 experiment_refs/42.txt)"`` works. The
text file is rewritten when the run's status changes; a symlink needs no refresh. The
project folder itself is never created: a missing one is an error for the caller to
report (the service turns it into a warning, never a failed run).
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from monocycle_nash.runmeta.errors import ProjectLinkError
from monocycle_nash.runmeta.models import LinkKind

__all__ = [
    "REFS_DIR",
    "ProjectLink",
    "find_link",
    "link_run",
    "refresh_link",
    "unlink_run",
]

REFS_DIR: Final = "experiment_refs"
"""Folder inside a project that holds the references to runs."""


@dataclass(frozen=True, slots=True)
class ProjectLink:
    """A reference from a project to a run folder: its kind and its path."""

    kind: LinkKind
    path: Path


def _paths(project_path: str | Path, run_id: int) -> tuple[Path, Path, Path]:
    refs = Path(project_path) / REFS_DIR
    return refs, refs / str(run_id), refs / f"{run_id}.txt"


def _text(run_dir: Path, created_at: str, status: str) -> str:
    return f"{run_dir}\ncreated_at: {created_at}\nstatus: {status}\n"


def _write_text(path: Path, content: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(content, encoding="utf-8")
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _remove(path: Path) -> bool:
    """Remove a symlink or a file (never a real folder); True when something went."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
            return True
    except FileNotFoundError:
        pass
    return False


def link_run(
    project_path: str | Path, run_id: int, run_dir: str | Path, created_at: str, status: str
) -> ProjectLink:
    """Make ``experiment_refs/<run_id>`` point at ``run_dir`` (symlink, else text file).

    ``run_dir`` is made absolute. An existing reference for the same run id is
    replaced. Raises :class:`ProjectLinkError` when the project folder is missing or
    neither kind of reference can be written.
    """
    project = Path(project_path)
    if not project.is_dir():
        raise ProjectLinkError(project, "the project folder does not exist")
    refs, link, text = _paths(project, run_id)
    target = Path(run_dir).absolute()
    try:
        refs.mkdir(exist_ok=True)
    except OSError as err:
        raise ProjectLinkError(refs, err.strerror or str(err)) from err
    temp = refs / f".{run_id}.{os.getpid()}.tmp"
    try:
        temp.symlink_to(target, target_is_directory=True)
        temp.replace(link)
    except (OSError, NotImplementedError):
        try:
            temp.unlink(missing_ok=True)
            _write_text(text, _text(target, created_at, status))
            _remove(link)
        except OSError as err:
            raise ProjectLinkError(refs, err.strerror or str(err)) from err
        return ProjectLink("text", text)
    with suppress(OSError):  # a stale text file next to a fresh symlink is harmless
        _remove(text)
    return ProjectLink("symlink", link)


def find_link(project_path: str | Path, run_id: int) -> ProjectLink | None:
    """Return the project's reference to the run, or ``None`` when there is none."""
    _, link, text = _paths(project_path, run_id)
    if link.is_symlink():
        return ProjectLink("symlink", link)
    if text.is_file():
        return ProjectLink("text", text)
    return None


def refresh_link(
    project_path: str | Path, run_id: int, run_dir: str | Path, created_at: str, status: str
) -> ProjectLink | None:
    """Bring an existing reference up to date with the run's status.

    A text reference is rewritten; a symlink is left as it is; with no reference,
    nothing is created and ``None`` is returned. Raises :class:`ProjectLinkError` when
    the text file cannot be written.
    """
    found = find_link(project_path, run_id)
    if found is None or found.kind == "symlink":
        return found
    try:
        _write_text(found.path, _text(Path(run_dir).absolute(), created_at, status))
    except OSError as err:
        raise ProjectLinkError(found.path, err.strerror or str(err)) from err
    return found


def unlink_run(project_path: str | Path, run_id: int) -> bool:
    """Remove the project's reference to the run (both kinds); True when one was removed.

    A missing project folder or reference is not an error. Raises
    :class:`ProjectLinkError` when a reference exists but cannot be removed.
    """
    _, link, text = _paths(project_path, run_id)
    removed = False
    for path in (link, text):
        try:
            removed = _remove(path) or removed
        except OSError as err:
            raise ProjectLinkError(path, err.strerror or str(err)) from err
    return removed
