"""The files of a run folder as the browser may see them: checked paths, previews, figures.

Only regular files inside ``<result root>/<run_id>/`` are ever opened. A requested
path is refused before touching the disk when it is empty, absolute, holds a
backslash, a NUL, or a ``.``/``..``/empty component; then it is resolved (symbolic
links followed) and must still lie inside the run folder, which itself must resolve to
a folder directly inside the resolved result root. The file is opened without
following a final symbolic link and without blocking, and must be a regular file, so a
planted link, FIFO or device is never read. Every refusal is the same
:class:`FileRefused`: the browser answers 404 and says nothing about what exists
outside.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "CONTENT_TYPES",
    "FileRefused",
    "Preview",
    "RunFolder",
    "content_type",
    "figures",
]

_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)

CONTENT_TYPES: Mapping[str, str] = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".csv": "text/plain; charset=utf-8",
    ".toml": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
"""What a run's file is served as, by suffix. Anything else (``.html`` included) is
``application/octet-stream``, sent as a download: nothing from a run folder is ever
served as a page of this site."""

TEXT_SUFFIXES = frozenset({".csv", ".toml", ".log", ".txt", ".md", ".json"})
"""Files shown as text on the run page."""


def content_type(name: str) -> str:
    """The ``Content-Type`` a run file named ``name`` is served with."""
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


class FileRefused(Exception):
    """A path that is not a regular file inside the run folder (or no such file)."""


@dataclass(frozen=True, slots=True)
class Preview:
    """Part of a text file: ``text`` (decoded, bad bytes escaped), and what was left out."""

    text: str
    size: int
    complete: bool


class RunFolder:
    """The folder ``<result root>/<run_id>`` of one run, read only through checked paths."""

    __slots__ = ("path", "run_id")

    def __init__(self, result_root: Path, run_id: int) -> None:
        """Find the run's folder; :class:`FileRefused` when it is missing or lies elsewhere.

        A run folder that is a symbolic link to somewhere outside the result root
        (``result/7 -> /etc``) is refused like a missing one.
        """
        self.run_id = run_id
        try:
            root = result_root.resolve(strict=True)
            folder = (root / str(run_id)).resolve(strict=True)
        except (OSError, RuntimeError) as err:
            raise FileRefused(f"result/{run_id} does not exist") from err
        if folder.parent != root or not folder.is_dir():
            raise FileRefused(f"result/{run_id} is not a folder of the result root")
        self.path = folder

    def resolve(self, relative: str) -> Path:
        """Return the file at ``relative`` (``/``-separated) or raise :class:`FileRefused`."""
        parts = relative.split("/")
        if (
            not relative
            or relative.startswith("/")
            or "\\" in relative
            or "\0" in relative
            or any(part in {"", ".", ".."} for part in parts)
        ):
            raise FileRefused(f"{relative!r} is not a path inside the run folder")
        try:
            target = self.path.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError) as err:
            raise FileRefused(f"{relative!r} does not exist") from err
        if not target.is_relative_to(self.path) or target == self.path:
            raise FileRefused(f"{relative!r} leads out of the run folder")
        return target

    @contextmanager
    def open(self, relative: str) -> Iterator[tuple[BinaryIO, int]]:
        """Open a regular file of the folder for reading; yield it with its size."""
        target = self.resolve(relative)
        try:
            fd = os.open(target, os.O_RDONLY | _NO_FOLLOW | _NON_BLOCKING | _BINARY)
        except OSError as err:
            why = "a symbolic link" if err.errno == errno.ELOOP else "unreadable"
            raise FileRefused(f"{relative!r} is {why}") from err
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise FileRefused(f"{relative!r} is not a regular file")
            if _NON_BLOCKING:
                os.set_blocking(fd, True)
            stream = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        with stream:
            yield stream, info.st_size

    def head(self, relative: str, limit: int) -> Preview:
        """The first ``limit`` bytes of a text file, cut at a line end when cut at all."""
        with self.open(relative) as (stream, size):
            data = stream.read(limit + 1)
        complete = len(data) <= limit
        if not complete:
            data = data[: data.rfind(b"\n", 0, limit) + 1 or limit]
        return Preview(_decode(data), size, complete)

    def tail(self, relative: str, limit: int) -> Preview:
        """The last ``limit`` bytes of a text file, from a line start when cut at all."""
        with self.open(relative) as (stream, size):
            if size > limit:
                stream.seek(size - limit)
            data = stream.read(limit)
        complete = size <= limit
        if not complete:
            data = data[data.find(b"\n") + 1 :]
        return Preview(_decode(data), size, complete)

    def json(self, relative: str, limit: int) -> object:
        """A JSON file parsed, or :class:`FileRefused` when larger than ``limit`` or not JSON."""
        with self.open(relative) as (stream, size):
            if size > limit:
                raise FileRefused(f"{relative!r} is larger than {limit:,} bytes")
            data = stream.read(limit + 1)
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise FileRefused(f"{relative!r} is not valid JSON") from err


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="backslashreplace")


def _is_figure(value: object) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def figures(
    stored: Mapping[str, object],
    meta: Mapping[str, object] | None,
    outputs: Mapping[str, object],
) -> dict[str, object]:
    """The run's figures by name: its stored figures, meta.json's ``result``, its outputs'.

    ``stored`` are the figures the run reported (``run_metrics``), shown by their keys.
    ``outputs`` maps an output file's name (``equilibrium.json``) to its parsed JSON;
    its top-level numbers, words and booleans become ``equilibrium.json: value``...
    (``schema_version`` and ``description`` left out, and a value that meta.json's
    ``result`` already holds under the same key).
    """
    found: dict[str, object] = dict(stored)
    result = meta.get("result") if meta else None
    if isinstance(result, Mapping):
        for key, value in result.items():
            if _is_figure(value):
                found[f"result: {key}"] = value
    for name, document in outputs.items():
        if isinstance(document, Mapping):
            for key, value in document.items():
                if key in {"schema_version", "description"} or not _is_figure(value):
                    continue
                if found.get(f"result: {key}", _ABSENT) == value:
                    continue  # the same figure as meta.json's result: shown once
                found[f"{name}: {key}"] = value
    return found


_ABSENT = object()
