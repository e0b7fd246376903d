"""Find and repair what crashes and hand edits leave in the run history (reap, check).

Both report :class:`Finding` s, one per run (or run folder) looked at: its ``kind``
(what was found), its ``state`` (``repaired``, ``repairable`` or ``left``) and a
one-line ``detail``.

:func:`reap` looks at every ``running`` run. SIGKILL, the OOM killer or a power cut
end a process before it can record anything, so its run stays ``running``. The
process that started the run (host, pid and start time, stored in meta.json) is asked
about; a run started on this host whose process is gone, or whose pid now belongs to a
process started at another time, is marked ``killed`` through
:meth:`RunEditor.update_run` (row, meta.json with the reason, project link), on the
condition that the row is still ``running`` under the write lock. Runs of other hosts,
runs whose process cannot be checked, and runs without a readable meta.json are
reported and left alone. Its kinds: ``dead``, ``alive``, ``other-host``, ``unknown``,
``no-meta``, and ``ended`` (the run ended by itself while reap looked).

:func:`check_consistency` compares the database with the result folder and finds:

- ``missing-folder``: a row whose ``result/<id>/`` does not exist;
- ``orphan-folder``: a numeric folder below the result root with no row;
- ``missing-meta``: a run folder without meta.json;
- ``unreadable-meta``: a meta.json that is not a JSON object;
- ``stale-meta``: a meta.json whose row fields disagree with the database (a crash
  between the two writes, or a database edit by hand);
- ``foreign-meta``: a meta.json that describes another run (another ``run_id`` or
  ``created_at``; a missing one is only a disagreement), e.g. a folder left from an
  older database;
- ``temp-file``: a ``.<name>.<pid>.<n>.tmp`` beside meta.json or below ``output/``,
  left by an interrupted :func:`~monocycle_nash.runmeta.artifact_store.write_file_atomically`.

With ``repair=True``, meta.json is rewritten from the database (``stale-meta``; for
``missing-meta`` and ``unreadable-meta`` it is rebuilt from the row, the unreadable file
kept beside it as ``meta.json.unreadable``), and leftover temp files are removed. A run,
its row, its folder and its outputs are never deleted, and a meta.json describing
another run is never overwritten: those findings stay, with the command that resolves
them in their detail.

Runs in progress are not disturbed: a temp file whose writer is alive is not a
leftover, and a disagreement on a run whose recording process is alive (a run that is
finishing right now) is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Final, Literal, get_args

from monocycle_nash.runmeta.artifact_store import (
    describes_another_run,
    meta_mismatches,
    temp_file_writer,
)
from monocycle_nash.runmeta.errors import (
    MetaCorruptError,
    MetaNotFoundError,
    RunMetaError,
    RunNotFoundError,
    RunStatusChangedError,
)
from monocycle_nash.runmeta.models import RunRecord
from monocycle_nash.runmeta.process import (
    ProcessIdentity,
    ProcessState,
    current_host,
    has_exited,
    is_process_alive,
    recorded_process,
    recorded_process_state,
)
from monocycle_nash.runmeta.service import RunSessionService

__all__ = [
    "FINDING_KINDS",
    "TEMP_FILE_MAX_AGE",
    "CheckReport",
    "Finding",
    "FindingKind",
    "FindingState",
    "LivenessCheck",
    "check_consistency",
    "reap",
]


# --- findings -------------------------------------------------------------------------

FindingKind = Literal[
    # check: the database against the run folders
    "missing-folder",
    "orphan-folder",
    "missing-meta",
    "unreadable-meta",
    "stale-meta",
    "foreign-meta",
    "temp-file",
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
    {"missing-meta", "unreadable-meta", "stale-meta", "temp-file", "dead"}
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
    """The process recorded in meta.json, for reap's findings that could read it."""

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
        """Reap's word for it: ``killed`` when marked so, else the kind."""
        return "killed" if self.repaired else self.kind

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: reap's for a process, check's for the rest."""
        if self.kind in _PROCESS_KINDS:
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

    Oldest run first. With ``dry_run`` nothing is changed (dead runs stay
    ``repairable``). The reason stored in meta.json reads like ``"process 1234 on host
    lab is gone (found by reap at 2026-02-14T19:30:12+09:00)"``.
    """
    running = list(service.runs.iter_runs(status="running"))
    running.reverse()
    this_host = current_host()
    findings: list[Finding] = []
    for run in running:
        finding = _look(service, run.run_id, this_host, is_alive)
        if finding.kind == "dead" and not dry_run:
            finding = _mark_killed(service, finding)
        findings.append(finding)
    return findings


def _look(
    service: RunSessionService, run_id: int, this_host: str, is_alive: LivenessCheck
) -> Finding:
    """Tell what became of one running run's process (``dead`` when it is gone)."""
    try:
        meta = service.store.read_meta(run_id)
    except (MetaNotFoundError, MetaCorruptError) as err:
        return Finding(run_id, "no-meta", "left", f"{err}; left alone")
    process = recorded_process(meta)
    if process is None:
        return Finding(run_id, "no-meta", "left", "meta.json names no process; left alone")
    host, pid = process.host, process.pid
    if host != this_host:
        detail = f"started on host {host} (this is {this_host}); left alone"
        return Finding(run_id, "other-host", "left", detail, process)
    state = is_alive(host, pid, process.start_time)
    if state == "alive":
        detail = f"process {pid} on host {host} is running"
        return Finding(run_id, "alive", "left", detail, process)
    if state == "unknown":
        detail = f"cannot tell whether process {pid} on host {host} runs; left alone"
        return Finding(run_id, "unknown", "left", detail, process)
    return Finding(run_id, "dead", "repairable", _gone(host, pid), process)


