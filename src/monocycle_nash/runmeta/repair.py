"""Find and repair what crashes and hand edits leave in the run history (reap, check).

Both report :class:`Finding` s, one per run (or run folder) looked at: its ``kind``
(what was found), its ``state`` (``repaired``, ``repairable`` or ``left``) and a
one-line ``detail``. For the database file itself, :func:`check_integrity` asks SQLite
(``check --integrity``) and :func:`rebuild_database` recreates it from the meta.json
files (``rebuild``); see their documentation.

:func:`reap` looks at every ``running`` run. SIGKILL, the OOM killer or a power cut
end a process before it can record anything, so its run stays ``running``. The
process that started the run (host, pid and start time, stored in the row with the
INSERT; for a row of an older schema, in meta.json) is asked about; a run started on
this host whose process is gone, or whose pid now belongs to a process started at
another time, is marked ``killed`` through :meth:`RunEditor.update_run` (row, meta.json
with the reason, project link), on the condition that the row is still ``running``
under the write lock. Its ``ended_at`` is the best evidence of when the process ended:
the last write to its logs, meta.json or outputs (never later than now), and the
reason says which. A run whose meta.json records an end the database missed (its final
update failed, e.g. on a locked database) is not killed: the row takes meta.json's
status and ``ended_at`` (``unrecorded-end``). Runs of other hosts and runs whose
process cannot be checked are reported and left alone. Its kinds: ``dead``,
``alive``, ``other-host``, ``unknown``, ``no-meta``, ``unrecorded-end``, and ``ended``
(the run ended by itself while reap looked).

:func:`check_consistency` compares the database with the result folder and finds:

- ``missing-folder``: a row whose ``result/<id>/`` does not exist;
- ``orphan-folder``: a numeric folder below the result root with no row;
- ``orphan-child``: a child run whose parent run has no row (deleted by hand with
  foreign keys off, or not restored by ``rebuild``); reported, never repaired: no
  parent is invented and the child is not detached;
- ``missing-meta``: a run folder without meta.json;
- ``unreadable-meta``: a meta.json that is not a JSON object;
- ``stale-meta``: a meta.json whose row fields disagree with the database (a crash
  between the two writes, or a database edit by hand);
- ``foreign-meta``: a meta.json that describes another run (another ``run_id`` or
  ``created_at``; a missing one is only a disagreement), e.g. a folder left from an
  older database;
- ``foreign-folder``: a ``result/<id>/`` that the run did not make (it was there when
  the run started, which failed it: ``runs.folder`` says so);
- ``unrecorded-end``: a ``running`` row whose meta.json records the run's end (the
  final database update failed);
- ``temp-file``: a ``.<name>.<pid>.<random>.tmp`` beside meta.json or below ``output/``,
  left by an interrupted :func:`~monocycle_nash.runmeta.artifact_store.write_file_atomically`;
- ``missing-link``: a run of a project (folder and project folder there) that no link
  in ``experiment_refs`` points at; repaired by making it, unless something not made
  for the run has its name or ``experiment_refs`` is a symlink (then left);
- ``stale-link``: a text link whose status or time disagrees with the row, or a link
  at this run's name pointing at another folder (the earlier layout's
  ``experiment_refs/<id>`` taken over by another root's run: this run's own link is
  made beside it; in the root's own folder: left);
- ``foreign-link``: a link of this result root whose run is not in the database or
  not in that project (a run deleted without its files); reported, never removed.

With ``repair=True``, meta.json is rewritten from the database (``stale-meta``; for
``missing-meta`` and ``unreadable-meta`` it is rebuilt from the row, the unreadable file
kept beside it as ``meta.json.unreadable``; the recording process comes from the row),
the row takes the end meta.json records (``unrecorded-end``, never the reverse),
missing and stale project links are made again, and leftover temp files are removed.
A run, its row, its folder, its outputs and a link not made for it are never deleted,
and a meta.json describing another run or a folder the run did not make is never
written into: those findings stay, with the command that resolves them in their
detail. ``stale-meta`` compares every field the row holds: the run's fields, and the
reason and the recording process.

Runs in progress are not disturbed: a temp file whose writer is alive is not a
leftover, and a disagreement on a run whose recording process is alive (a run that is
finishing right now) is skipped.

Runs of other hosts (a history shared through a database server) are judged by what
can be seen from here. A run whose folder is not here is another machine's business
(result folders kept per machine): it is counted in ``runs_elsewhere``, never reported
``missing-folder``. A run whose folder is here (a shared file system) is checked like
any run, except that its process cannot be asked about: a ``running`` run of another
host counts as alive (its missing or disagreeing meta.json is left to it), and the
temp files in its folder are leftovers only once older than :data:`TEMP_FILE_MAX_AGE`
(their writer's pid means nothing here). ``reap`` leaves other hosts' runs alone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Final, Literal, get_args

from monocycle_nash.runmeta.artifact_store import (
    LOGS_DIR,
    META_FILE,
    OUTPUT_DIR,
    describes_another_run,
    meta_mismatches,
    temp_file_writer,
)
from monocycle_nash.runmeta.clock import JST, format_timestamp, parse_timestamp
from monocycle_nash.runmeta.db import SQLiteConnectionFactory, transaction
from monocycle_nash.runmeta.edits import link_problem, link_run, links_of_root, recorded_end
from monocycle_nash.runmeta.errors import (
    DatabaseAccessError,
    DatabaseCorruptError,
    DatabaseError,
    DatabaseIOError,
    DatabaseNotFoundError,
    InvalidTimestampError,
    MetaCorruptError,
    MetaNotFoundError,
    NotADatabaseError,
    RebuildFailedError,
    RebuildRefusedError,
    RunMetaError,
    RunNotFoundError,
    RunProcessAliveError,
    RunStatusChangedError,
    SchemaTooNewError,
)
from monocycle_nash.runmeta.metrics import checked_metrics
from monocycle_nash.runmeta.models import MetricValue, RunRecord, is_run_status
from monocycle_nash.runmeta.process import (
    ProcessIdentity,
    ProcessState,
    current_host,
    has_exited,
    is_process_alive,
    recorded_process,
    recorded_process_state,
)
from monocycle_nash.runmeta.repositories import NO_FOLDER, RunBookkeeping, RunsRepository
from monocycle_nash.runmeta.service import RunSessionService

TYPE_CHECKING = False
if TYPE_CHECKING:
    from monocycle_nash.runmeta.artifact_store import RunArtifactStore
    from monocycle_nash.runmeta.backends import Connection
    from monocycle_nash.runmeta.clock import Clock

__all__ = [
    "FINDING_KINDS",
    "TEMP_FILE_MAX_AGE",
    "CheckReport",
    "Finding",
    "FindingKind",
    "FindingState",
    "IntegrityReport",
    "LivenessCheck",
    "RebuildReport",
    "check_consistency",
    "check_integrity",
    "reap",
    "rebuild_database",
]


# --- findings -------------------------------------------------------------------------

FindingKind = Literal[
    # check: the database against the run folders
    "missing-folder",
    "orphan-folder",
    "orphan-child",
    "missing-meta",
    "unreadable-meta",
    "stale-meta",
    "foreign-meta",
    "foreign-folder",
    "temp-file",
    "missing-link",
    "stale-link",
    "foreign-link",
    # both: a running row whose meta.json records its end
    "unrecorded-end",
    # reap: the process of a running run
    "dead",
    "alive",
    "other-host",
    "unknown",
    "no-meta",
    "ended",
]
"""What :func:`check_consistency` or :func:`reap` found (see the module documentation)."""

FINDING_KINDS: Final[tuple[FindingKind, ...]] = get_args(FindingKind)
"""Every kind of finding, in the order findings of one run are listed."""

FindingState = Literal["repaired", "repairable", "left"]
"""What became of a finding: fixed (reap: marked ``killed``); fixable by ``check
--repair`` or a reap without ``--dry-run``; or left as it is (nothing to do, nothing
safe to do, or the repair failed: the detail says which)."""

_REPAIRABLE: Final = frozenset(
    {
        "missing-meta",
        "unreadable-meta",
        "stale-meta",
        "temp-file",
        "missing-link",
        "stale-link",
        "dead",
        "unrecorded-end",
    }
)
_PROCESS_KINDS: Final = frozenset({"dead", "alive", "other-host", "unknown", "no-meta", "ended"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One run (or run folder) looked at by ``check`` or ``reap``: what, its state, why."""

    run_id: int
    kind: FindingKind
    state: FindingState
    detail: str
    process: ProcessIdentity | None = None
    """The process recorded for the run (row or meta.json), for reap's findings."""
    by_reap: bool = False
    """Made by reap: :meth:`to_dict` gives reap's form whatever the kind."""

    @property
    def repairable(self) -> bool:
        """Whether this kind of finding can be repaired (whatever became of this one)."""
        return self.kind in _REPAIRABLE

    @property
    def repaired(self) -> bool:
        """Whether it was repaired (reap: the run was marked ``killed``)."""
        return self.state == "repaired"

    @property
    def outcome(self) -> str:
        """Reap's word for it: ``killed`` or ``end-recorded`` when repaired, else the kind."""
        if not self.repaired:
            return self.kind
        return "end-recorded" if self.kind == "unrecorded-end" else "killed"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: reap's for a process, check's for the rest."""
        if self.by_reap or self.kind in _PROCESS_KINDS:
            process = self.process
            return {
                "run_id": self.run_id,
                "outcome": self.outcome,
                "host": None if process is None else process.host,
                "pid": None if process is None else process.pid,
                "detail": self.detail,
            }
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "detail": self.detail,
            "repairable": self.repairable,
            "repaired": self.repaired,
        }


# --- reap -----------------------------------------------------------------------------

LivenessCheck = Callable[[str, int, str | None], ProcessState]
"""How reap asks whether (host, pid, start time) still runs."""


def reap(
    service: RunSessionService,
    *,
    dry_run: bool = False,
    is_alive: LivenessCheck = is_process_alive,
) -> list[Finding]:
    """Look at every ``running`` run, mark the dead ones ``killed``; return the findings.

    Oldest run first. With ``dry_run`` nothing is changed (dead runs and ends to
    record stay ``repairable``). The reason stored in the row and meta.json reads like
    ``"process 1234 on host lab is gone (found by reap at 2026-02-14T19:30:12+09:00);
    it ended at about 2026-02-14T19:01:40+09:00 (the last write to logs/stdout.log)"``.
    """
    running = list(service.runs.iter_in_full(status="running"))
    this_host = current_host()
    findings: list[Finding] = []
    for run, books in running:
        finding = _look(service, run, books, this_host, is_alive)
        if finding.kind == "dead" and not dry_run:
            finding = _mark_killed(service, run, books, finding)
        elif finding.kind == "unrecorded-end" and not dry_run:
            finding = _record_end(service, finding, "runmeta reap")
        findings.append(finding)
    return findings


def _look(
    service: RunSessionService,
    run: RunRecord,
    books: RunBookkeeping,
    this_host: str,
    is_alive: LivenessCheck,
) -> Finding:
    """Tell what became of one running run's process (``dead`` when it is gone)."""
    run_id = run.run_id
    meta: dict[str, Any] | None = None
    problem = "its folder is not its own"
    if books.owns_folder:
        try:
            meta = service.store.read_meta(run_id)
        except (MetaNotFoundError, MetaCorruptError) as err:
            problem = str(err)
    process = books.process
    if meta is not None:
        process = process or recorded_process(meta)
        end = recorded_end(meta, run)
        if end is not None:
            detail = _unrecorded(end)
            return Finding(run_id, "unrecorded-end", "repairable", detail, process, by_reap=True)
    if process is None:
        said = "meta.json names no process" if meta is not None else problem
        detail = f"{said}, nor does the row (an older schema); left alone"
        return Finding(run_id, "no-meta", "left", detail, by_reap=True)
    host, pid = process.host, process.pid
    if host != this_host:
        detail = f"started on host {host} (this is {this_host}); left alone"
        return Finding(run_id, "other-host", "left", detail, process, by_reap=True)
    state = is_alive(host, pid, process.start_time)
    if state == "alive":
        detail = f"process {pid} on host {host} is running"
        return Finding(run_id, "alive", "left", detail, process, by_reap=True)
    if state == "unknown":
        detail = f"cannot tell whether process {pid} on host {host} runs; left alone"
        return Finding(run_id, "unknown", "left", detail, process, by_reap=True)
    return Finding(run_id, "dead", "repairable", _gone(host, pid), process, by_reap=True)


