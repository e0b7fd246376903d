"""RunSessionService: the start and end of one recorded run, database first.

Start: INSERT the run as ``running`` and commit (the id is final), create
``result/<run_id>/`` with ``input/ output/ logs/``, freeze the input, link the run from
its project, write meta.json. If any step after the INSERT fails, the run is recorded
as ``fail`` (``killed`` for an interrupt) with the reason, never deleted and never left
``running``, and the error is re-raised: the attempt is part of the history.

End: UPDATE the row (status, ended_at, updated_at), refresh a text project link, then
write meta.json from the returned row, so meta.json always agrees with the database.

Files and database are not one transaction. When the database cannot record the end,
meta.json still gets the intended status with a warning, the failure goes to
``logs/stderr.log`` and :class:`DatabaseWriteError` says which ``update-run`` repairs it.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from monocycle_nash.runmeta.artifact_store import STDERR_LOG, STDOUT_LOG, RunArtifactStore
from monocycle_nash.runmeta.clock import Clock, JstClock
from monocycle_nash.runmeta.db import DEFAULT_BUSY_TIMEOUT, SQLiteConnectionFactory, transaction
from monocycle_nash.runmeta.deletion import DeletedRun, delete_run
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    DatabaseWriteError,
    ForeignMetaError,
    MetaCorruptError,
    MetaNotFoundError,
    ProjectLinkError,
    RunDirNotFoundError,
    RunMetaError,
    RunStatusChangedError,
    RunTerminated,
)
from monocycle_nash.runmeta.git_probe import GitCommitProbe
from monocycle_nash.runmeta.meta import build_meta, describes_another_run, sync_row
from monocycle_nash.runmeta.models import (
    InputSnapshotInfo,
    LinkKind,
    ProcessIdentity,
    ProjectRecord,
    RunContext,
    RunRecord,
    RunStatus,
)
from monocycle_nash.runmeta.output_capture import CapturedOutput, capture_output
from monocycle_nash.runmeta.process_identity import current_process
from monocycle_nash.runmeta.project_links import link_run, refresh_link, unlink_run
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
from monocycle_nash.runmeta.signals import sigterm_raises

__all__ = ["DEFAULT_DB_PATH", "DEFAULT_RESULT_ROOT", "RunSessionService"]

DEFAULT_DB_PATH: Final = Path(".runmeta") / "run_history.db"
"""Database location relative to the project root."""
DEFAULT_RESULT_ROOT: Final = Path("result")
"""Run folders' parent relative to the project root."""


def _describe(err: BaseException) -> str:
    """One line saying why a run ended badly."""
    if isinstance(err, RunTerminated):
        return f"terminated by signal {err.signum} (SIGTERM)"
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (KeyboardInterrupt)"
    if isinstance(err, RunMetaError):
        return str(err)
    text = str(err)
    first_line = text.splitlines()[0] if text else ""
    return f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__


def _status_for(err: BaseException) -> RunStatus:
    return "killed" if isinstance(err, KeyboardInterrupt | RunTerminated) else "fail"


def _warning_line(run_id: int, message: str) -> str:
    return f"runmeta: warning: run {run_id}: {message}\n"


def _print_warnings(run_id: int, warnings: Sequence[str]) -> None:
    for message in warnings:
        sys.stderr.write(_warning_line(run_id, message))


def _traceback_text(err: BaseException) -> str:
    import traceback  # noqa: PLC0415 - only a failing run pays for it

    return "".join(traceback.format_exception(err))


