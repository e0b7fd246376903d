"""Raw reads of a run database for the main-job tests (plain SQL, not the repositories)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

DEFAULT_DB = Path(".runmeta") / "run_history.db"
"""The database below a project root when nothing else is configured."""


def rows(db_path: Path) -> list[dict[str, Any]]:
    """Return every run row, oldest first."""
    with closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY run_id")]


def row(root: Path, run_id: int = 1) -> dict[str, Any]:
    """Return run ``run_id`` from the default database below ``root``; fail if it is missing."""
    found = [entry for entry in rows(root / DEFAULT_DB) if entry["run_id"] == run_id]
    assert len(found) == 1, f"run {run_id} has no row"
    return found[0]