def _unrecorded(end: tuple[str, str]) -> str:
    status, ended_at = end
    return (
        f"meta.json records {status} at {ended_at}, which the database missed (its final"
        " update failed)"
    )


def _record_end(service: RunSessionService, finding: Finding, by: str) -> Finding:
    """Take a running row to the end its meta.json records (never the reverse)."""
    try:
        record = service.edits.record_end_from_meta(finding.run_id, found_by=by)
    except RunStatusChangedError as err:
        return replace(finding, kind="ended", state="left", detail=f"{err.found} meanwhile")
    except RunNotFoundError:
        return replace(finding, kind="ended", state="left", detail="deleted meanwhile")
    except RunMetaError as err:
        return replace(finding, state="left", detail=f"{finding.detail}; not recorded: {err}")
    detail = f"{finding.detail}; the row now says {record.status} too"
    return replace(finding, state="repaired", detail=detail)


def _gone(host: str, pid: int) -> str:
    detail = f"process {pid} on host {host} is gone"
    exited = has_exited(pid)
    if exited is None:
        return detail  # no such pid any more (or no /proc to ask)
    if exited:
        return f"{detail} (exited; its parent has not collected it yet)"
    return f"{detail} (pid {pid} now belongs to another process)"


def _mark_killed(
    service: RunSessionService, run: RunRecord, books: RunBookkeeping, dead: Finding
) -> Finding:
    """Mark a ``dead`` run killed, unless it ended or went while reap looked."""
    now = service.clock.now()
    run_dir = service.store.run_dir(run.run_id)
    ended_at, evidence = _end_evidence(run_dir, run.created_at, now)
    reason = (
        f"{dead.detail} (found by reap at {format_timestamp(now)});"
        f" it ended at about {ended_at} ({evidence})"
    )
    try:
        service.edits.update_run(
            run.run_id,
            status="killed",
            reason=reason,
            ended_at=ended_at,
            expected_status="running",
        )
        if books.owns_folder and not run_dir.exists():  # it died before making it
            with transaction(service.connection):
                service.runs.set_folder(run.run_id, NO_FOLDER)
    except RunStatusChangedError as err:
        return replace(dead, kind="ended", state="left", detail=f"{err.found} meanwhile")
    except RunNotFoundError:
        return replace(dead, kind="ended", state="left", detail="deleted meanwhile")
    except RunProcessAliveError:
        return replace(dead, kind="alive", state="left", detail=f"{dead.detail}; no: it runs")
    return replace(dead, state="repaired")


