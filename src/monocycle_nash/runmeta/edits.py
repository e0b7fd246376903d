"""Edits of the run history that keep meta.json and project links in step with the rows.

:class:`RunEditor` (``RunSessionService.edits``) updates and deletes runs and adds,
changes and deletes projects; every change goes to the database first, then to the
run's meta.json and its project link. Problems with files become warnings (stderr and
meta.json), never a half-made change of the row.

Project links
-------------

References from an analysis project folder to run folders.

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

Deleting a run
--------------

Deleting a run: files first, then the row, so that a failure can simply be retried.

With ``with_files`` the project's reference to the run and the run folder are removed
before the database row. If removing a file fails, the row stays and the error says
what is left, so running the same deletion again finishes the job; the reverse order
would leave files that no row points to. Without ``with_files`` only the row goes:
the folder stays, and so does the project's reference to it (it still points at
something real). A run whose status is ``running`` is deleted only with ``force`` (its
process may still be writing). A folder whose meta.json describes another run (left by
an older database, which is why this run's start failed) is never removed.
``runmeta delete-run`` calls :meth:`RunEditor.delete_run` too.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from monocycle_nash.runmeta.artifact_store import (
    RunArtifactStore,
    describes_another_run,
    sync_row,
    write_file_atomically,
)
from monocycle_nash.runmeta.clock import Clock
from monocycle_nash.runmeta.db import transaction
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    ForeignMetaError,
    MetaCorruptError,
    MetaNotFoundError,
    ProjectLinkError,
    RunDirNotFoundError,
    RunFilesLeftError,
    RunMetaError,
    RunStatusChangedError,
    RunStillRunningError,
)
from monocycle_nash.runmeta.models import LinkKind, ProjectRecord, RunRecord, RunStatus
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
from monocycle_nash.text import plural

__all__ = [
    "REFS_DIR",
    "DeletedRun",
    "ProjectLink",
    "RunEditor",
    "find_link",
    "link_run",
    "print_warnings",
    "refresh_link",
    "unlink_run",
    "warning_line",
]

# -- project links --------------------

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
            write_file_atomically(text, _text(target, created_at, status))
            _remove(link)
        except ArtifactWriteError as err:
            raise ProjectLinkError(refs, err.reason) from err
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
        write_file_atomically(found.path, _text(Path(run_dir).absolute(), created_at, status))
    except ArtifactWriteError as err:
        raise ProjectLinkError(found.path, err.reason) from err
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


# -- warnings --------------------


def warning_line(run_id: int, message: str) -> str:
    """The stderr line of a warning about run ``run_id``."""
    return f"runmeta: warning: run {run_id}: {message}\n"


def print_warnings(run_id: int, warnings: Sequence[str]) -> None:
    """Write each warning about run ``run_id`` to stderr."""
    for message in warnings:
        sys.stderr.write(warning_line(run_id, message))


# -- deleting a run --------------------


@dataclass(frozen=True, slots=True)
class DeletedRun:
    """A deleted run: its last row, and the files removed, in words."""

    record: RunRecord
    removed: tuple[str, ...]


def _count_files(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def _refuse_another_runs_folder(store: RunArtifactStore, run: RunRecord) -> None:
    """Raise :class:`RunFilesLeftError` when the folder's meta.json is another run's."""
    try:
        meta = store.read_meta(run.run_id)
    except (MetaNotFoundError, MetaCorruptError):
        return  # nothing says the folder belongs to another run
    if describes_another_run(meta, run):
        reason = f"{store.meta_path(run.run_id)} describes another run (created_at "
        reason += f"{meta.get('created_at')!r}, not {run.created_at}), so it is not removed"
        raise RunFilesLeftError(run.run_id, reason, [f"the run folder {store.run_dir(run.run_id)}"])


class RunEditor:
    """Edits of the history that keep meta.json and project links in step with the rows.

    Update and delete runs, add, change and delete projects. It works on the service's
    connection and result folder (``RunSessionService.edits``) or on its own.
    """

    def __init__(
        self, connection: sqlite3.Connection, store: RunArtifactStore, clock: Clock
    ) -> None:
        self.connection = connection
        self.store = store
        self.clock = clock
        self.runs = RunsRepository(connection)
        self.projects = ProjectsRepository(connection)

    def update_run(
        self,
        run_id: int,
        *,
        status: str | None = None,
        note: str | None = None,
        project_id: str | None = None,
        clear_project: bool = False,
        reason: str | None = None,
        expected_status: RunStatus | None = None,
    ) -> RunRecord:
        """Change a run's row, then its meta.json and project links; return the new row.

        ``status`` must be final (``success``, ``fail``, ``killed``); ``reason`` is
        stored in meta.json. A run whose folder is gone is updated in the database only
        (and gets no link that would point at nothing). Link problems become warnings,
        in meta.json and on stderr. With ``expected_status``, the row is
        changed only if it still has that status when the write lock is held (else
        :class:`RunStatusChangedError`): ``reap`` never overwrites a run that ended
        between its look and its change.
        """
        now = self.clock.timestamp()
        with transaction(self.connection):
            before = self.runs.get(run_id)
            if expected_status is not None and before.status != expected_status:
                raise RunStatusChangedError(run_id, expected_status, before.status)
            after = self.runs.update(
                run_id,
                status=status,
                note=note,
                project_id=project_id,
                clear_project=clear_project,
                updated_at=now,
            )
        warnings: list[str] = []
        run_dir = self.store.run_dir(run_id)
        has_folder = run_dir.is_dir()
        try:
            if before.project_id != after.project_id:
                if before.project_path is not None:
                    unlink_run(before.project_path, run_id)
                if after.project_path is not None and has_folder:  # never a dangling link
                    link_run(after.project_path, run_id, run_dir, after.created_at, after.status)
            elif after.project_path is not None and before.status != after.status:
                refresh_link(after.project_path, run_id, run_dir, after.created_at, after.status)
        except ProjectLinkError as err:
            warnings.append(f"project link not updated: {err}")
        if has_folder:
            try:
                self._write_synced_meta(after, reason=reason, warnings=warnings)
            except ForeignMetaError as err:  # the row changed; the folder is not this run's
                warnings.append(f"meta.json not updated: {err}")
        print_warnings(run_id, warnings)
        return after

    def sync_meta(self, run_id: int, *, warnings: Sequence[str] = ()) -> Path | None:
        """Rewrite the run's meta.json from its row, keeping every other field.

        An unreadable meta.json is kept as ``meta.json.unreadable`` (its path is
        returned, else ``None``) and a new one is built from the row. ``warnings`` are
        appended to its ``warnings`` list (e.g. that it was rebuilt). Raises
        :class:`RunNotFoundError`, :class:`RunDirNotFoundError` (the folder is not
        recreated) and :class:`ForeignMetaError` for a meta.json of another run, which
        is never overwritten.
        """
        record = self.runs.get(run_id)
        run_dir = self.store.run_dir(run_id)
        if not run_dir.is_dir():
            raise RunDirNotFoundError(run_dir)
        return self._write_synced_meta(record, warnings=warnings)

    def _write_synced_meta(
        self, record: RunRecord, *, reason: str | None = None, warnings: Sequence[str] = ()
    ) -> Path | None:
        """Write meta.json from the row; an unreadable one is set aside first (returned)."""
        kept: Path | None = None
        try:
            existing: dict[str, Any] = self.store.read_meta(record.run_id)
        except MetaNotFoundError:
            existing = {}
        except MetaCorruptError:
            existing = {}
            kept = self.store.set_aside_meta(record.run_id)
        if describes_another_run(existing, record):
            raise ForeignMetaError(self.store.meta_path(record.run_id), existing.get("created_at"))
        meta = sync_row(existing, record)
        if reason is not None:
            meta["reason"] = reason
        if kept is not None:
            meta["warnings"].append(f"the unreadable meta.json was kept as {kept.name}")
        meta["warnings"].extend(warnings)
        self.store.write_meta(record.run_id, meta)
        return kept

    def add_project(
        self, project_id: str, project_path: str | Path, note: str = ""
    ) -> ProjectRecord:
        """Register an analysis project (its path made absolute) and return it."""
        with transaction(self.connection):
            return self.projects.add(project_id, project_path, self.clock.timestamp(), note)

    def update_project(
        self,
        project_id: str,
        *,
        project_path: str | Path | None = None,
        note: str | None = None,
    ) -> ProjectRecord:
        """Change a project; with a path, its runs' references and meta.json follow.

        With ``project_path`` every run of the project whose folder exists gets its
        reference in the (new) folder's ``experiment_refs``, made again when missing,
        so repeating the command repairs references. When the path changed, the run's
        reference in the old folder is removed once the new one exists; one that
        cannot be made is a warning (stderr and meta.json) and the old one is kept.
        """
        with transaction(self.connection):
            before = self.projects.get(project_id)
            project = self.projects.update(project_id, project_path=project_path, note=note)
            runs = self.runs.list_runs(project_id=project_id) if project_path is not None else []
        for run in reversed(runs):  # oldest first
            if self.store.run_dir(run.run_id).is_dir():
                warnings = self._move_reference(run, before.project_path)
                self._sync_quietly(run.run_id, warnings, record=run)
        return project

    def _move_reference(self, run: RunRecord, old_path: str) -> list[str]:
        """Link ``run`` from its project's folder, then unlink it from ``old_path``."""
        if run.project_path is None:  # pragma: no cover - the run was selected by project
            return []
        try:
            link_run(
                run.project_path,
                run.run_id,
                self.store.run_dir(run.run_id),
                run.created_at,
                run.status,
            )
        except ProjectLinkError as err:
            kept = "" if old_path == run.project_path else f" (the one in {old_path} is kept)"
            return [f"project link not made: {err}{kept}"]
        if old_path == run.project_path:
            return []
        try:
            unlink_run(old_path, run.run_id)
        except ProjectLinkError as err:
            return [f"old project link not removed: {err}"]
        return []

    def delete_project(self, project_id: str) -> list[int]:
        """Delete a project; its runs stay, detached, with meta.json updated.

        Returns the ids of the runs that were attached (oldest first); their
        ``updated_at`` is set. As with a run detached by :meth:`update_run`, each run's
        reference in the project's ``experiment_refs`` is removed; the project folder
        and anything else in it are left alone.
        """
        now = self.clock.timestamp()
        with transaction(self.connection):
            project = self.projects.get(project_id)
            run_ids = self.runs.detach_project(project_id, now)
            self.projects.delete(project_id)
        for run_id in run_ids:
            warnings: list[str] = []
            try:
                unlink_run(project.project_path, run_id)
            except ProjectLinkError as err:
                warnings.append(f"project link not removed: {err}")
            self._sync_quietly(run_id, warnings)
        return run_ids

    def _sync_quietly(
        self, run_id: int, warnings: Sequence[str] = (), *, record: RunRecord | None = None
    ) -> None:
        """Sync meta.json (with ``warnings``) if the folder exists; report problems on stderr.

        ``record`` is the run's current row when the caller has it; else it is read.
        """
        print_warnings(run_id, warnings)
        if not self.store.run_dir(run_id).is_dir():
            return
        try:
            self._write_synced_meta(
                record if record is not None else self.runs.get(run_id), warnings=warnings
            )
        except RunMetaError as err:
            print_warnings(run_id, [str(err)])

    def delete_run(
        self, run_id: int, *, with_files: bool = False, force: bool = False
    ) -> DeletedRun:
        """Delete a run (and with ``with_files`` its link and folder, first).

        ``removed`` lists the removed files in words (``"the link in /analysis"``,
        ``"result/42"``). Raises :class:`RunNotFoundError`, :class:`RunStillRunningError`
        without ``force``, and :class:`RunFilesLeftError` when a file cannot be removed
        (then the row is not deleted).
        """
        store = self.store
        run = self.runs.get(run_id)
        if run.status == "running" and not force:
            raise RunStillRunningError(run_id)
        removed: list[str] = []
        if with_files:
            run_dir = store.run_dir(run_id)
            _refuse_another_runs_folder(store, run)
            if run.project_path is not None:
                try:
                    if unlink_run(run.project_path, run_id):
                        removed.append(f"the link in {run.project_path}")
                except ProjectLinkError as err:
                    left = [f"the project link {err.path}"]
                    if run_dir.exists():
                        left.append(f"the run folder {run_dir}")
                    raise RunFilesLeftError(
                        run_id, f"cannot remove {err.path}: {err.reason}", left
                    ) from err
            try:
                if store.delete_run_dir(run_id):
                    removed.append(str(run_dir))
            except ArtifactWriteError as err:
                count = _count_files(run_dir)
                left = [f"{run_dir} ({plural(count, 'file')})"]
                raise RunFilesLeftError(
                    run_id, f"cannot remove {err.path}: {err.reason}", left
                ) from err
        with transaction(self.connection):
            self.runs.delete(run_id)
        return DeletedRun(run, tuple(removed))
