"""RunSessionService: the start and end of one recorded run, database first.

Start: INSERT the run as ``running`` with the process recording it (host, pid, start
time) and commit (the id is final), create ``result/<run_id>/`` with ``input/ output/
logs/``, freeze the input, link the run from its project, write meta.json (with the
run's provenance: versions, platform, git commit and dirtiness, command line). SIGTERM
and SIGINT are held between the INSERT and the moment its id is bound, so an interrupt
there is recorded too. If any step after the INSERT fails, the run is recorded as
``fail`` (``killed`` for an interrupt) with the reason in the row and in meta.json,
never deleted and never left ``running``, and the error is re-raised: the attempt is
part of the history. A ``result/<run_id>`` that was already there is the run's reason
to fail and is marked foreign in the row: never written into.

End: UPDATE the row (status, ended_at, updated_at, reason) if it is still
``running``, refresh a text project link, then write meta.json from the row under the
run's lock (:meth:`RunEditor.write_meta`), so meta.json always agrees with the
database. A status given by hand while the run lived (``update-run --status
--force``) is kept, and a warning says so.

Files and database are not one transaction. When the database cannot record the end,
meta.json still gets the intended status with a warning, the failure goes to
``logs/stderr.log`` and :class:`DatabaseWriteError` says which ``update-run`` repairs it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from monocycle_nash.runmeta.artifact_store import (
    INPUT_DIR,
    LOGS_DIR,
    OUTPUT_DIR,
    STDERR_LOG,
    STDOUT_LOG,
    InputFile,
    InputSnapshotInfo,
    RunArtifactStore,
)
from monocycle_nash.runmeta.backends import DatabaseUrl, choose_database, connect
from monocycle_nash.runmeta.clock import Clock, JstClock
from monocycle_nash.runmeta.db import (
    DEFAULT_BUSY_TIMEOUT,
    DEFAULT_DB_PATH,
    DEFAULT_RESULT_ROOT,
    transaction,
)
from monocycle_nash.runmeta.edits import RunEditor, link_run, refresh_link, warning_line
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    DatabaseError,
    DatabaseWriteError,
    InvalidProjectPathError,
    ProjectLinkError,
    ProjectNotFoundError,
    RunDirExistsError,
    RunMetaError,
    RunTerminated,
)
from monocycle_nash.runmeta.git_probe import GitCommitProbe, GitState, GitStateProbe
from monocycle_nash.runmeta.metrics import checked_metrics
from monocycle_nash.runmeta.models import (
    LinkKind,
    MetricValue,
    ProjectRecord,
    RunRecord,
    RunStatus,
)
from monocycle_nash.runmeta.process import (
    CapturedOutput,
    ProcessIdentity,
    capture_output,
    current_process,
    deferred_signals,
    sigterm_raises,
)
from monocycle_nash.runmeta.provenance import Provenance, collect_provenance
from monocycle_nash.runmeta.repositories import (
    FOREIGN_FOLDER,
    NO_FOLDER,
    ProjectsRepository,
    RunsRepository,
)

if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = ["RunContext", "RunSessionService"]


@dataclass(frozen=True, slots=True)
class RunContext:
    """A started run, as handed to the code doing the work.

    ``extra`` and ``metrics`` are the mutable parts. Put JSON-serialisable values in
    ``extra`` while the run works and they are written as extra top-level meta.json
    fields when it finishes (names of the standard fields are ignored, but a list of
    strings under ``"warnings"`` is added to meta.json's ``warnings``). Put the run's
    headline figures in ``metrics`` (``run.metrics["support_size"] = 3``): keys of 1-64
    ASCII letters, digits, ``_``, ``.``, ``-``; values ``int``, finite ``float``,
    ``str``, ``bool`` or ``None``. They are stored with the run's end, in the database
    (``runmeta list-runs --where``) and in meta.json's ``"metrics"``; a figure that
    cannot be stored is left out with a warning, never failing the run. Neither takes
    part in ``==``.
    ``parent_run_id`` is the run this one is a child of (``None``: an ordinary run).
    ``provenance`` is what meta.json's ``"provenance"`` holds: the package version,
    Python, platform, git commit and dirtiness, and the process's command line.
    """

    run_id: int
    run_dir: Path
    command: str
    created_at: str
    project_id: str | None
    project_path: str | None
    note: str
    git_commit: str | None
    process: ProcessIdentity
    input: InputSnapshotInfo | None = None
    warnings: tuple[str, ...] = ()
    link_kind: LinkKind | None = None
    parent_run_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    metrics: dict[str, MetricValue] = field(default_factory=dict, compare=False)
    provenance: Provenance | None = None

    @property
    def input_dir(self) -> Path:
        """Folder holding the frozen inputs."""
        return self.run_dir / INPUT_DIR

    @property
    def output_dir(self) -> Path:
        """Folder where the run writes its results."""
        return self.run_dir / OUTPUT_DIR

    @property
    def logs_dir(self) -> Path:
        """Folder holding ``stdout.log`` and ``stderr.log``."""
        return self.run_dir / LOGS_DIR


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


def _traceback_text(err: BaseException) -> str:
    import traceback  # noqa: PLC0415 - only a failing run pays for it

    return "".join(traceback.format_exception(err))


def _git_state_reader(probe: GitStateProbe | Callable[[], str | None]) -> Callable[[], GitState]:
    """What the service calls for a run's git state: ``probe.state``, or the commit alone."""
    if hasattr(probe, "state"):
        return cast(GitStateProbe, probe).state
    return lambda: GitState(probe(), None)


class RunSessionService:
    """Records runs: ``start``/``finish_*``, ``record()``, and edits that keep files in step.

    Open it with :meth:`open`; it owns its connection and closes it on :meth:`close`
    or at the end of a ``with`` block. Attributes: ``connection``, ``runs``,
    ``projects``, ``store``, ``clock``, ``root``.
    """

    def __init__(
        self,
        connection: Connection,
        store: RunArtifactStore,
        *,
        clock: Clock | None = None,
        root: str | Path = ".",
        git_probe: GitStateProbe | Callable[[], str | None] | None = None,
        process_identity: Callable[[], ProcessIdentity] = current_process,
    ) -> None:
        self.connection = connection
        self.store = store
        self.clock: Clock = clock if clock is not None else JstClock()
        self.root = Path(root).absolute()
        self.runs = RunsRepository(connection)
        self.projects = ProjectsRepository(connection)
        self.edits = RunEditor(connection, store, self.clock)
        """Updates and deletions of runs and projects (see :class:`RunEditor`)."""
        self._git_state = _git_state_reader(
            git_probe if git_probe is not None else GitCommitProbe(self.root)
        )
        self._process_identity = process_identity

    @classmethod
    def open(
        cls,
        root: str | Path = ".",
        *,
        db_path: str | Path | None = None,
        result_root: str | Path | None = None,
        database_url: str | DatabaseUrl | None = None,
        clock: Clock | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        git_probe: GitStateProbe | Callable[[], str | None] | None = None,
        process_identity: Callable[[], ProcessIdentity] = current_process,
    ) -> RunSessionService:
        """Open the service of the project at ``root``.

        Defaults: database ``root/.runmeta/run_history.db``, run folders
        ``root/result``; explicit relative paths are relative to the current folder.
        The database is, first to last: ``db_path`` (an SQLite file) or
        ``database_url`` (a PostgreSQL URL, ``postgresql://user@host:5432/db``; giving
        both is a ``ValueError``), the environment variable ``RUNMETA_DATABASE_URL``,
        the default file. A URL needs the ``postgres`` extra (psycopg); without it,
        :class:`~monocycle_nash.runmeta.errors.DriverMissingError` says how to install it.
        The git commit recorded, and whether tracked files differ from it, are those of
        the checkout holding ``root``. ``git_probe`` replaces that: an object with a
        ``state()`` method returning a :class:`GitState` (a :class:`GitCommitProbe` of
        another folder), or a callable returning the commit (dirtiness then unknown).
        """
        base = Path(root).absolute()
        database = choose_database(db_path, database_url, default=base / DEFAULT_DB_PATH)
        results = Path(result_root) if result_root is not None else base / DEFAULT_RESULT_ROOT
        connection = connect(database, busy_timeout=busy_timeout)
        return cls(
            connection,
            RunArtifactStore(results),
            clock=clock,
            root=base,
            git_probe=git_probe,
            process_identity=process_identity,
        )

    @property
    def database_url(self) -> DatabaseUrl | None:
        """The PostgreSQL database of the history (``str()``: without password); ``None``
        for an SQLite file."""
        url = getattr(self.connection, "url", None)
        return url if isinstance(url, DatabaseUrl) else None

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

    # -- projects --------------------------------------------------------------------

    def ensure_project(
        self, project_id: str, project_path: str | Path | None = None, note: str = ""
    ) -> ProjectRecord:
        """Return the project ``project_id``, registering it first when it is new.

        Safe to call again and from several processes at once (a re-run notebook cell,
        parallel runs of the main job): a project registered with the same path is
        returned as it is. Raises :class:`ProjectNotFoundError` for an unknown project
        without ``project_path``, and :class:`InvalidProjectPathError` when the project
        is registered with another path (change it with ``edits.update_project``).
        """
        with transaction(self.connection):
            existing = self.projects.find(project_id)
            if existing is None:
                if project_path is None:
                    raise ProjectNotFoundError(project_id)
                return self.projects.add(project_id, project_path, self.clock.timestamp(), note)
        if (
            project_path is not None
            and Path(existing.project_path) != Path(project_path).absolute()
        ):
            raise InvalidProjectPathError(
                project_path,
                f"project {project_id!r} is registered with path {existing.project_path}",
            )
        return existing

    # -- start -----------------------------------------------------------------------

    def start(
        self,
        command: str,
        project_id: str | None = None,
        note: str = "",
        *,
        input_path: str | Path | None = None,
        inputs: Sequence[InputFile] = (),
        merged_input: bytes | str | None = None,
        parent_run_id: int | None = None,
    ) -> RunContext:
        """Record a new ``running`` run, create its folder and freeze its input.

        ``input_path`` (a file or folder, role ``input``) and ``inputs`` (role-tagged
        files) are copied into ``input/`` with their checksums; ``merged_input`` is the
        resolved input of a split configuration (``input/merged_input.toml``).
        ``parent_run_id`` makes the run a child of that run (one case of a sweep, whose
        parent run is started first): stored in the row and in meta.json. The child
        has its own folder, inputs, outputs, logs and end, like any run.

        Raises :class:`ProjectNotFoundError` for an unknown project and
        :class:`ParentRunNotFoundError` for an unknown parent run (nothing recorded).
        Any failure after the INSERT is recorded as ``fail`` (``killed`` for an
        interrupt), its traceback appended to ``logs/stderr.log``, and re-raised
        carrying the run's id as ``failed_run_id``.
        """
        now = self.clock.timestamp()
        provenance = collect_provenance(self._git_state())
        git_commit = provenance.git_commit
        process = self._process_identity()
        project: ProjectRecord | None = None
        record: RunRecord | None = None
        input_info: InputSnapshotInfo | None = None
        warnings: list[str] = []
        link_kind: LinkKind | None = None
        run_dir: Path | None = None
        try:
            # A signal between the INSERT's commit and the binding of its id would leave
            # a running row nobody ends: held here, it is raised (and recorded) after.
            with deferred_signals():
                with transaction(self.connection):
                    if project_id is not None:
                        project = self.projects.get(project_id)
                    # create_running refuses an unknown parent before its INSERT.
                    new_id = self.runs.create_running(
                        command,
                        git_commit,
                        note,
                        project_id,
                        now,
                        now,
                        now,
                        host=process.host,
                        pid=process.pid,
                        process_start=process.start_time,
                        parent_run_id=parent_run_id,
                    )
                record = RunRecord(
                    run_id=new_id,
                    created_at=now,
                    started_at=now,
                    ended_at=None,
                    status="running",
                    command=command,
                    git_commit=git_commit,
                    note=note,
                    project_id=project_id,
                    updated_at=now,
                    parent_run_id=parent_run_id,
                    project_path=None if project is None else project.project_path,
                )
            run_id = record.run_id
            run_dir = self.store.create_run_dir(run_id)
            files = [
                *([] if input_path is None else [InputFile("input", Path(input_path))]),
                *inputs,
            ]
            if files or merged_input is not None:
                merged = merged_input.encode() if isinstance(merged_input, str) else merged_input
                input_info = self.store.save_input_snapshot(run_id, files, merged)
            if record.project_path is not None:
                link_kind = self._link(record, record.project_path, warnings)
            self.edits.write_meta(
                run_id,
                first=record,
                input_info=input_info,
                process=process,
                warnings=warnings,
                provenance=provenance.to_json(),
            )
        except BaseException as err:
            if record is None:
                raise  # nothing was recorded
            failed = self._context(
                record,
                process=process,
                input_info=input_info,
                warnings=warnings,
                link_kind=link_kind,
                provenance=provenance,
            )
            self._record_failed_start(failed, err)
            with suppress(AttributeError):  # e.g. an exception type with __slots__
                err.failed_run_id = record.run_id  # type: ignore[attr-defined]
            raise
        return self._context(
            record,
            process=process,
            input_info=input_info,
            warnings=warnings,
            link_kind=link_kind,
            provenance=provenance,
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
        provenance: Provenance,
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
            parent_run_id=record.parent_run_id,
            provenance=provenance,
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
        line = warning_line(run_id, message)
        with suppress(RunMetaError):  # an unwritable folder: meta.json and stderr still say it
            self.store.append_log(run_id, line)
        sys.stderr.write(line)

    def _record_failed_start(self, ctx: RunContext, err: BaseException) -> None:
        """Mark a run whose start failed after the INSERT; notes go on ``err``.

        The reason goes to the row. A ``result/<run_id>`` that was there before the
        run is marked foreign in the row and never written into; a run that ended
        before making its folder is marked as having none.
        """
        status = _status_for(err)
        reason = f"start failed: {_describe(err)}"
        now = self.clock.timestamp()
        foreign = isinstance(err, RunDirExistsError)
        made = not foreign and ctx.run_dir.is_dir()  # made by this start (ids are unique)
        folder = FOREIGN_FOLDER if foreign else None if made else NO_FOLDER
        try:
            with transaction(self.connection):
                record = self.runs.finish_running(ctx.run_id, status, now, now, reason=reason)
                if folder is not None:
                    self.runs.set_folder(ctx.run_id, folder)
        except Exception as db_err:  # reported on the original error
            err.add_note(
                f"runmeta: run {ctx.run_id} could not be marked {status}: {db_err}; repair"
                f" with: runmeta update-run --run-id {ctx.run_id} --status {status}"
            )
            return
        if record is None:  # given a status by hand meanwhile, or deleted: left as it is
            err.add_note(f"runmeta: run {ctx.run_id} was no longer running; left as it is")
            return
        summary = f"runmeta: run {ctx.run_id} {status}: {reason}\n"
        traceback_text = _traceback_text(err) if status == "fail" else ""
        if not made:
            # e.g. the folder belonged to something else: never write into it. A known
            # problem (RunMetaError) is said in full by its one line; a bug is not.
            if traceback_text and not isinstance(err, RunMetaError):
                sys.stderr.write(f"{summary.rstrip()} (no run folder; traceback follows)\n")
                sys.stderr.write(traceback_text)
            return
        problems: list[RunMetaError] = []
        try:
            self.store.append_log(ctx.run_id, summary + traceback_text)
        except RunMetaError as file_err:
            problems.append(file_err)
        if ctx.link_kind == "text" and record.project_path is not None:
            try:
                refresh_link(record.project_path, ctx.run_id, ctx.run_dir, ctx.created_at, status)
            except RunMetaError as file_err:
                problems.append(file_err)
        try:
            self._write_end_meta(ctx, reason, ctx.warnings)
        except RunMetaError as file_err:
            problems.append(file_err)
        for problem in problems:
            err.add_note(f"runmeta: run {ctx.run_id} is recorded {status}, but: {problem}")

    def _write_end_meta(
        self,
        ctx: RunContext,
        reason: str | None,
        warnings: Sequence[str],
        *,
        record: RunRecord | None = None,
        metrics: Mapping[str, MetricValue] | None = None,
        with_process: bool = True,
    ) -> None:
        """Write the meta.json of an ended run: its row plus the context's file-only facts.

        ``record`` (and ``metrics``) stand for the row (and its figures) when the
        database could not take the end. Without ``with_process`` the process (and the
        provenance) are the ones meta.json and the row already hold.
        """
        provenance = ctx.provenance if with_process else None
        self.edits.write_meta(
            ctx.run_id,
            record=record,
            input_info=ctx.input,
            process=ctx.process if with_process else None,
            reason=reason,
            warnings=warnings,
            extra=ctx.extra,
            metrics=metrics,
            provenance=None if provenance is None else provenance.to_json(),
        )

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
        warnings = [*ctx.warnings, *map(str, ctx.extra.get("warnings", ()))]
        metrics, refused = checked_metrics(ctx.metrics)
        for problem in refused:  # one bad figure never fails the run
            self._warn(ctx.run_id, f"{problem}; not stored", warnings)
        try:
            with transaction(self.connection):
                ended = self.runs.finish_running(ctx.run_id, status, now, now, reason=reason)
                record = ended if ended is not None else self.runs.get(ctx.run_id)
                if metrics:  # with the end, or not at all; kept even by a status set by hand
                    self.runs.set_metrics(ctx.run_id, metrics)
        except DatabaseError as err:
            self._finish_without_database(
                ctx, status, reason=reason, now=now, err=err, warnings=warnings, metrics=metrics
            )
            raise DatabaseWriteError(
                ctx.run_id,
                str(err),
                repair=f"runmeta update-run --run-id {ctx.run_id} --status {status}",
            ) from err
        if ended is None:
            # Given a status by hand while it ran (update-run --status --force): kept.
            why = f" ({reason})" if reason else ""
            self._warn(
                ctx.run_id,
                f"the run ended by itself as {status}{why} at {now}, but its status had been"
                f" set to {record.status} by hand meanwhile; {record.status} is kept",
                warnings,
            )
            self._write_end_meta(ctx, None, warnings)
            return record
        if ctx.link_kind == "text" and record.project_path is not None:
            try:
                refresh_link(record.project_path, ctx.run_id, ctx.run_dir, ctx.created_at, status)
            except ProjectLinkError as err:
                self._warn(ctx.run_id, f"project link not refreshed: {err}", warnings)
        try:
            self._write_end_meta(ctx, reason, warnings, with_process=False)
        except ArtifactWriteError as err:
            if status == "success":
                # A run whose record could not be completed did not succeed.
                why = f"its final meta.json could not be written: {err}"
                with suppress(DatabaseError), transaction(self.connection):
                    self.runs.finish(ctx.run_id, "fail", now, now, reason=why)
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
        err: DatabaseError,
        warnings: list[str],
        metrics: Mapping[str, MetricValue],
    ) -> None:
        """The row could not be updated: say so in the logs and in meta.json (figures too)."""
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
            parent_run_id=ctx.parent_run_id,
            project_path=ctx.project_path,
        )
        try:
            self._write_end_meta(ctx, reason, warnings, record=intended, metrics=metrics)
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
        inputs: Sequence[InputFile] = (),
        merged_input: bytes | str | None = None,
        handle_sigterm: bool = True,
        parent_run_id: int | None = None,
    ) -> Iterator[RunContext]:
        """Start a run, yield its context, and record how the block ended.

        Normal exit (or ``sys.exit(0)``): ``success``, unless writing a log failed
        (disk full): then ``fail``, and the :class:`ArtifactWriteError` is raised.
        ``KeyboardInterrupt`` or :class:`RunTerminated`: ``killed``. Any other
        exception: ``fail``, with the traceback appended to ``logs/stderr.log``. The
        exception is re-raised. While inside, ``sys.stdout``/``sys.stderr`` are also
        written to ``logs/stdout.log`` and ``logs/stderr.log``. With ``handle_sigterm``
        (the default, main thread only) SIGTERM raises :class:`RunTerminated` inside
        the block. ``parent_run_id`` makes the run a child of that run (see
        :meth:`start`).
        """
        with ExitStack() as stack:
            if handle_sigterm:
                stack.enter_context(sigterm_raises())
            ctx = self.start(
                command,
                project_id,
                note,
                input_path=input_path,
                inputs=inputs,
                merged_input=merged_input,
                parent_run_id=parent_run_id,
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