def _end_evidence(run_dir: Path, created_at: str, now: datetime) -> tuple[str, str]:
    """When a dead run's process ended, at best: ``(time, what says so)``.

    The newest modification time among its logs, meta.json and outputs, never later
    than ``now`` (a file dated in the future is no evidence) nor earlier than the run's
    creation; with no such file, ``now``.
    """
    candidates = [run_dir / META_FILE]
    for folder in (run_dir / LOGS_DIR, run_dir / OUTPUT_DIR):
        for current, _, names in os.walk(folder):
            candidates.extend(Path(current, name) for name in names)
    latest = now.timestamp()
    newest: tuple[float, Path] | None = None
    for path in candidates:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if mtime <= latest and (newest is None or mtime > newest[0]):
            newest = (mtime, path)
    if newest is None:
        return format_timestamp(now), "no file of the run is dated: the time of this reap"
    moment = datetime.fromtimestamp(int(newest[0]), JST)
    created = parse_timestamp(created_at)
    if moment < created:
        return format_timestamp(created), "its files are older than the run: its start"
    written = newest[1].relative_to(run_dir).as_posix()
    return format_timestamp(moment), f"the last write to {written}"


# --- check ----------------------------------------------------------------------------

TEMP_FILE_MAX_AGE: Final = 600.0
"""Seconds after which a temp file is a leftover even if a process with its pid runs."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What :func:`check_consistency` looked at and found."""

    runs_checked: int
    folders_checked: int
    findings: tuple[Finding, ...]
    runs_elsewhere: int = 0
    """Runs of other hosts whose folder is not here (kept on their own machine)."""

    @property
    def problems(self) -> tuple[Finding, ...]:
        """The findings that are still there (not repaired)."""
        return tuple(f for f in self.findings if not f.repaired)

    @property
    def consistent(self) -> bool:
        """True when nothing is left to fix."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        document: dict[str, Any] = {
            "consistent": self.consistent,
            "runs_checked": self.runs_checked,
            "folders_checked": self.folders_checked,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.runs_elsewhere:  # only a history shared between machines has any
            document["runs_elsewhere"] = self.runs_elsewhere
        return document


def check_consistency(service: RunSessionService, *, repair: bool = False) -> CheckReport:
    """Compare the database with the result folder; with ``repair``, fix what is safe.

    Findings come in run id order. See the module documentation for the kinds and
    what ``repair`` does; it never deletes a run, a row, a folder or an output.
    """
    checker = _Checker(service, repair=repair)
    row_ids: set[int] = set()
    for record, books in service.runs.iter_in_full():  # streamed: a million rows never
        row_ids.add(record.run_id)  # sit in memory
        checker.run(record, books)
    on_disk = service.store.run_ids_on_disk()
    for run_id in on_disk:
        if run_id not in row_ids:
            checker.orphan(run_id)
    for run_id, parent_run_id in service.runs.orphan_children():
        checker.orphan_child(run_id, parent_run_id)
    checker.foreign_links()
    findings = sorted(checker.findings, key=lambda f: (f.run_id, FINDING_KINDS.index(f.kind)))
    return CheckReport(
        runs_checked=len(row_ids),
        folders_checked=len(on_disk),
        findings=tuple(findings),
        runs_elsewhere=checker.elsewhere,
    )


class _Checker:
    """One pass over rows and folders; collects findings, repairing when asked."""

    def __init__(self, service: RunSessionService, *, repair: bool) -> None:
        self.service = service
        self.repair = repair
        self.findings: list[Finding] = []
        self.host = current_host()
        self.elsewhere = 0

    def add(
        self,
        run_id: int,
        kind: FindingKind,
        detail: str,
        fix: Callable[[], str] | None = None,
    ) -> None:
        """Record a finding; with ``repair``, ``fix()`` repairs it and says what it did."""
        state: FindingState = "left" if fix is None else "repairable"
        if self.repair and fix is not None:
            try:
                detail, state = f"{detail}; {fix()}", "repaired"
            except (OSError, RunMetaError) as err:
                detail, state = f"{detail}; repair failed: {err}", "left"
        self.findings.append(Finding(run_id, kind, state, detail))

    def run(self, record: RunRecord, books: RunBookkeeping) -> None:
        """Check one row against its folder."""
        run_id = record.run_id
        store = self.service.store
        run_dir = store.run_dir(run_id)
        if not books.owns_folder:
            if run_dir.is_dir():  # without one, nothing to check: the run never had one
                self.foreign_folder(run_id, books)
            return
        running = record.status == "running"
        if not run_dir.is_dir():
            if books.host is not None and books.host != self.host:
                self.elsewhere += 1  # another machine's run: its folder is over there
                return
            if running and _process_alive(books, None):
                return  # being started: its folder comes next
            self.add(
                run_id,
                "missing-folder",
                f"run {run_id} ({record.status}) has no folder {run_dir}; the row is kept "
                f"(runmeta delete-run --run-id {run_id} removes it if the run is not wanted)",
            )
            return
        self.temp_files(run_id, books.host)
        self.link(record)
        self.meta(record, books)

    def meta(self, record: RunRecord, books: RunBookkeeping) -> None:
        """Check the meta.json of a run whose own folder exists against its row."""
        run_id = record.run_id
        store = self.service.store
        running = record.status == "running"
        try:
            meta = store.read_meta(run_id)
        except MetaNotFoundError:
            if running and _process_alive(books, None):
                return  # being started: its meta.json comes next
            detail = f"{store.meta_path(run_id)} does not exist"
            self.add(run_id, "missing-meta", detail, lambda: self._rebuild(run_id))
            return
        except MetaCorruptError as err:
            self.add(run_id, "unreadable-meta", str(err), lambda: self._rebuild(run_id))
            return
        end = recorded_end(meta, record) if running else None
        if end is not None:
            fix = partial(self._record_end, run_id)
            self.add(run_id, "unrecorded-end", _unrecorded(end), fix)
            return
        fields = [*meta_mismatches(meta, record), *_bookkeeping_mismatches(meta, books)]
        if not fields:
            return
        if describes_another_run(meta, record):
            self.add(
                run_id,
                "foreign-meta",
                f"{store.meta_path(run_id)} describes another run (run_id "
                f"{meta.get('run_id')!r}, created_at {meta.get('created_at')!r}; the row "
                f"says {record.created_at}); left alone: move the folder away, then run "
                "check again",
            )
        # A running run whose process lives may be writing it right now: skipped.
        elif not ("running" in (record.status, meta.get("status")) and _process_alive(books, meta)):
            self.add(
                run_id,
                "stale-meta",
                f"meta.json disagrees with the database on {', '.join(fields)}",
                lambda: self._resync(run_id),
            )

    def foreign_folder(self, run_id: int, books: RunBookkeeping) -> None:
        """Report a ``result/<run_id>`` that the run did not make: never touched."""
        path = self.service.store.run_dir(run_id)
        how = (
            "the run ended before making one"
            if books.folder == NO_FOLDER
            else "it was there before the run started"
        )
        self.add(
            run_id,
            "foreign-folder",
            f"{path} was not made by run {run_id} ({how}); left alone: move it away, or"
            f" remove it with runmeta delete-run --run-id {run_id} --with-files"
            " --delete-foreign-folder",
        )

    def _record_end(self, run_id: int) -> str:
        self.service.edits.record_end_from_meta(run_id, found_by="runmeta check --repair")
        return "the row now says so too"

    def orphan(self, run_id: int) -> None:
        """Report a folder without a row (after checking the row again: a run may be new)."""
        if self.service.runs.find_by_id(run_id) is not None:
            return
        path = self.service.store.run_dir(run_id)
        try:
            meta = self.service.store.read_meta(run_id)
            said = f"its meta.json says {meta.get('status')!r}, created {meta.get('created_at')}"
        except RunMetaError:
            said = "no readable meta.json"
        self.add(
            run_id,
            "orphan-folder",
            f"{path} has no row in the database ({said}); left alone",
        )
        self.temp_files(run_id)

    def orphan_child(self, run_id: int, parent_run_id: int) -> None:
        """Report a child run whose parent has no row: left as it is, nothing invented."""
        self.add(
            run_id,
            "orphan-child",
            f"its parent run {parent_run_id} is not in the database (deleted by hand, or"
            f" not restored by rebuild); left alone (runmeta delete-run --run-id {run_id}"
            " removes the child if it is not wanted)",
        )

    def link(self, record: RunRecord) -> None:
        """Check the link of a run of a project (its folder exists); repair: make it again."""
        if record.project_path is None:
            return
        run_dir = self.service.store.run_dir(record.run_id)
        args = (record.project_path, record.run_id, run_dir, record.created_at, record.status)
        problem = link_problem(*args)
        if problem is None or (record.status == "running" and self._alive(record.run_id)):
            return  # a run starting or ending right now makes or refreshes its own link
        fix = (lambda: f"linked as {link_run(*args).path}") if problem.repairable else None
        self.add(record.run_id, problem.kind, problem.detail, fix)

    def _alive(self, run_id: int) -> bool:
        try:
            return recorded_process_state(self.service.store.read_meta(run_id)) == "alive"
        except RunMetaError:
            return False

    def foreign_links(self) -> None:
        """Report this root's links in the projects' folders whose run is not the project's.

        Never removed: such a link is left by a run deleted without its files, by a
        rebuilt database, or by hand, and still points at something someone may want.
        """
        root = self.service.store.result_root
        folders = sorted({project.project_path for project in self.service.projects.list()})
        for folder in folders:
            for run_id, path in links_of_root(folder, root):
                run = self.service.runs.find_by_id(run_id)
                if run is not None and run.project_path is not None:
                    if Path(run.project_path) == Path(folder):
                        continue
                    whose = f"run {run_id} belongs to {run.project_path}"
                elif run is not None:
                    whose = f"run {run_id} has no project"
                else:
                    whose = f"run {run_id} is not in the database"
                self.add(run_id, "foreign-link", f"{path}: {whose}; left alone")

    def temp_files(self, run_id: int, host: str | None = None) -> None:
        """Find (and remove) the temp files that interrupted writes left in a run folder.

        ``host`` is the run's recording host: another host's writers are judged by age.
        """
        for path, why in _leftover_temp_files(self.service, run_id, host):
            detail = f"{path} was left by an interrupted write ({why})"
            self.add(run_id, "temp-file", detail, partial(_remove, path))

    def _resync(self, run_id: int) -> str:
        self.service.edits.sync_meta(run_id)
        return "rewritten from the database"

    def _rebuild(self, run_id: int) -> str:
        stamp = self.service.clock.timestamp()
        warning = f"meta.json rebuilt from the database by runmeta check --repair at {stamp}"
        kept = self.service.edits.sync_meta(run_id, warnings=[warning])
        return "rebuilt from the database" + (
            "" if kept is None else f", the unreadable file kept as {kept.name}"
        )


def _process_alive(books: RunBookkeeping, meta: Mapping[str, Any] | None) -> bool:
    """Whether the run's recording process (the row's, else meta.json's) may still run.

    A process of another host cannot be asked: it may, so the run is left to it.
    """
    process = books.process
    if process is None and meta is not None:
        process = recorded_process(meta)
    if process is None:
        return False
    if process.host != current_host():
        return True
    return is_process_alive(process.host, process.pid, process.start_time) == "alive"


def _bookkeeping_mismatches(meta: Mapping[str, Any], books: RunBookkeeping) -> list[str]:
    """The row's bookkeeping that meta.json does not carry: ``reason``, ``process``."""
    fields: list[str] = []
    if books.reason is not None and meta.get("reason") != books.reason:
        fields.append("reason")
    if books.process is not None and not books.same_process(recorded_process(meta)):
        fields.append("process")
    return fields


