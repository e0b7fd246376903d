"""Deleting a run: files first, then the row, so that a failure can simply be retried.

With ``with_files`` the project's reference to the run and the run folder are removed
before the database row. If removing a file fails, the row stays and the error says
what is left, so running the same deletion again finishes the job; the reverse order
would leave files that no row points to. Without ``with_files`` only the row goes:
the folder stays, and so does the project's reference to it (it still points at
something real). A run whose status is ``running`` is deleted only with ``force`` (its
process may still be writing). A folder whose meta.json describes another run (left by
an older database, which is why this run's start failed) is never removed.
``RunSessionService.delete_run`` and ``runmeta delete-run`` both call
:func:`delete_run`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from monocycle_nash.runmeta.artifact_store import RunArtifactStore
from monocycle_nash.runmeta.db import transaction
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    MetaCorruptError,
    MetaNotFoundError,
    ProjectLinkError,
    RunFilesLeftError,
    RunStillRunningError,
)
from monocycle_nash.runmeta.meta import describes_another_run
from monocycle_nash.runmeta.models import RunRecord
from monocycle_nash.runmeta.project_links import unlink_run
from monocycle_nash.runmeta.repositories import RunsRepository

__all__ = ["DeletedRun", "delete_run"]


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


def delete_run(
    connection: sqlite3.Connection,
    store: RunArtifactStore,
    run_id: int,
    *,
    with_files: bool = False,
    force: bool = False,
) -> DeletedRun:
    """Delete a run (and with ``with_files`` its link and folder, first).

    ``removed`` lists the removed files in words (``"the link in /analysis"``,
    ``"result/42"``). Raises :class:`RunNotFoundError`, :class:`RunStillRunningError`
    without ``force``, and :class:`RunFilesLeftError` when a file cannot be removed
    (then the row is not deleted).
    """
    runs = RunsRepository(connection)
    run = runs.get(run_id)
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
            left = [f"{run_dir} ({count} file{'' if count == 1 else 's'})"]
            raise RunFilesLeftError(
                run_id, f"cannot remove {err.path}: {err.reason}", left
            ) from err
    with transaction(connection):
        runs.delete(run_id)
    return DeletedRun(run, tuple(removed))
