"""``delete-run``: files first, then the row, so that a failure can simply be retried.

With ``--with-files`` the project's reference to the run and the run folder are removed
before the database row. If removing a file fails, the row stays and the error says
what is left, so running the same command again finishes the job; the reverse order
would leave files that no row points to. A run whose status is ``running`` is only
deleted with ``--force`` (its process may still be writing).

``RunSessionService.delete_run`` deletes the row first; this module keeps the order the
command line promises and does not print (``cli.py`` does).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from monocycle_nash.runmeta.artifact_store import RunArtifactStore
from monocycle_nash.runmeta.db import transaction
from monocycle_nash.runmeta.errors import ArtifactWriteError, ProjectLinkError, RunMetaError
from monocycle_nash.runmeta.models import RunRecord
from monocycle_nash.runmeta.project_links import unlink_run
from monocycle_nash.runmeta.repositories import RunsRepository

__all__ = ["RunFilesLeftError", "RunStillRunningError", "delete_run"]


class RunStillRunningError(RunMetaError):
    """The run's status is ``running``; deleting it needs ``--force``."""

    def __init__(self, run_id: int) -> None:
        """Name the run that is still running."""
        self.run_id = run_id
        super().__init__(
            f"run {run_id} is still running; nothing deleted (give --force to delete it anyway)"
        )


class RunFilesLeftError(RunMetaError):
    """Removing a run's files failed; its row is kept so that the deletion can be rerun."""

    def __init__(self, run_id: int, reason: str, left: list[str]) -> None:
        """Say why removal failed and what is still there."""
        self.run_id = run_id
        self.left = left
        super().__init__(
            f"{reason}; run {run_id} is kept in the database and {', '.join(left)} "
            "remain; fix the cause and run delete-run --with-files again"
        )


def _count_files(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def delete_run(
    connection: sqlite3.Connection,
    store: RunArtifactStore,
    run_id: int,
    *,
    with_files: bool,
    force: bool,
) -> tuple[RunRecord, list[str]]:
    """Delete a run (and with ``with_files`` its link and folder); return it and what went.

    The second value lists the removed files in words (``"the project link ..."``,
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
    return run, removed
