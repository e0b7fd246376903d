"""Whether the process that recorded a ``running`` run still lives, read from meta.json.

A run stores its process (host, pid, start time) under ``"process"`` in meta.json when
it starts. :func:`recorded_process` reads it back and :func:`recorded_process_state`
asks whether it still runs (``reap`` and ``check`` use them on the meta.json they have
read); :func:`run_process_state` answers ``"alive"``, ``"dead"`` or ``"unknown"`` for a
run folder: ``list-runs`` and ``show-run`` use it to show a ``running`` run whose
process is gone as ``running (dead)``. Only ``running`` rows are
ever asked about, so a listing of finished runs reads no meta.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monocycle_nash.runmeta.artifact_store import RunArtifactStore
from monocycle_nash.runmeta.errors import MetaCorruptError, MetaNotFoundError
from monocycle_nash.runmeta.models import ProcessIdentity
from monocycle_nash.runmeta.process_identity import ProcessState, is_process_alive

__all__ = ["recorded_process", "recorded_process_state", "run_process_state"]


def recorded_process(meta: Mapping[str, Any]) -> ProcessIdentity | None:
    """Return the process stored in a meta.json, or ``None`` when absent or malformed."""
    process = meta.get("process")
    if not isinstance(process, dict):
        return None
    try:
        identity = ProcessIdentity.from_dict(process)
    except (KeyError, TypeError, ValueError):
        return None
    if not identity.host or identity.pid <= 0:
        return None
    return identity


def run_process_state(result_root: Path, run_id: int) -> ProcessState:
    """Tell whether the process recorded in ``result_root/<run_id>/meta.json`` still runs.

    ``"unknown"`` when meta.json is missing, unreadable or names no process, or when the
    process ran on another host.
    """
    try:
        meta = RunArtifactStore(result_root).read_meta(run_id)
    except (MetaNotFoundError, MetaCorruptError):
        return "unknown"
    return recorded_process_state(meta)


def recorded_process_state(meta: Mapping[str, Any]) -> ProcessState:
    """Tell whether the process stored in a meta.json still runs (``"unknown"`` if none)."""
    identity = recorded_process(meta)
    if identity is None:
        return "unknown"
    return is_process_alive(identity.host, identity.pid, identity.start_time)
