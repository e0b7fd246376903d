"""What ``show-run`` reports about a run folder: its meta.json and the files it holds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from monocycle_nash.runmeta.artifact_store import RunArtifactStore
from monocycle_nash.runmeta.errors import MetaCorruptError, MetaNotFoundError

__all__ = ["list_files", "read_meta"]


def read_meta(result_root: Path, run_id: int) -> tuple[dict[str, Any] | None, str | None]:
    """Return ``(meta, None)``, or ``(None, why)`` when meta.json is missing or unreadable.

    A run without a readable meta.json is still shown; ``why`` is one line such as
    ``"result/42/meta.json does not exist"``.
    """
    try:
        return RunArtifactStore(result_root).read_meta(run_id), None
    except (MetaNotFoundError, MetaCorruptError) as err:
        return None, str(err)


def list_files(run_dir: Path) -> list[tuple[str, int]] | None:
    """Return ``(relative path, size in bytes)`` of every file under ``run_dir``, sorted.

    Paths use ``/`` separators. Symbolic links are listed with their own size and not
    followed. Returns ``None`` when ``run_dir`` is not a folder.
    """
    if not run_dir.is_dir():
        return None
    files: list[tuple[str, int]] = []
    for folder, subfolders, names in os.walk(run_dir):
        subfolders.sort()
        base = Path(folder).relative_to(run_dir)
        for name in names:
            path = Path(folder, name)
            try:
                size = path.lstat().st_size
            except OSError:
                continue  # vanished while listing
            files.append(((base / name).as_posix(), size))
    files.sort()
    return files