def _gone(host: str, pid: int) -> str:
    detail = f"process {pid} on host {host} is gone"
    exited = has_exited(pid)
    if exited is None:
        return detail  # no such pid any more (or no /proc to ask)
    if exited:
        return f"{detail} (exited; its parent has not collected it yet)"
    return f"{detail} (pid {pid} now belongs to another process)"


def _mark_killed(service: RunSessionService, dead: Finding) -> Finding:
    """Mark a ``dead`` run killed, unless it ended or went while reap looked."""
    reason = f"{dead.detail} (found by reap at {service.clock.timestamp()})"
    try:
        service.edits.update_run(
            dead.run_id, status="killed", reason=reason, expected_status="running"
        )
    except RunStatusChangedError as err:
        return replace(dead, kind="ended", state="left", detail=f"{err.found} meanwhile")
    except RunNotFoundError:
        return replace(dead, kind="ended", state="left", detail="deleted meanwhile")
    return replace(dead, state="repaired")


# --- check ----------------------------------------------------------------------------

TEMP_FILE_MAX_AGE: Final = 600.0
"""Seconds after which a temp file is a leftover even if a process with its pid runs."""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What :func:`check_consistency` looked at and found."""

    runs_checked: int
    folders_checked: int
    findings: tuple[Finding, ...]

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
        return {
            "consistent": self.consistent,
            "runs_checked": self.runs_checked,
            "folders_checked": self.folders_checked,
            "findings": [f.to_dict() for f in self.findings],
        }


def check_consistency(service: RunSessionService, *, repair: bool = False) -> CheckReport:
    """Compare the database with the result folder; with ``repair``, fix what is safe.

    Findings come in run id order. See the module documentation for the kinds and
    what ``repair`` does; it never deletes a run, a row, a folder or an output.
    """
    checker = _Checker(service, repair=repair)
    row_ids: set[int] = set()
    for record in service.runs.iter_runs():  # streamed: a million rows never sit in memory
        row_ids.add(record.run_id)
        checker.run(record)
    on_disk = service.store.run_ids_on_disk()
    for run_id in on_disk:
        if run_id not in row_ids:
            checker.orphan(run_id)
    findings = sorted(checker.findings, key=lambda f: (f.run_id, FINDING_KINDS.index(f.kind)))
    return CheckReport(
        runs_checked=len(row_ids), folders_checked=len(on_disk), findings=tuple(findings)
    )


class _Checker:
    """One pass over rows and folders; collects findings, repairing when asked."""

    def __init__(self, service: RunSessionService, *, repair: bool) -> None:
        self.service = service
        self.repair = repair
        self.findings: list[Finding] = []

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

    def run(self, record: RunRecord) -> None:
        """Check one row against its folder."""
        run_id = record.run_id
        store = self.service.store
        run_dir = store.run_dir(run_id)
        if not run_dir.is_dir():
            self.add(
                run_id,
                "missing-folder",
                f"run {run_id} ({record.status}) has no folder {run_dir}; the row is kept "
                f"(runmeta delete-run --run-id {run_id} removes it if the run is not wanted)",
            )
            return
        self.temp_files(run_id)
        try:
            meta = store.read_meta(run_id)
        except MetaNotFoundError:
            detail = f"{store.meta_path(run_id)} does not exist"
            self.add(run_id, "missing-meta", detail, lambda: self._rebuild(run_id))
            return
        except MetaCorruptError as err:
            self.add(run_id, "unreadable-meta", str(err), lambda: self._rebuild(run_id))
            return
        fields = meta_mismatches(meta, record)
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
            return
        running = "running" in (record.status, meta.get("status"))
        if running and recorded_process_state(meta) == "alive":
            return  # its process is writing it right now
        self.add(
            run_id,
            "stale-meta",
            f"meta.json disagrees with the database on {', '.join(fields)}",
            lambda: self._resync(run_id),
        )

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

    def temp_files(self, run_id: int) -> None:
        """Find (and remove) the temp files that interrupted writes left in a run folder."""
        for path, why in _leftover_temp_files(self.service, run_id):
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


def _leftover_temp_files(service: RunSessionService, run_id: int) -> Iterator[tuple[Path, str]]:
    """The run folder's temp files whose writer is gone or that are too old, with why."""
    host = current_host()
    now = time.time()
    for path in service.store.leftover_temp_files(run_id):
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue  # the write just finished
        pid = temp_file_writer(path.name)
        if pid is None or is_process_alive(host, pid, None) == "dead":
            yield path, "its writer is gone"
        elif age > TEMP_FILE_MAX_AGE:
            yield path, f"older than {TEMP_FILE_MAX_AGE:.0f} s"


def _remove(path: Path) -> str:
    path.unlink(missing_ok=True)
    return "removed"
