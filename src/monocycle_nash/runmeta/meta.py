"""The content of ``meta.json``: built from the database row plus what only files hold.

Fields (top level, in this order):

- ``schema_version``: :data:`META_SCHEMA_VERSION`.
- ``run_id``, ``created_at``, ``started_at``, ``ended_at``, ``status``, ``command``,
  ``git_commit``, ``note``, ``project_id``, ``updated_at``, ``project_path``: exactly the
  database row (:data:`~monocycle_nash.runmeta.models.RUN_FIELDS`).
- ``input``: :class:`~monocycle_nash.runmeta.models.InputSnapshotInfo` as an object, or
  ``null`` when the run had no input.
- ``process``: ``{"host", "pid", "start_time", "started_at"}`` of the process that ran.
- ``reason``: why the run failed or was killed (``null`` otherwise).
- ``warnings``: list of strings (e.g. a project link that could not be made).
- any extra fields the program added (``RunContext.extra``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from monocycle_nash.runmeta.models import (
    RUN_FIELDS,
    InputSnapshotInfo,
    ProcessIdentity,
    RunRecord,
)

__all__ = [
    "META_SCHEMA_VERSION",
    "RESERVED_FIELDS",
    "build_meta",
    "describes_another_run",
    "meta_mismatches",
    "sync_row",
]

META_SCHEMA_VERSION: Final = 1
"""Version of the meta.json layout; bumped when a field changes meaning."""

RESERVED_FIELDS: Final = frozenset(
    {"schema_version", *RUN_FIELDS, "input", "process", "reason", "warnings"}
)
"""Field names the library writes; extra fields with these names are ignored."""


def build_meta(
    record: RunRecord,
    *,
    input_info: InputSnapshotInfo | None,
    process: ProcessIdentity | None,
    reason: str | None = None,
    warnings: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the meta.json content of a run from its row and its file-only facts."""
    meta: dict[str, Any] = {"schema_version": META_SCHEMA_VERSION}
    meta.update(record.to_dict())
    meta["input"] = None if input_info is None else input_info.to_dict()
    meta["process"] = None if process is None else process.to_dict()
    meta["reason"] = reason
    meta["warnings"] = list(warnings)
    if extra:
        for key, value in extra.items():
            if key not in RESERVED_FIELDS:
                meta[key] = value
    return meta


def sync_row(meta: Mapping[str, Any], record: RunRecord) -> dict[str, Any]:
    """Return ``meta`` with every row field replaced by the database's value.

    Everything else (input, process, reason, warnings, extras) is kept.
    """
    synced: dict[str, Any] = {"schema_version": META_SCHEMA_VERSION}
    synced.update(record.to_dict())
    for key in ("input", "process", "reason"):
        synced[key] = meta.get(key)
    warnings = meta.get("warnings")
    synced["warnings"] = list(warnings) if isinstance(warnings, list) else []
    for key, value in meta.items():
        if key not in RESERVED_FIELDS:
            synced[key] = value
    return synced


def meta_mismatches(meta: Mapping[str, Any], record: RunRecord) -> list[str]:
    """Return the row fields whose meta.json value differs from the database (or is missing)."""
    row = record.to_dict()
    return [name for name in RUN_FIELDS if name not in meta or meta[name] != row[name]]


def describes_another_run(meta: Mapping[str, Any], record: RunRecord) -> bool:
    """Tell whether ``meta`` belongs to another run than ``record`` (never to be overwritten).

    True for a ``run_id`` or ``created_at`` that is there and differs, as in a folder
    left by an older database; a missing one is damage to repair, not another run.
    """
    return any(
        key in meta and meta[key] != value
        for key, value in (("run_id", record.run_id), ("created_at", record.created_at))
    )