def _leftover_temp_files(
    service: RunSessionService, run_id: int, run_host: str | None = None
) -> Iterator[tuple[Path, str]]:
    """The run folder's temp files whose writer is gone or that are too old, with why.

    In the folder of a run of another host (``run_host``), only age counts: the pid in
    a temp file's name is that host's.
    """
    host = current_host()
    other_host = run_host is not None and run_host != host
    now = time.time()
    for path in service.store.leftover_temp_files(run_id):
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue  # the write just finished
        pid = temp_file_writer(path.name)
        if other_host:
            if age > TEMP_FILE_MAX_AGE:
                yield path, f"older than {TEMP_FILE_MAX_AGE:.0f} s"
        elif pid is None or is_process_alive(host, pid, None) == "dead":
            yield path, "its writer is gone"
        elif age > TEMP_FILE_MAX_AGE:
            yield path, f"older than {TEMP_FILE_MAX_AGE:.0f} s"


def _remove(path: Path) -> str:
    path.unlink(missing_ok=True)
    return "removed"


# --- the database itself: SQLite's integrity check, and a rebuild from meta.json ------
#
# The SQL below (PRAGMAs, and INSERTs that restore rows with their own ids, which no
# repository method does) stays here: it serves only these two repairs.


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """What SQLite's own checks found in a database file: nothing (ok), or one line each."""

    db_path: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when SQLite found nothing wrong."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {"database": self.db_path, "ok": self.ok, "problems": list(self.problems)}


