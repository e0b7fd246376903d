"""Two finished runs side by side: their folders read, file trees and JSON values compared.

``runmeta diff`` and ``runmeta rerun`` share this module: :func:`load_run` reads a run's
row and meta.json (refusing, in one line, a run without a folder of its own or without
a readable meta.json), :func:`compare_trees` compares two folders file by file by
SHA-256, and for a JSON file that differs :func:`compare_values` walks both documents
and lists the values that differ (numbers with their absolute and relative
difference). The ``format_*`` functions turn the results into the lines both commands
print; nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from monocycle_nash.runmeta.artifact_store import (
    RunArtifactStore,
    describes_another_run,
    read_regular_file,
)
from monocycle_nash.runmeta.cli_format import Column, format_table
from monocycle_nash.runmeta.errors import RunDirNotFoundError, RunMetaError
from monocycle_nash.runmeta.models import RunRecord
from monocycle_nash.runmeta.repositories import FOREIGN_FOLDER, NO_FOLDER, RunsRepository
from monocycle_nash.text import fit, plural, printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = [
    "DEFAULT_VALUE_LIMIT",
    "JSON_SIZE_LIMIT",
    "VALUE_WIDTH",
    "FileComparison",
    "FileDigest",
    "RunFilesError",
    "RunFolder",
    "TreeComparison",
    "ValueComparison",
    "ValuePair",
    "compare_trees",
    "compare_values",
    "describe_value",
    "file_digest",
    "format_tree",
    "format_value_table",
    "load_run",
    "short_digest",
    "tree_digests",
]

DEFAULT_VALUE_LIMIT: Final = 20
"""How many differing values of one JSON file are listed (all are counted)."""

JSON_SIZE_LIMIT: Final = 64 << 20
"""JSON files larger than this (either run's) are compared by checksum only."""

_CHUNK: Final = 1 << 20
_SHORT_DIGEST: Final = 12
VALUE_WIDTH: Final = 60
"""Cells a JSON output's value takes at most in a printed table (``--json`` has it whole)."""


class RunFilesError(RunMetaError):
    """A run's files cannot be compared: no folder of its own, or one that cannot be read."""


@dataclass(frozen=True, slots=True)
class RunFolder:
    """A finished run as found on disk: its row, its folder and its meta.json."""

    record: RunRecord
    run_dir: Path
    meta: dict[str, Any]

    @property
    def run_id(self) -> int:
        """The run's id."""
        return self.record.run_id


def load_run(connection: Connection, result_root: Path, run_id: int) -> RunFolder:
    """Return run ``run_id`` with its folder and meta.json, or refuse in one line.

    Raises :class:`~monocycle_nash.runmeta.errors.RunNotFoundError` for an unknown run,
    :class:`RunFilesError` for a run without a folder of its own (it ended before making
    one, or ``result/<id>`` was there before it) or whose meta.json describes another
    run, :class:`~monocycle_nash.runmeta.errors.RunDirNotFoundError` when the folder is
    gone, and ``MetaNotFoundError`` / ``MetaCorruptError`` for a missing or unreadable
    meta.json.
    """
    record, bookkeeping = RunsRepository(connection).get_in_full(run_id)
    store = RunArtifactStore(result_root)
    run_dir = store.run_dir(run_id)
    if bookkeeping.folder == NO_FOLDER:
        raise RunFilesError(f"run {run_id} has no folder: it ended before making one")
    if bookkeeping.folder == FOREIGN_FOLDER:
        raise RunFilesError(
            f"{run_dir} was not made by run {run_id} (it was there before the run started)"
        )
    if not run_dir.is_dir():
        raise RunDirNotFoundError(run_dir)
    meta = store.read_meta(run_id)
    if describes_another_run(meta, record):
        raise RunFilesError(
            f"{store.meta_path(run_id)} describes another run (run_id {meta.get('run_id')!r},"
            f" created {meta.get('created_at')!r}), not run {run_id}"
        )
    return RunFolder(record, run_dir, meta)


# --- files by checksum ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileDigest:
    """A file's SHA-256 (hexadecimal) and size in bytes."""

    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"sha256": ..., "size": ...}``."""
        return {"sha256": self.sha256, "size": self.size}


def file_digest(path: Path) -> FileDigest:
    """Return the SHA-256 and size of the file at ``path``, read in chunks.

    A symbolic link is not followed: its digest is that of the text it points to, so two
    links compare equal when they point at the same name. Raises :class:`RunFilesError`
    when the file cannot be read or is not a regular file (never opened: a FIFO would
    block).
    """
    digest = hashlib.sha256()
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            target = os.fsencode(path.readlink())
            digest.update(target)
            return FileDigest(digest.hexdigest(), len(target))
        if not stat.S_ISREG(mode):  # a FIFO would block the read forever
            raise RunFilesError(f"{path} is not a regular file (a FIFO, a socket or a device)")
        size = 0
        with path.open("rb") as reader:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as err:
        raise RunFilesError(f"cannot read {path}: {err.strerror or err}") from err
    return FileDigest(digest.hexdigest(), size)


def tree_digests(folder: Path) -> dict[str, FileDigest]:
    """Return every file below ``folder`` by its relative path (``/`` separators), sorted.

    Links to folders are listed as links, never entered. A folder that does not exist
    holds no file; one that cannot be listed raises :class:`RunFilesError`.
    """
    if not folder.is_dir():
        return {}

    def unreadable(err: OSError) -> None:
        raise RunFilesError(f"cannot list {err.filename or folder}: {err.strerror or err}")

    found: dict[str, FileDigest] = {}
    for current, subfolders, names in os.walk(folder, onerror=unreadable):
        base = Path(current)
        links = [name for name in subfolders if (base / name).is_symlink()]
        subfolders[:] = sorted(name for name in subfolders if name not in links)
        for name in [*names, *links]:
            path = base / name
            found[path.relative_to(folder).as_posix()] = file_digest(path)
    return dict(sorted(found.items()))


# --- JSON values side by side ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValuePair:
    """One value of two documents (or two runs' records) side by side.

    ``path`` names it (``value``, ``strategies[2].payoff``, ``solver.exact``);
    ``in_a``/``in_b`` tell whether each side has it at all (``a``/``b`` are ``None``
    where it is missing).
    """

    path: str
    a: Any
    b: Any
    in_a: bool = True
    in_b: bool = True

    @property
    def same(self) -> bool:
        """Whether both sides hold the same value (of the same JSON type)."""
        if self.in_a != self.in_b:
            return False
        return _same_value(self.a, self.b)

    @property
    def absolute(self) -> float | None:
        """``|b - a|`` when both are numbers (``None`` otherwise, or when not finite)."""
        if not (self.in_a and self.in_b and _is_number(self.a) and _is_number(self.b)):
            return None
        try:
            difference = abs(float(self.b) - float(self.a))
        except OverflowError:
            return None
        return difference if math.isfinite(difference) else None

    @property
    def relative(self) -> float | None:
        """``|b - a| / max(|a|, |b|)`` when both are numbers, not both zero."""
        absolute = self.absolute
        if absolute is None:
            return None
        scale = max(abs(float(self.a)), abs(float(self.b)))
        return absolute / scale if scale else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``path``, ``a``, ``b`` (``null`` where missing), ``in_a``,
        ``in_b``, ``same``, and for numbers ``absolute`` and ``relative``."""
        document: dict[str, Any] = {
            "path": self.path,
            "a": self.a,
            "b": self.b,
            "in_a": self.in_a,
            "in_b": self.in_b,
            "same": self.same,
        }
        if self.absolute is not None:
            document["absolute"] = self.absolute
            document["relative"] = self.relative
        return document


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_value(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@dataclass(frozen=True, slots=True)
class ValueComparison:
    """The values that differ between two JSON documents: ``count`` in all, the first
    ``len(differences)`` of them (in document order) kept."""

    count: int
    differences: tuple[ValuePair, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``count``, and ``differences`` (the first ones)."""
        return {
            "count": self.count,
            "differences": [pair.to_dict() for pair in self.differences],
        }


def compare_values(a: Any, b: Any, *, limit: int = DEFAULT_VALUE_LIMIT) -> ValueComparison:
    """Walk two JSON documents together and return the leaf values that differ.

    Objects are matched key by key (a key of one side only is one difference), arrays
    index by index (the extra items of the longer one each count), and anything else
    (numbers, strings, booleans, null, or two values of different types) is compared as
    a whole. Every difference is counted; the first ``limit`` are kept, in the order of
    ``a``'s document (then ``b``'s extra keys). Iterative: any depth json reads works.
    """
    differences: list[ValuePair] = []
    count = 0
    stack: list[tuple[str, Any, Any, bool, bool]] = [("", a, b, True, True)]
    while stack:
        path, left, right, in_left, in_right = stack.pop()
        if in_left and in_right and isinstance(left, dict) and isinstance(right, dict):
            keys = [*left, *(key for key in right if key not in left)]
            stack.extend(
                (_key_path(path, key), left.get(key), right.get(key), key in left, key in right)
                for key in reversed(keys)
            )
            continue
        if in_left and in_right and isinstance(left, list) and isinstance(right, list):
            length = max(len(left), len(right))
            stack.extend(
                (
                    f"{path}[{index}]",
                    left[index] if index < len(left) else None,
                    right[index] if index < len(right) else None,
                    index < len(left),
                    index < len(right),
                )
                for index in reversed(range(length))
            )
            continue
        pair = ValuePair(path or "(the whole document)", left, right, in_left, in_right)
        if not pair.same:
            count += 1
            if len(differences) < limit:
                differences.append(pair)
    return ValueComparison(count, tuple(differences))


def _key_path(path: str, key: str) -> str:
    """``path.key``, or ``path["key"]`` for a key that is not a plain name."""
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


# --- two folders ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileComparison:
    """One file name of two folders: its digest on each side (``None``: not there),
    and for a JSON file that differs, the values that differ (or why they were not
    compared, in ``note``)."""

    path: str
    a: FileDigest | None
    b: FileDigest | None
    values: ValueComparison | None = None
    note: str | None = None

    @property
    def state(self) -> str:
        """``same``, ``different``, ``only-a`` or ``only-b``."""
        if self.a is None:
            return "only-b"
        if self.b is None:
            return "only-a"
        return "same" if self.a == self.b else "different"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``path``, ``state``, ``a``, ``b`` (digests or ``null``), and for
        a JSON file that differs ``values`` (or a ``note`` saying why not)."""
        document: dict[str, Any] = {
            "path": self.path,
            "state": self.state,
            "a": None if self.a is None else self.a.to_dict(),
            "b": None if self.b is None else self.b.to_dict(),
        }
        if self.values is not None:
            document["values"] = self.values.to_dict()
        if self.note is not None:
            document["note"] = self.note
        return document


@dataclass(frozen=True, slots=True)
class TreeComparison:
    """Every file name found in either of two folders, sorted, compared by SHA-256."""

    files: tuple[FileComparison, ...]

    @property
    def identical(self) -> bool:
        """Whether both folders hold the same names with the same bytes."""
        return all(entry.state == "same" for entry in self.files)

    @property
    def differing(self) -> tuple[FileComparison, ...]:
        """The files that are not byte-identical on both sides."""
        return tuple(entry for entry in self.files if entry.state != "same")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``identical`` and every file (``files``)."""
        return {"identical": self.identical, "files": [entry.to_dict() for entry in self.files]}


def compare_trees(a: Path, b: Path, *, limit: int = DEFAULT_VALUE_LIMIT) -> TreeComparison:
    """Compare the files below folders ``a`` and ``b`` (a missing folder holds none).

    Files with the same relative path are compared by SHA-256; a ``.json`` file that
    differs is also read on both sides (up to :data:`JSON_SIZE_LIMIT` bytes) and its
    values compared by :func:`compare_values` (the first ``limit`` listed).
    """
    left, right = tree_digests(a), tree_digests(b)
    files: list[FileComparison] = []
    for path in sorted({*left, *right}):
        entry = FileComparison(path, left.get(path), right.get(path))
        if entry.state == "different" and path.lower().endswith(".json"):
            entry = _with_values(entry, a / path, b / path, limit)
        files.append(entry)
    return TreeComparison(tuple(files))


def _with_values(entry: FileComparison, a: Path, b: Path, limit: int) -> FileComparison:
    documents: list[Any] = []
    for side, path in (("a", a), ("b", b)):
        try:
            raw = read_regular_file(path, JSON_SIZE_LIMIT)
        except ValueError as err:  # not a regular file, or too large
            return _noted(entry, f"values not compared: {side}: {err}")
        except OSError as err:
            return _noted(entry, f"values not compared: {side}: {err.strerror or err}")
        try:
            documents.append(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _noted(entry, f"values not compared: {side} is not valid JSON")
    values = compare_values(documents[0], documents[1], limit=limit)
    return FileComparison(entry.path, entry.a, entry.b, values=values)


def _noted(entry: FileComparison, note: str) -> FileComparison:
    return FileComparison(entry.path, entry.a, entry.b, note=note)


# --- lines ----------------------------------------------------------------------------


def describe_value(value: Any, present: bool = True, *, width: int | None = VALUE_WIDTH) -> str:
    """A value as one printable cell: text as it is, numbers as Python writes them
    (exactly), anything else as compact JSON; ``-`` when missing; cut to ``width`` cells
    (``None``: whole)."""
    if not present:
        return "-"
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    text = printable(text)
    return text if width is None else fit(text, width)


def _figure(number: float | None) -> str:
    return "-" if number is None else f"{number:.3g}"


def format_value_table(
    pairs: Sequence[ValuePair],
    label_a: str,
    label_b: str,
    *,
    first: str = "VALUE",
    width: int | None = VALUE_WIDTH,
) -> Iterator[str]:
    """Yield a table of ``pairs``: the name and both values (cut to ``width`` cells;
    ``None``: whole), then, when a pair holds two numbers, their absolute and relative
    differences (``-`` for the other rows)."""
    columns = [Column(first), Column(label_a), Column(label_b)]
    numbers = any(pair.absolute is not None for pair in pairs)
    if numbers:
        columns += [Column("ABS DIFF", right=True), Column("REL DIFF", right=True)]
    relatives = [_figure(pair.relative) for pair in pairs]
    # The last column is never padded by format_table: right-align it here.
    align = max(len("REL DIFF"), *(len(text) for text in relatives))
    rows = []
    for pair, relative in zip(pairs, relatives, strict=True):
        row = [
            printable(pair.path),
            describe_value(pair.a, pair.in_a, width=width),
            describe_value(pair.b, pair.in_b, width=width),
        ]
        if numbers:
            row += [_figure(pair.absolute), relative.rjust(align)]
        rows.append(row)
    return format_table(columns, rows, None)


def short_digest(digest: FileDigest) -> str:
    """``sha256 3b46841a01e3... (1,234 B)``: enough to tell two files apart."""
    return f"sha256 {digest.sha256[:_SHORT_DIGEST]}... ({digest.size:,} B)"


def format_tree(
    tree: TreeComparison, name_a: str, name_b: str, *, indent: str = "  "
) -> Iterator[str]:
    """Yield one line per file that is not byte-identical (``only in run 3``, or both
    digests), then for JSON files the table of values that differ, with their count."""
    for entry in tree.differing:
        path = printable(entry.path)
        if entry.a is None and entry.b is not None:
            yield f"{indent}{path}: only in {name_b} ({short_digest(entry.b)})"
            continue
        if entry.b is None and entry.a is not None:
            yield f"{indent}{path}: only in {name_a} ({short_digest(entry.a)})"
            continue
        if entry.a is None or entry.b is None:
            continue  # in neither: never listed
        yield (
            f"{indent}{path}: different ({name_a} {short_digest(entry.a)},"
            f" {name_b} {short_digest(entry.b)})"
        )
        if entry.note is not None:
            yield f"{indent}  {printable(entry.note)}"
        values = entry.values
        if values is None:
            continue
        if not values.count:
            yield f"{indent}  the same values, written differently (spacing, order or number form)"
            continue
        shown = len(values.differences)
        verb = "differs" if values.count == 1 else "differ"
        more = f"; the first {shown}" if shown < values.count else ""
        yield f"{indent}  {plural(values.count, 'value')} {verb}{more}:"
        for line in format_value_table(values.differences, name_a.upper(), name_b.upper()):
            yield f"{indent}    {line}"
