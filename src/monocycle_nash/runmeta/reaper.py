"""Find ``running`` runs whose process died without a word and mark them ``killed``.

SIGKILL, the OOM killer or a power cut end a process before it can record anything, so
its run stays ``running``. :func:`reap` looks at every ``running`` row: the process that
started the run (host, pid and start time, stored in meta.json) is asked about with
:func:`~monocycle_nash.runmeta.process_identity.is_process_alive`. A run started on this
host whose process is gone, or whose pid now belongs to a process started at another
time, is marked ``killed`` through :meth:`RunSessionService.update_run` (row, meta.json
with the reason, project link), on the condition that the row is still ``running``
under the write lock. Runs of other hosts, runs whose process cannot be checked, and
runs without a readable meta.json are reported and left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from monocycle_nash.runmeta.errors import (
    MetaCorruptError,
    MetaNotFoundError,
    RunNotFoundError,
    RunStatusChangedError,
)
from monocycle_nash.runmeta.liveness import recorded_process
from monocycle_nash.runmeta.process_identity import (
    ProcessState,
    current_host,
    has_exited,
    is_process_alive,
)
from monocycle_nash.runmeta.service import RunSessionService

__all__ = ["ReapFinding", "ReapOutcome", "reap"]

ReapOutcome = Literal["killed", "dead", "alive", "other-host", "unknown", "no-meta", "ended"]
"""What ``reap`` did with (or found about) one running run.

``killed``: marked killed. ``dead``: its process is gone, but ``--dry-run`` changed
nothing. ``alive``: its process runs. ``other-host``: started on another machine.
``unknown``: this system cannot tell. ``no-meta``: no folder or no readable meta.json
naming the process. ``ended``: the run ended by itself while reap looked.
"""

LivenessCheck = Callable[[str, int, str | None], ProcessState]
"""How reap asks whether (host, pid, start time) still runs."""


@dataclass(frozen=True, slots=True)
class ReapFinding:
    """One running run looked at by :func:`reap`: what happened and why, in one line."""

    run_id: int
    outcome: ReapOutcome
    host: str | None
    pid: int | None
    detail: str

    @property
    def marked(self) -> bool:
        """Whether reap marked this run ``killed``."""
        return self.outcome == "killed"

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict."""
        return {
            "run_id": self.run_id,
            "outcome": self.outcome,
            "host": self.host,
            "pid": self.pid,
            "detail": self.detail,
        }


def _gone(host: str, pid: int) -> str:
    detail = f"process {pid} on host {host} is gone"
    exited = has_exited(pid)
    if exited is None:
        return detail  # no such pid any more (or no /proc to ask)
    if exited:
        return f"{detail} (exited; its parent has not collected it yet)"
    return f"{detail} (pid {pid} now belongs to another process)"


def reap(
    service: RunSessionService,
    *,
    dry_run: bool = False,
    is_alive: LivenessCheck = is_process_alive,
) -> list[ReapFinding]:
    """Look at every ``running`` run, mark the dead ones ``killed``; return the findings.

    Oldest run first. With ``dry_run`` nothing is changed (dead runs are reported as
    ``dead``). The reason stored in meta.json reads like ``"process 1234 on host lab
    is gone (found by reap at 2026-02-14T19:30:12+09:00)"``.
    """
    running = list(service.runs.iter_runs(status="running"))
    running.reverse()
    this_host = current_host()
    findings: list[ReapFinding] = []
    for run in running:
        finding = _look(service, run.run_id, this_host, is_alive)
        if finding.outcome == "dead" and not dry_run:
            finding = _mark_killed(service, finding)
        findings.append(finding)
    return findings


def _look(
    service: RunSessionService, run_id: int, this_host: str, is_alive: LivenessCheck
) -> ReapFinding:
    """Tell what became of one running run's process (``dead`` when it is gone)."""
    try:
        meta = service.store.read_meta(run_id)
    except (MetaNotFoundError, MetaCorruptError) as err:
        return ReapFinding(run_id, "no-meta", None, None, f"{err}; left alone")
    process = recorded_process(meta)
    if process is None:
        return ReapFinding(run_id, "no-meta", None, None, "meta.json names no process; left alone")
    host, pid = process.host, process.pid
    if host != this_host:
        detail = f"started on host {host} (this is {this_host}); left alone"
        return ReapFinding(run_id, "other-host", host, pid, detail)
    state = is_alive(host, pid, process.start_time)
    if state == "alive":
        return ReapFinding(run_id, "alive", host, pid, f"process {pid} on host {host} is running")
    if state == "unknown":
        detail = f"cannot tell whether process {pid} on host {host} runs; left alone"
        return ReapFinding(run_id, "unknown", host, pid, detail)
    return ReapFinding(run_id, "dead", host, pid, _gone(host, pid))


def _mark_killed(service: RunSessionService, dead: ReapFinding) -> ReapFinding:
    """Mark a ``dead`` run killed, unless it ended or went while reap looked."""
    reason = f"{dead.detail} (found by reap at {service.clock.timestamp()})"
    try:
        service.update_run(dead.run_id, status="killed", reason=reason, expected_status="running")
    except RunStatusChangedError as err:
        return replace(dead, outcome="ended", detail=f"{err.found} meanwhile")
    except RunNotFoundError:
        return replace(dead, outcome="ended", detail="deleted meanwhile")
    return replace(dead, outcome="killed")