def check_integrity(db_path: str | Path) -> IntegrityReport:
    """Run ``PRAGMA integrity_check`` and ``foreign_key_check`` on the database, reading only.

    Meant for a database that other commands refuse as damaged: whatever SQLite cannot
    read is a problem of the report, not an exception. Nothing is created, migrated or
    written (a database of an older schema excepted, which opening migrates). Raises
    :class:`DatabaseNotFoundError` for a missing file, :class:`NotADatabaseError` for a
    file that is not SQLite, :class:`DatabaseAccessError` for another program's
    database, and the other :class:`DatabaseError` kinds (locked, I/O error) as usual.
    """
    path = Path(db_path)
    try:
        conn = SQLiteConnectionFactory(path).connect(read_only=True)
    except DatabaseCorruptError as err:
        return IntegrityReport(str(path), (f"SQLite cannot read it: {_sqlite_message(err)}",))
    problems: list[str] = []
    try:
        # integrity_check stops with an error where a damaged index cannot be walked;
        # quick_check (no index-to-table comparison) still says which pages are bad.
        for pragma in ("integrity_check", "quick_check"):
            try:
                problems.extend(_check_lines(conn, pragma))
                break
            except DatabaseCorruptError as err:
                problems.append(f"SQLite stopped its {pragma}: {_sqlite_message(err)}")
        try:
            for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
                problems.append(f"{table} row {rowid} refers to a {parent} row that does not exist")
        except DatabaseCorruptError as err:
            problems.append(f"SQLite stopped its foreign_key_check: {_sqlite_message(err)}")
    finally:
        conn.close()
    return IntegrityReport(str(path), tuple(problems))