class RunSessionService:
    """Records runs: ``start``/``finish_*``, ``record()``, and edits that keep files in step.

    Open it with :meth:`open`; it owns its connection and closes it on :meth:`close`
    or at the end of a ``with`` block. Attributes: ``connection``, ``runs``,
    ``projects``, ``store``, ``clock``, ``root``.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        store: RunArtifactStore,
        *,
        clock: Clock | None = None,
        root: str | Path = ".",
        git_probe: Callable[[], str | None] | None = None,
        process_identity: Callable[[], ProcessIdentity] = current_process,
    ) -> None:
        self.connection = connection
        self.store = store
        self.clock: Clock = clock if clock is not None else JstClock()
        self.root = Path(root).absolute()
        self.runs = RunsRepository(connection)
        self.projects = ProjectsRepository(connection)
        self._git_probe = git_probe if git_probe is not None else GitCommitProbe(self.root)
        self._process_identity = process_identity

    @classmethod
    def open(
        cls,
        root: str | Path = ".",
        *,
        db_path: str | Path | None = None,
        result_root: str | Path | None = None,
        clock: Clock | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        git_probe: Callable[[], str | None] | None = None,
        process_identity: Callable[[], ProcessIdentity] = current_process,
    ) -> RunSessionService:
        """Open the service of the project at ``root``.

        Defaults: database ``root/.runmeta/run_history.db``, run folders
        ``root/result``; explicit relative paths are relative to the current folder.
        The git commit recorded is the one checked out at ``root``.
        """
        base = Path(root).absolute()
        database = Path(db_path) if db_path is not None else base / DEFAULT_DB_PATH
        results = Path(result_root) if result_root is not None else base / DEFAULT_RESULT_ROOT
        connection = SQLiteConnectionFactory(database, busy_timeout=busy_timeout).connect()
        return cls(
            connection,
            RunArtifactStore(results),
            clock=clock,
            root=base,
            git_probe=git_probe,
            process_identity=process_identity,
        )

    def close(self) -> None:
        """Close the database connection."""
        self.connection.close()

    def __enter__(self) -> RunSessionService:
        """Return the service itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the connection."""
        self.close()

    # -- start -----------------------------------------------------------------------

    def start(
        self,
        command: str,
        project_id: str | None = None,
        note: str = "",
        *,
        input_path: str | Path | None = None,
        merged_input: bytes | str | None = None,
    ) -> RunContext:
        """Record a new ``running`` run, create its folder and freeze its input.

        ``merged_input`` is the resolved input of a split configuration (stored as
        ``input/merged_input.toml``). Raises :class:`ProjectNotFoundError` (nothing
        recorded) for an unknown project; any failure after the INSERT is recorded
        as ``fail`` and re-raised.
        """
        now = self.clock.timestamp()
        git_commit = self._git_probe()
        process = self._process_identity()
        project: ProjectRecord | None = None
        with transaction(self.connection):
            if project_id is not None:
                project = self.projects.get(project_id)
            run_id = self.runs.create_running(command, git_commit, note, project_id, now, now, now)
        record = RunRecord(
            run_id=run_id,
            created_at=now,
            started_at=now,
            ended_at=None,
            status="running",
            command=command,
            git_commit=git_commit,
            note=note,
            project_id=project_id,
            updated_at=now,
            project_path=None if project is None else project.project_path,
        )
        input_info: InputSnapshotInfo | None = None
        warnings: list[str] = []
        link_kind: LinkKind | None = None
        run_dir: Path | None = None
        try:
            run_dir = self.store.create_run_dir(run_id)
            if input_path is not None or merged_input is not None:
                merged = merged_input.encode() if isinstance(merged_input, str) else merged_input
                input_info = self.store.save_input_snapshot(run_id, input_path, merged)
            if record.project_path is not None:
                link_kind = self._link(record, record.project_path, warnings)
            self.store.write_initial_meta(
                run_id,
                build_meta(record, input_info=input_info, process=process, warnings=warnings),
            )
        except BaseException as err:
            failed = self._context(
                record,
                process=process,
                input_info=input_info,
                warnings=warnings,
                link_kind=link_kind,
            )
            self._record_failed_start(failed, err, own_folder=run_dir is not None)
            if isinstance(err, RunMetaError):
                err.failed_run_id = run_id
            raise
        return self._context(
            record,
            process=process,
            input_info=input_info,
            warnings=warnings,
            link_kind=link_kind,
            run_dir=run_dir,
        )

    def _context(
        self,
        record: RunRecord,
        *,
        process: ProcessIdentity,
        input_info: InputSnapshotInfo | None,
        warnings: list[str],
        link_kind: LinkKind | None,
        run_dir: Path | None = None,
    ) -> RunContext:
        return RunContext(
            run_id=record.run_id,
            run_dir=run_dir if run_dir is not None else self.store.run_dir(record.run_id),
            command=record.command,
            created_at=record.created_at,
            project_id=record.project_id,
            project_path=record.project_path,
            note=record.note,
            git_commit=record.git_commit,
            process=process,
            input=input_info,
            warnings=tuple(warnings),
            link_kind=link_kind,
        )

    def _link(self, record: RunRecord, project_path: str, warnings: list[str]) -> LinkKind | None:
        """Link the run from its project; a failure becomes a warning."""
        try:
            link = link_run(
                project_path,
                record.run_id,
                self.store.run_dir(record.run_id),
                record.created_at,
                record.status,
            )
        except ProjectLinkError as err:
            self._warn(record.run_id, f"project link not made: {err}", warnings)
            return None
        return link.kind

    def _warn(self, run_id: int, message: str, warnings: list[str]) -> None:
        """Keep a warning for meta.json and show it on stderr and in the stderr log."""
        warnings.append(message)
        line = _warning_line(run_id, message)
        with suppress(RunMetaError):  # an unwritable folder: meta.json and stderr still say it
            self.store.append_log(run_id, line)
        sys.stderr.write(line)

    def _record_failed_start(
        self, ctx: RunContext, err: BaseException, *, own_folder: bool
    ) -> None:
        """Mark a run whose start failed after the INSERT; notes go on ``err``."""
        status = _status_for(err)
        reason = f"start failed: {_describe(err)}"
        now = self.clock.timestamp()
        try:
            with transaction(self.connection):
                record = self.runs.finish(ctx.run_id, status, now, now)
        except Exception as db_err:  # reported on the original error
            err.add_note(
                f"runmeta: run {ctx.run_id} could not be marked {status}: {db_err}; repair"
                f" with: runmeta update-run --run-id {ctx.run_id} --status {status}"
            )
            return
        if not own_folder:
            return  # e.g. the folder belonged to something else: never write into it
        try:
            self.store.append_log(ctx.run_id, f"runmeta: run {ctx.run_id} {status}: {reason}\n")
            if ctx.link_kind == "text" and record.project_path is not None:
                refresh_link(record.project_path, ctx.run_id, ctx.run_dir, now, status)
            self._write_end_meta(ctx, record, reason, ctx.warnings)
        except RunMetaError as file_err:
            err.add_note(f"runmeta: run {ctx.run_id} is recorded {status}, but: {file_err}")

    def _write_end_meta(
        self, ctx: RunContext, record: RunRecord, reason: str | None, warnings: Sequence[str]
    ) -> None:
        """Write the meta.json of an ended run: ``record`` plus the context's file-only facts."""
        meta = build_meta(
            record,
            input_info=ctx.input,
            process=ctx.process,
            reason=reason,
            warnings=warnings,
            extra=ctx.extra,
        )
        self.store.write_final_meta(ctx.run_id, meta)

    # -- finish ----------------------------------------------------------------------

    def finish_success(self, ctx: RunContext) -> RunRecord:
        """Record that the run ended normally; return the final row."""
        return self._finish(ctx, "success", None)

    def finish_fail(self, ctx: RunContext, reason: str | None = None) -> RunRecord:
        """Record that the run failed (``reason`` goes to meta.json); return the final row."""
        return self._finish(ctx, "fail", reason)

    def finish_killed(self, ctx: RunContext, reason: str | None = None) -> RunRecord:
        """Record that the run was interrupted or terminated; return the final row."""
        return self._finish(ctx, "killed", reason)

    def _finish(self, ctx: RunContext, status: RunStatus, reason: str | None) -> RunRecord:
        now = self.clock.timestamp()
        warnings = list(ctx.warnings)
        try:
            with transaction(self.connection):
                record = self.runs.finish(ctx.run_id, status, now, now)
        except sqlite3.Error as err:
            self._finish_without_database(
                ctx, status, reason=reason, now=now, err=err, warnings=warnings
            )
            raise DatabaseWriteError(
                ctx.run_id,
                str(err),
                repair=f"runmeta update-run --run-id {ctx.run_id} --status {status}",
            ) from err
        if ctx.link_kind == "text" and record.project_path is not None:
            try:
                refresh_link(record.project_path, ctx.run_id, ctx.run_dir, ctx.created_at, status)
            except ProjectLinkError as err:
                self._warn(ctx.run_id, f"project link not refreshed: {err}", warnings)
        try:
            self._write_end_meta(ctx, record, reason, warnings)
        except ArtifactWriteError as err:
            if status == "success":
                # A run whose record could not be completed did not succeed.
                with suppress(sqlite3.Error), transaction(self.connection):
                    self.runs.finish(ctx.run_id, "fail", now, now)
                err.add_note(f"runmeta: run {ctx.run_id} is recorded as fail instead")
            raise
        return record

    def _finish_without_database(
        self,
        ctx: RunContext,
        status: RunStatus,
        *,
        reason: str | None,
        now: str,
        err: sqlite3.Error,
        warnings: list[str],
    ) -> None:
        """The row could not be updated: say so in the logs and in meta.json."""
        self._warn(ctx.run_id, f"database not updated to {status}: {err}", warnings)
        intended = RunRecord(
            run_id=ctx.run_id,
            created_at=ctx.created_at,
            started_at=ctx.created_at,
            ended_at=now,
            status=status,
            command=ctx.command,
            git_commit=ctx.git_commit,
            note=ctx.note,
            project_id=ctx.project_id,
            updated_at=now,
            project_path=ctx.project_path,
        )
        try:
            self._write_end_meta(ctx, intended, reason, warnings)
        except RunMetaError as file_err:
            err.add_note(f"runmeta: {file_err}")

    # -- record() --------------------------------------------------------------------

    @contextmanager
    def record(
        self,
        command: str,
        project_id: str | None = None,
        note: str = "",
        *,
        input_path: str | Path | None = None,
        merged_input: bytes | str | None = None,
        handle_sigterm: bool = True,
    ) -> Iterator[RunContext]:
        """Start a run, yield its context, and record how the block ended.

        Normal exit (or ``sys.exit(0)``): ``success``, unless writing a log failed
        (disk full): then ``fail``, and the :class:`ArtifactWriteError` is raised.
        ``KeyboardInterrupt`` or :class:`RunTerminated`: ``killed``. Any other
        exception: ``fail``, with the traceback appended to ``logs/stderr.log``. The
        exception is re-raised. While inside, ``sys.stdout``/``sys.stderr`` are also
        written to ``logs/stdout.log`` and ``logs/stderr.log``. With ``handle_sigterm``
        (the default, main thread only) SIGTERM raises :class:`RunTerminated` inside
        the block.
        """
        with ExitStack() as stack:
            if handle_sigterm:
                stack.enter_context(sigterm_raises())
            ctx = self.start(
                command, project_id, note, input_path=input_path, merged_input=merged_input
            )
            captured: CapturedOutput | None = None
            try:
                with capture_output(
                    ctx.logs_dir / STDOUT_LOG, ctx.logs_dir / STDERR_LOG
                ) as captured:
                    yield ctx
            except SystemExit as err:
                if err.code in (None, 0):
                    self._finish_normal_end(ctx, captured)
                else:
                    self._end_after_error(ctx, "fail", err, captured)
                raise
            except BaseException as err:
                self._end_after_error(ctx, _status_for(err), err, captured)
                raise
            self._finish_normal_end(ctx, captured)

    def _finish_normal_end(self, ctx: RunContext, captured: CapturedOutput | None) -> None:
        """Record ``success``, or ``fail`` and raise when a log could not be written."""
        if captured is None or not captured.failures:
            self.finish_success(ctx)
            return
        failure = captured.failures[0]
        self._end_after_error(ctx, "fail", failure)
        raise failure

    def _end_after_error(
        self,
        ctx: RunContext,
        status: RunStatus,
        err: BaseException,
        captured: CapturedOutput | None = None,
    ) -> None:
        if captured is not None:
            for failure in captured.failures:
                err.add_note(f"runmeta: {failure}")
        reason = _describe(err)
        if status == "fail":
            log_text = _traceback_text(err)
        else:
            log_text = f"runmeta: run {ctx.run_id} killed: {reason}\n"
        try:
            self.store.append_log(ctx.run_id, log_text)
        except RunMetaError as log_err:
            err.add_note(f"runmeta: {log_err}")
        try:
            self._finish(ctx, status, reason)
        except Exception as finish_err:  # reported on the original error
            err.add_note(f"runmeta: could not record the end of run {ctx.run_id}: {finish_err}")

    # -- edits that keep meta.json and links in step -----------------------------------

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
        _print_warnings(run_id, warnings)
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

    def delete_run(
        self, run_id: int, *, with_files: bool = False, force: bool = False
    ) -> DeletedRun:
        """Delete a run's row; with ``with_files`` its project link and folder first.

        See :func:`~monocycle_nash.runmeta.deletion.delete_run` (the same code as
        ``runmeta delete-run``): a ``running`` run needs ``force``; files that cannot
        be removed raise :class:`RunFilesLeftError` and keep the row.
        """
        return delete_run(self.connection, self.store, run_id, with_files=with_files, force=force)

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
        _print_warnings(run_id, warnings)
        if not self.store.run_dir(run_id).is_dir():
            return
        try:
            self._write_synced_meta(
                record if record is not None else self.runs.get(run_id), warnings=warnings
            )
        except RunMetaError as err:
            _print_warnings(run_id, [str(err)])