def _check_lines(conn: Connection, pragma: str) -> list[str]:
    """The problems ``PRAGMA integrity_check`` or ``quick_check`` reports, one per line."""
    lines: list[str] = []
    for (message,) in conn.execute(f"PRAGMA {pragma}").fetchall():
        if message != "ok":
            lines.extend(str(message).splitlines())
    # "*** in database main ***" heads the list; it names the schema, not a problem.
    return [line for line in lines if line.strip() and not line.startswith("*** in database")]


def _sqlite_message(err: DatabaseError) -> str:
    return str(err.__cause__) if err.__cause__ is not None else str(err)


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What :func:`rebuild_database` did.

    ``runs`` and ``projects``: what the new database holds; ``skipped``: ``(run id,
    why)`` of the run folders that could not be restored; ``notes``: other things
    worth saying (a project named with two paths...); ``moved``: ``(old, new)`` paths
    of the files moved aside; ``next_run_id``: the id the next run will get.
    """

    db_path: str
    result_root: str
    runs: tuple[int, ...]
    projects: tuple[str, ...]
    skipped: tuple[tuple[int, str], ...]
    notes: tuple[str, ...]
    moved: tuple[tuple[str, str], ...]
    next_run_id: int


_DATABASE_SUFFIXES: Final = ("", "-wal", "-shm", "-journal")
_LARGEST_FOLDER_ID: Final = 2**53
"""A folder numbered beyond this (JSON's exact integers) does not push the next run id."""
"""The files SQLite keeps for one database: moved aside (and left alone) together."""


def rebuild_database(
    result_root: str | Path,
    db_path: str | Path,
    *,
    move_aside: bool = False,
    clock: Clock | None = None,
) -> RebuildReport:
    """Recreate the run database from the ``result/<id>/meta.json`` files.

    Every run keeps its id, status, times, command, git commit, note and project; the
    projects are recreated from the runs' ``project_id``/``project_path`` (created at
    their first run's time, without a note: meta.json does not hold those). A folder
    whose meta.json is missing, unreadable or not this run's is reported in
    ``skipped``. The new database has the current schema, and its run ids continue
    after the highest id known (restored, a skipped folder's up to 2**53, or the old
    database's sequence when it can be read), so no id is given twice.

    An existing database (or a ``-wal``/``-shm``/``-journal`` file of one) is never
    overwritten: without ``move_aside`` this raises :class:`RebuildRefusedError`;
    with it, the files are renamed to ``<name>.broken-<time>`` (``-wal`` ... kept as
    suffixes, so the set still opens together) once the new database is built, and
    ``moved`` says so. Another program's database and a database of a newer schema are
    refused, and so is a rebuild while a ``running`` run's process is alive (its end
    would go to the old file), or from a result folder that holds no run folder. The
    new database is built beside the old one under a temporary name and linked into
    place: a failure leaves everything as it was.
    """
    from monocycle_nash.runmeta.artifact_store import RunArtifactStore  # noqa: PLC0415
    from monocycle_nash.runmeta.clock import JstClock  # noqa: PLC0415

    path = Path(db_path)
    existing = [file for file in _database_files(path) if file.exists() or file.is_symlink()]
    if existing and not move_aside:
        raise RebuildRefusedError(
            path,
            f"{existing[0]} exists; give --move-aside to rename it (with its -wal and -shm"
            " files) to <name>.broken-<time> first",
        )
    store = RunArtifactStore(result_root)
    on_disk = store.run_ids_on_disk()
    if not on_disk:  # a mistyped --result-root must not trade a history for an empty one
        raise RebuildRefusedError(path, f"{store.result_root} holds no run folder to rebuild from")
    old_sequence = _old_sequence(path) if existing else 0
    runs, metas, skipped = _runs_from_meta(store, on_disk)
    alive = [
        run.run_id
        for run in runs
        if run.status == "running" and recorded_process_state(metas[run.run_id]) == "alive"
    ]
    if alive:
        raise RebuildRefusedError(
            path,
            f"run {alive[0]} is running and its process is alive (its end would be recorded"
            " in the old database); rebuild once it has ended",
        )
    projects, notes = _projects_of(runs)
    notes.extend(_lost_parents(runs))
    figures = _figures_of(runs, metas, notes)
    runs = [run if run.project_id in projects else run._replace(project_id=None) for run in runs]
    # New ids continue after every id known: restored, the old sequence, and the folders
    # skipped (a damaged run's folder must not be given to a new run), unless a folder's
    # number is so large that it would leave the sequence no room.
    folders = [run_id for run_id, _ in skipped if run_id <= _LARGEST_FOLDER_ID]
    sequence = max([old_sequence, *(run.run_id for run in runs), *folders])
    temp = path.with_name(f".{path.name}.{os.getpid()}.rebuild")
    rows = [_row_columns(run, metas[run.run_id]) for run in runs]
    _build(temp, rows, projects, sequence, figures)
    try:
        moved = _move_aside(existing, path, (clock or JstClock()).now())
        if not _link_into_place(temp, path):
            done = "; ".join(f"{old} was moved to {new}" for old, new in moved)
            raise RebuildFailedError(
                path,
                "another database appeared there while it was being rebuilt (a run started?);"
                f" {done or 'nothing was moved'}; run runmeta rebuild --move-aside again",
            )
    finally:
        for file in _database_files(temp):
            file.unlink(missing_ok=True)
    return RebuildReport(
        db_path=str(path),
        result_root=str(store.result_root),
        runs=tuple(run.run_id for run in runs),
        projects=tuple(sorted(projects)),
        skipped=tuple(skipped),
        notes=tuple(notes),
        moved=tuple(moved),
        next_run_id=sequence + 1,
    )


def _database_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in _DATABASE_SUFFIXES]


def _old_sequence(path: Path) -> int:
    """The old database's last run id, when it can be read; refuses files not to move."""
    try:
        conn = SQLiteConnectionFactory(path).connect(read_only=True)
    except (DatabaseCorruptError, NotADatabaseError, DatabaseIOError, DatabaseNotFoundError):
        return 0  # damaged, or only a -wal/-shm left: what a rebuild is for
    except DatabaseAccessError as err:
        # Another program's database, a folder, a file that cannot be read: not moved.
        raise RebuildRefusedError(path, err.reason) from err
    except SchemaTooNewError as err:
        raise RebuildRefusedError(path, str(err)) from err
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    except DatabaseError:
        return 0
    finally:
        conn.close()
    return int(row[0]) if row is not None and isinstance(row[0], int) else 0


def _runs_from_meta(
    store: RunArtifactStore, run_ids: list[int]
) -> tuple[list[RunRecord], dict[int, dict[str, Any]], list[tuple[int, str]]]:
    """The rows the meta.json files describe, those files, and the folders that describe none."""
    runs: list[RunRecord] = []
    metas: dict[int, dict[str, Any]] = {}
    skipped: list[tuple[int, str]] = []
    for run_id in run_ids:
        try:
            meta = store.read_meta(run_id)
        except (MetaNotFoundError, MetaCorruptError) as err:
            skipped.append((run_id, str(err)))
            continue
        restored = _row_from_meta(run_id, meta)
        if isinstance(restored, str):
            skipped.append((run_id, f"{store.meta_path(run_id)}: {restored}"))
        else:
            runs.append(restored)
            metas[run_id] = meta
    return runs, metas, skipped


def _row_from_meta(run_id: int, meta: dict[str, Any]) -> RunRecord | str:
    """The row a meta.json describes, or why it describes none."""
    from monocycle_nash.runmeta.clock import parse_timestamp  # noqa: PLC0415

    found = meta.get("run_id")
    if type(found) is not int or found != run_id:
        return f"it describes run_id {found!r}, not {run_id}"
    status = meta.get("status")
    if not is_run_status(status):
        return f"status {status!r} is not one of running, success, fail, killed"
    for name in ("created_at", "started_at", "updated_at", "ended_at"):
        value = meta.get(name)
        if value is None and name == "ended_at":
            continue
        try:
            if not isinstance(value, str):
                raise InvalidTimestampError(repr(value))
            parse_timestamp(value)
        except InvalidTimestampError:
            return f"{name} {value!r} is not a time with an offset"
    wrong = _wrong_text(meta)
    if wrong is not None:
        return wrong
    parent = meta.get("parent_run_id")  # absent in the files of older runs: none
    if parent is not None and (type(parent) is not int or not 1 <= parent < run_id):
        return f"parent_run_id {parent!r} is not the id of an earlier run"
    project_path = meta.get("project_path")
    return RunRecord(
        run_id=run_id,
        created_at=meta["created_at"],
        started_at=meta["started_at"],
        ended_at=meta.get("ended_at"),
        status=status,
        command=meta["command"],
        git_commit=meta.get("git_commit"),
        note=meta.get("note") or "",
        project_id=meta.get("project_id"),
        updated_at=meta["updated_at"],
        parent_run_id=parent,
        project_path=project_path if isinstance(project_path, str) and project_path else None,
    )


def _wrong_text(meta: dict[str, Any]) -> str | None:
    """Why a text field of meta.json cannot go into the row (``None``: they all can)."""
    if not isinstance(meta.get("command"), str):
        return f"command {meta.get('command')!r} is not a text"
    for name in ("git_commit", "note", "project_id"):
        value = meta.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} {value!r} is not a text"
    project_id = meta.get("project_id")
    if project_id is not None and not (project_id.strip() and project_id.isprintable()):
        return f"project_id {project_id!r} is not a valid project id"
    return None


def _projects_of(runs: list[RunRecord]) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """``{project id: (path, created_at)}`` from the runs, and notes on what was odd.

    A project's path is the one its most recently updated run names; its creation time
    is its first run's. A project no run gives a path for cannot be recreated: its runs
    are restored without a project, and a note says so.
    """
    by_id: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.project_id is not None:
            by_id.setdefault(run.project_id, []).append(run)
    projects: dict[str, tuple[str, str]] = {}
    notes: list[str] = []
    for project_id, members in sorted(by_id.items()):
        with_path = [run for run in members if run.project_path]
        ids = ", ".join(str(run.run_id) for run in members)
        if not with_path:
            notes.append(
                f"project {project_id!r}: no meta.json gives its path; run(s) {ids} restored"
                " without a project"
            )
            continue
        latest = max(with_path, key=lambda run: (run.updated_at, run.run_id))
        assert latest.project_path is not None
        paths = {run.project_path for run in with_path}
        if len(paths) > 1:
            notes.append(
                f"project {project_id!r}: its runs name {len(paths)} paths; kept"
                f" {latest.project_path} (run {latest.run_id}, the latest updated)"
            )
        projects[project_id] = (latest.project_path, min(run.created_at for run in members))
    return projects, notes


def _lost_parents(runs: list[RunRecord]) -> list[str]:
    """Notes on the children whose parent run is not restored (``check``'s orphan-child).

    Such a child keeps its ``parent_run_id``: it is what its meta.json says, and
    dropping it would make the child an ordinary run for good.
    """
    restored = {run.run_id for run in runs}
    lost: dict[int, list[int]] = {}
    for run in runs:
        if run.parent_run_id is not None and run.parent_run_id not in restored:
            lost.setdefault(run.parent_run_id, []).append(run.run_id)
    return [
        f"run(s) {', '.join(map(str, children))} name parent run {parent}, which was not"
        " restored; they keep it (runmeta check lists them as orphan-child)"
        for parent, children in sorted(lost.items())
    ]


def _row_columns(run: RunRecord, meta: dict[str, Any]) -> dict[str, Any]:
    """Every ``runs`` column meta.json can fill: the row's, the process's, the reason."""
    columns = run.to_dict()
    del columns["project_path"]  # the project's, not the run's
    process = recorded_process(meta)
    columns["host"] = None if process is None else process.host
    columns["pid"] = None if process is None else process.pid
    columns["process_start"] = None if process is None else process.start_time
    reason = meta.get("reason")
    columns["reason"] = reason if isinstance(reason, str) else None
    return columns


def _figures_of(
    runs: list[RunRecord], metas: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> dict[int, dict[str, MetricValue]]:
    """The figures each meta.json records (``metrics``); a figure that cannot be stored
    is left out, with a note."""
    figures: dict[int, dict[str, MetricValue]] = {}
    for run in runs:
        recorded = metas[run.run_id].get("metrics")
        if not isinstance(recorded, dict):
            continue  # none, or a meta.json written before figures existed
        kept, problems = checked_metrics(recorded)
        notes.extend(f"run {run.run_id}: {problem}; not restored" for problem in problems)
        if kept:
            figures[run.run_id] = kept
    return figures


def _build(
    temp: Path,
    runs: list[dict[str, Any]],
    projects: dict[str, tuple[str, str]],
    sequence: int,
    figures: Mapping[int, Mapping[str, MetricValue]],
) -> None:
    """Write a new database at ``temp`` holding ``projects`` and ``runs`` with their ids.

    Only the columns the current schema has are written (the process and the reason
    came with schema version 3, the parent with 4). Foreign keys are off while it
    fills the tables: a child whose parent was not restored keeps its
    ``parent_run_id`` (every ``project_id`` is one of ``projects`` already). The
    runs' ``figures`` go to ``run_metrics`` (schema version 5).
    """
    for file in _database_files(temp):
        file.unlink(missing_ok=True)  # a leftover of an interrupted rebuild by this pid
    try:
        conn = SQLiteConnectionFactory(temp).connect()
        try:
            present = {str(row[1]) for row in conn.execute("PRAGMA table_info(runs)")}
            names = [name for name in runs[0] if name in present] if runs else []
            conn.execute("PRAGMA foreign_keys = OFF")  # outside a transaction, or ignored
            with transaction(conn):
                conn.executemany(
                    "INSERT INTO projects (project_id, project_path, created_at, note)"
                    " VALUES (?, ?, ?, '')",
                    [(pid, path, created) for pid, (path, created) in projects.items()],
                )
                if runs:
                    conn.executemany(
                        f"INSERT INTO runs ({', '.join(names)})"  # noqa: S608 - our own names
                        f" VALUES ({', '.join('?' * len(names))})",
                        [[run[name] for name in names] for run in runs],
                    )
                repository = RunsRepository(conn)
                for run_id, recorded in figures.items():
                    repository.set_metrics(run_id, recorded)
                # The next id continues after every id known, restored or not.
                conn.execute("DELETE FROM sqlite_sequence WHERE name = 'runs'")
                conn.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (sequence,)
                )
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except BaseException:
        for file in _database_files(temp):
            file.unlink(missing_ok=True)
        raise


def _move_aside(existing: list[Path], path: Path, now: datetime) -> list[tuple[str, str]]:
    """Rename the old database files to ``<name>.broken-<time>[-wal...]``; return the moves."""
    if not existing:
        return []
    stamp = now.strftime("%Y%m%dT%H%M%S")
    base = f"{path.name}.broken-{stamp}"
    number = 1
    while any(path.with_name(base + suffix).exists() for suffix in _DATABASE_SUFFIXES):
        number += 1
        base = f"{path.name}.broken-{stamp}-{number}"
    moved: list[tuple[str, str]] = []
    for file in existing:
        target = path.with_name(base + file.name[len(path.name) :])
        try:
            file.rename(target)
        except OSError as err:
            done = "; ".join(f"{old} was moved to {new}" for old, new in moved)
            raise RebuildFailedError(
                path, f"cannot move {file} aside ({err.strerror or err}); {done or 'nothing moved'}"
            ) from err
        moved.append((str(file), str(target)))
    return moved


def _link_into_place(temp: Path, path: Path) -> bool:
    """Put the built database at ``path``; False if a file appeared there meanwhile."""
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    except OSError:
        # No hard links on this file system: the next best is a rename after a look.
        if path.exists():
            return False
        temp.replace(path)
    return True
