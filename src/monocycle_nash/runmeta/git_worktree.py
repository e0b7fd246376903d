"""Whether a git working tree differs from its commit, told without spawning ``git``.

Dirty means what ``git status --untracked-files=no`` would list: a tracked file
modified or deleted, or a change added to the index and not committed. Untracked files
do not count; submodules (gitlinks) are not looked into. It is read from the index file
(``.git/index``, versions 2 to 4) and the object store:

* the working tree against the index: every tracked file is ``lstat``-ed; one missing,
  of another type, size or executable bit is modified (a new size is a change for git
  too, without reading the file); one whose times or inode differ from the index's
  record, or whose record is not older than the index file itself ("racy git": written
  in the same tick as the index, so its times prove nothing), is hashed as git hashes a
  blob (``sha1(b"blob <size>\\0" + content)``; a symlink: its target) and compared;
* the index against the commit: the index caches the tree of its root (the ``TREE``
  extension, written valid by a commit, checkout, reset or merge, and invalidated by
  any later change to the index), which must be the commit's tree, read from a loose
  object or a pack.

Where this cannot decide (an index it cannot parse: a split or sparse index, an
unknown version, a bad checksum; no valid cached tree; a commit stored as a delta;
a file whose bytes differ from its blob but might be equal after git's filters, such
as ``core.autocrlf``), ``git status`` is asked, reading only, with a timeout; if that
fails too, the answer is unknown (``None``), except that bytes differing from the blob
still say dirty.
"""

from __future__ import annotations

import os
import stat
import struct
from typing import Final, NamedTuple

__all__ = ["GIT_STATUS_TIMEOUT", "WorktreeCheck", "git_status_dirty"]

GIT_STATUS_TIMEOUT: Final = 10.0
"""Seconds ``git status`` may take when the index alone cannot tell."""

_TYPE_MASK: Final = 0o170000
_REGULAR: Final = 0o100000
_SYMLINK: Final = 0o120000
_GITLINK: Final = 0o160000
_ASSUME_VALID: Final = 0x8000
_EXTENDED: Final = 0x4000
_STAGE: Final = 0x3000
_SKIP_WORKTREE: Final = 0x4000
_INTENT_TO_ADD: Final = 0x2000
_ENTRY_STAT: Final = struct.Struct(">10I")
_NS: Final = 1_000_000_000
_LOW_32: Final = 0xFFFFFFFF

_GIT_LOCATION_VARIABLES: Final = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)
"""Variables that would point ``git status`` at another repository than the one read."""

# How the working tree compares with the index, from best to worst.
_CLEAN: Final = 0
_UNREADABLE: Final = 1  # a file could not be read: git must tell
_DIFFERS: Final = 2  # a file's bytes differ from its blob: modified, unless git's filters
_MODIFIED: Final = 3


class _Unusable(Exception):
    """The index file cannot be read by this module (git is asked instead)."""


class _Entry(NamedTuple):
    """One tracked file of the index, as far as the dirty check needs it."""

    path: str  # absolute
    symlink: bool
    executable: bool
    size: int  # low 32 bits, as the index holds it
    mtime: tuple[int, int]  # seconds (low 32 bits), nanoseconds (0: not recorded)
    ctime: tuple[int, int]
    ino: int
    blob: bytes
    racy: bool  # written in the index file's own tick: only the content can tell
    # What a clean file's lstat shows (type and executable bit, size, mtime and ctime in
    # ns, inode) when the index recorded all of it and the entry is not racy; else None.
    quick: tuple[int, int, int, int, int] | None


class _Index(NamedTuple):
    """What the dirty check needs from a parsed index file."""

    entries: tuple[_Entry, ...]  # to check: no gitlinks, skip-worktree or assume-valid
    tree: bytes | None  # the cached tree of the root, when it is valid
    settled: bool  # False: an unmerged (conflicted) or intent-to-add entry
    executable_bits: bool  # compare executable bits (core.fileMode, never on Windows)


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - strings on the hot path
            return handle.read()
    except OSError:
        return None


def _file_key_of(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)


def _file_key(path: str) -> tuple[int, int, int, int] | None:
    try:
        return _file_key_of(os.stat(path))  # noqa: PTH116
    except OSError:
        return None


# -- the index file ---------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode git's offset varint (index version 4) at ``pos``; return (value, next pos)."""
    byte = data[pos]
    pos += 1
    value = byte & 0x7F
    while byte & 0x80:
        byte = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, pos


def _is_racy(mtime: tuple[int, int], index_mtime_ns: int) -> bool:
    """Whether a record of ``mtime`` is not older than the index file (time 0 ns: unknown)."""
    seconds, nanoseconds = divmod(index_mtime_ns, _NS)
    seconds &= _LOW_32
    if mtime[0] != seconds:
        return mtime[0] > seconds
    return not mtime[1] or not nanoseconds or mtime[1] >= nanoseconds


def _check_trailer(data: bytes, hash_size: int) -> None:
    """Refuse an index whose checksum is wrong (all zeros: written with index.skipHash)."""
    trailer = data[-hash_size:]
    if not any(trailer):
        return
    import hashlib  # noqa: PLC0415 - only the dirty check needs it

    algorithm = "sha1" if hash_size == 20 else "sha256"
    body = memoryview(data)[:-hash_size]
    if hashlib.new(algorithm, body, usedforsecurity=False).digest() != trailer:
        raise _Unusable("bad checksum")


class _IndexReader:
    """Reads the entries of one index file in order (the state version 4 needs)."""

    def __init__(self, data: bytes, version: int, hash_size: int) -> None:
        self.data = data
        self.version = version
        self.hash_size = hash_size
        self.end = len(data) - hash_size
        self.pos = 12
        self.previous = b""

    def entry(self) -> tuple[tuple[int, ...], bytes, int, int, bytes]:
        """Return the next entry's stat fields, blob, flags, extended flags and path."""
        data, pos, size = self.data, self.pos, self.hash_size
        fields = _ENTRY_STAT.unpack_from(data, pos)
        blob = data[pos + 40 : pos + 40 + size]
        name_at = pos + 42 + size
        flags = int.from_bytes(data[name_at - 2 : name_at], "big")
        extended = 0
        if flags & _EXTENDED:
            if self.version < 3:
                raise _Unusable("extended flags before version 3")
            extended = int.from_bytes(data[name_at : name_at + 2], "big")
            name_at += 2
            if extended & ~(_SKIP_WORKTREE | _INTENT_TO_ADD):
                raise _Unusable("unknown extended flags")
        if self.version == 4:  # the path shares a prefix with the previous one
            strip, name_at = _varint(data, name_at)
            end = data.index(b"\0", name_at, self.end)
            if strip > len(self.previous):
                raise _Unusable("bad path prefix")
            name = self.previous[: len(self.previous) - strip] + data[name_at:end]
            self.pos = end + 1
        else:  # NUL-padded to a multiple of 8 bytes
            end = data.index(b"\0", name_at, self.end)
            name = data[name_at:end]
            self.pos = pos + ((end - pos + 8) & ~7)
        self.previous = name
        return fields, blob, flags, extended, name

    def root_tree(self) -> bytes | None:
        """Read the extensions; return the root's cached tree when it is valid."""
        data, pos, tree = self.data, self.pos, None
        while pos + 8 <= self.end:
            signature = data[pos : pos + 4]
            start = pos + 8
            pos = start + int.from_bytes(data[pos + 4 : start], "big")
            if signature == b"TREE":
                tree = _root_tree(data[start:pos], self.hash_size)
            elif not 0x41 <= signature[0] <= 0x5A:  # 'A'..'Z' optional, others required
                raise _Unusable(f"extension {signature!r}")  # e.g. split or sparse index
        if pos != self.end:
            raise _Unusable("truncated")
        return tree


def _root_tree(extension: bytes, hash_size: int) -> bytes | None:
    """The root's tree in a ``TREE`` extension, or ``None`` when it is invalidated."""
    newline = extension.find(b"\n")
    if not extension.startswith(b"\0") or newline < 0:
        return None
    try:
        if int(extension[1:newline].partition(b" ")[0]) < 0:
            return None  # changed in the index since its tree was written
    except ValueError:
        return None
    tree = extension[newline + 1 : newline + 1 + hash_size]
    return tree if len(tree) == hash_size else None


def _entry(
    path: str, fields: tuple[int, ...], blob: bytes, index_mtime_ns: int, mode_mask: int
) -> _Entry:
    """One regular file or symlink of the index, from its stat ``fields``."""
    ctime_s, ctime_ns, mtime_s, mtime_ns, _dev, ino, mode, _uid, _gid, size = fields
    symlink = mode & _TYPE_MASK == _SYMLINK
    mtime, ctime = (mtime_s, mtime_ns), (ctime_s, ctime_ns)
    racy = _is_racy(mtime, index_mtime_ns)
    quick = None
    if not racy and mtime_ns and ctime_s and ctime_ns and ino and size:
        shown_mode = _SYMLINK | 0o100 if symlink else mode & (_TYPE_MASK | 0o100)
        quick = (
            shown_mode & mode_mask,
            size,
            mtime_s * _NS + mtime_ns,
            ctime_s * _NS + ctime_ns,
            ino,
        )
    return _Entry(path, symlink, bool(mode & 0o100), size, mtime, ctime, ino, blob, racy, quick)


def _parse_index(
    data: bytes, worktree: str, hash_size: int, index_mtime_ns: int, executable_bits: bool
) -> _Index:
    """Parse an index file (versions 2 to 4), or raise :class:`_Unusable`.

    Refused: another version, a bad checksum, an entry flag or file type this reader
    does not know, and a mandatory extension (lower-case name: a split or sparse index).
    """
    if len(data) < 12 + hash_size or data[:4] != b"DIRC":
        raise _Unusable("not an index file")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in {2, 3, 4}:
        raise _Unusable(f"version {version}")
    _check_trailer(data, hash_size)
    reader = _IndexReader(data, version, hash_size)
    prefix = worktree.rstrip(os.sep) + os.sep
    mode_mask = _TYPE_MASK | (0o100 if executable_bits else 0)
    entries: list[_Entry] = []
    settled = True
    try:
        for _ in range(count):
            fields, blob, flags, extended, name = reader.entry()
            mode = fields[6]
            kind = mode & _TYPE_MASK
            if flags & _STAGE or extended & _INTENT_TO_ADD:
                settled = False
            elif kind == _GITLINK or flags & _ASSUME_VALID or extended & _SKIP_WORKTREE:
                pass  # not compared, as git does not
            elif kind in {_REGULAR, _SYMLINK}:
                path = os.fsdecode(name)
                path = prefix + (path if os.sep == "/" else path.replace("/", os.sep))
                entries.append(_entry(path, fields, blob, index_mtime_ns, mode_mask))
            else:
                raise _Unusable(f"file mode {mode:o}")
        tree = reader.root_tree()
    except (struct.error, ValueError, IndexError) as err:
        raise _Unusable("truncated") from err
    return _Index(tuple(entries), tree, settled, executable_bits)


def _trusts_executable_bit(common: str) -> bool:
    """``core.fileMode`` of the repository's own config (default true; never on Windows)."""
    if os.name == "nt":
        return False
    text = _read_bytes(os.path.join(common, "config"))  # noqa: PTH118
    section = b""
    trusted = True
    for raw in (text or b"").splitlines():
        line = raw.split(b"#", 1)[0].split(b";", 1)[0].strip().lower()
        if line.startswith(b"["):
            section = line.strip(b"[]").split(b'"', 1)[0].strip()
        elif section == b"core" and b"=" in line:
            key, _, value = line.partition(b"=")
            if key.strip() == b"filemode":
                trusted = value.strip() not in {b"false", b"no", b"off", b"0"}
    return trusted


# -- the working tree against the index ---------------------------------------------------


def _same_stat(entry: _Entry, info: os.stat_result) -> bool:
    """Whether ``info`` matches the index's record of times and inode (0: not recorded)."""
    mtime_s, mtime_ns = divmod(info.st_mtime_ns, _NS)
    if mtime_s & _LOW_32 != entry.mtime[0] or (entry.mtime[1] and mtime_ns != entry.mtime[1]):
        return False
    ctime_s, ctime_ns = divmod(info.st_ctime_ns, _NS)
    if entry.ctime[0] and (
        ctime_s & _LOW_32 != entry.ctime[0] or (entry.ctime[1] and ctime_ns != entry.ctime[1])
    ):
        return False
    return not entry.ino or info.st_ino & _LOW_32 == entry.ino


def _same_blob(entry: _Entry, info: os.stat_result, algorithm: str) -> bool | None:
    """Hash the file (a symlink: its target) as git hashes a blob; ``None``: unreadable."""
    import hashlib  # noqa: PLC0415 - only when a file's stat differs from the index

    digest = hashlib.new(algorithm, usedforsecurity=False)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.fsencode(os.readlink(entry.path))  # noqa: PTH115
        except OSError:
            return None
        digest.update(b"blob %d\0" % len(target))
        digest.update(target)
        return digest.digest() == entry.blob
    digest.update(b"blob %d\0" % info.st_size)
    read = 0
    try:
        with open(entry.path, "rb") as handle:  # noqa: PTH123
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                read += len(chunk)
    except OSError:
        return None
    if read != info.st_size:
        return None  # changed while it was read
    return digest.digest() == entry.blob


def _worktree_change(index: _Index, algorithm: str) -> int:
    """Compare every tracked file with the index: the worst of ``_CLEAN`` ... ``_MODIFIED``."""
    worst = _CLEAN
    mode_mask = _TYPE_MASK | (0o100 if index.executable_bits else 0)
    for entry in index.entries:
        try:
            info = os.lstat(entry.path)
        except (FileNotFoundError, NotADirectoryError):
            return _MODIFIED  # deleted
        except OSError:
            worst = max(worst, _UNREADABLE)
            continue
        mode = info.st_mode
        if entry.quick == (
            mode & mode_mask,
            info.st_size,
            info.st_mtime_ns,
            info.st_ctime_ns,
            info.st_ino & _LOW_32,
        ):
            continue  # the common case, in one comparison
        if entry.symlink:
            if not (stat.S_ISLNK(mode) or stat.S_ISREG(mode)):  # core.symlinks=false: a file
                return _MODIFIED
        elif not stat.S_ISREG(mode) or (
            index.executable_bits and bool(mode & 0o100) != entry.executable
        ):
            return _MODIFIED
        if info.st_size & _LOW_32 != entry.size:
            if entry.size:
                return _MODIFIED
            # size 0 in the index: an empty file, or one git found racily clean and
            # "smudged" so that it is read again: only the content tells
        elif not entry.racy and _same_stat(entry, info):
            continue
        same = _same_blob(entry, info, algorithm)
        if same is None:
            worst = max(worst, _UNREADABLE)
        elif not same:
            worst = _DIFFERS
    return worst


# -- the commit's tree --------------------------------------------------------------------


def _read_at(path: str, offset: int, length: int) -> bytes | None:
    try:
        with open(path, "rb") as handle:  # noqa: PTH123
            handle.seek(offset)
            return handle.read(length)
    except OSError:
        return None


def _packed_offset(idx_path: str, name: bytes) -> int | None:
    """The offset of object ``name`` in the pack of index ``idx_path`` (version 2)."""
    size = len(name)
    try:
        with open(idx_path, "rb") as handle:  # noqa: PTH123
            header = handle.read(8 + 256 * 4)
            if len(header) < 8 + 256 * 4 or header[:8] != b"\xfftOc\0\0\0\2":
                return None
            fanout = struct.unpack_from(">256I", header, 8)
            first = fanout[name[0] - 1] if name[0] else 0
            last, total = fanout[name[0]], fanout[255]
            handle.seek(len(header) + first * size)
            names = handle.read((last - first) * size)
            low, high = 0, last - first
            while low < high:
                middle = (low + high) // 2
                if names[middle * size : (middle + 1) * size] < name:
                    low = middle + 1
                else:
                    high = middle
            if names[low * size : (low + 1) * size] != name:
                return None
            offsets = len(header) + total * (size + 4)
            handle.seek(offsets + (first + low) * 4)
            offset = int.from_bytes(handle.read(4), "big")
            if offset & 0x80000000:  # in the table of large offsets
                handle.seek(offsets + total * 4 + (offset & 0x7FFFFFFF) * 8)
                offset = int.from_bytes(handle.read(8), "big")
    except (OSError, struct.error):
        return None
    return offset


def _packed_object(pack: bytes) -> bytes | None:
    """The body of a commit stored whole at the start of ``pack``; ``None`` otherwise."""
    import zlib  # noqa: PLC0415 - only the dirty check reads objects

    byte = pack[0]
    size, shift, pos = byte & 0x0F, 4, 1
    try:
        while byte & 0x80:
            byte = pack[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
        if (pack[0] >> 4) & 7 != 1:
            return None  # not a commit stored whole (a delta): left to git
        body = zlib.decompressobj().decompress(pack[pos:])
    except (IndexError, zlib.error):
        return None
    return body if len(body) >= size else None  # larger than was read: left to git


def _packed_commit(common: str, name: bytes) -> bytes | None:
    """The body of commit ``name`` from a pack, or ``None`` (not there, or a delta)."""
    folder = os.path.join(common, "objects", "pack")  # noqa: PTH118
    try:
        with os.scandir(folder) as found:
            indexes = sorted(entry.name for entry in found if entry.name.endswith(".idx"))
    except OSError:
        return None
    for index in indexes:
        offset = _packed_offset(os.path.join(folder, index), name)  # noqa: PTH118
        if offset is not None:
            pack = _read_at(os.path.join(folder, index[:-4] + ".pack"), offset, 64 << 10)  # noqa: PTH118
            return _packed_object(pack) if pack else None
    return None


def commit_tree(common: str, commit: str) -> bytes | None:
    """The tree of ``commit`` (hex), read from the object store under ``common``, or ``None``."""
    import zlib  # noqa: PLC0415 - only the dirty check reads objects

    loose = _read_bytes(os.path.join(common, "objects", commit[:2], commit[2:]))  # noqa: PTH118
    body: bytes | None
    if loose is not None:
        try:
            header, _, body = zlib.decompress(loose).partition(b"\0")
        except zlib.error:
            return None
        if not header.startswith(b"commit "):
            return None
    else:
        body = _packed_commit(common, bytes.fromhex(commit))
    if body is None or not body.startswith(b"tree "):
        return None
    try:
        return bytes.fromhex(body[5 : body.index(b"\n")].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None


# -- git itself, when the files cannot tell -------------------------------------------------


def git_status_dirty(worktree: str, git_dir: str) -> bool | None:
    """Ask ``git status`` whether tracked files differ from the commit; ``None``: no answer.

    Reads only (``--no-optional-locks``: the index file is not refreshed), ignores
    untracked files and submodules, gives up after :data:`GIT_STATUS_TIMEOUT`.
    """
    import subprocess  # noqa: PLC0415 - spawned only when the files cannot tell

    environment = {
        key: value for key, value in os.environ.items() if key not in _GIT_LOCATION_VARIABLES
    }
    environment["GIT_OPTIONAL_LOCKS"] = "0"
    command = [
        "git",
        f"--git-dir={git_dir}",
        f"--work-tree={worktree}",
        "--no-optional-locks",
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--ignore-submodules=all",
    ]
    try:
        done = subprocess.run(
            command,
            cwd=worktree,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=GIT_STATUS_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return bool(done.stdout.strip())


class WorktreeCheck:
    """Tells whether one repository's tracked files differ from a commit (see the module).

    Remembers the parsed index while the index and config files are unchanged, and
    each commit's tree once read; every call ``lstat``-s every tracked file.
    """

    __slots__ = ("_index", "_trees")

    def __init__(self) -> None:
        self._index: tuple[tuple[object, ...], _Index | None] | None = None
        self._trees: dict[str, bytes | None] = {}

    def dirty(self, worktree: str, git_dir: str, common: str, commit: str) -> bool | None:
        """Return whether the tree at ``worktree`` differs from ``commit``; ``None``: unknown.

        ``git_dir`` holds the index (a linked worktree's own folder), ``common`` the
        objects and config (the main ``.git``).
        """
        hash_size = len(commit) // 2
        index = self._read_index(worktree, git_dir, common, hash_size)
        if index is None:
            return git_status_dirty(worktree, git_dir)
        if not index.settled:
            return True  # a conflicted merge, or a file added with --intent-to-add
        change = _worktree_change(index, "sha1" if hash_size == 20 else "sha256")
        if change == _MODIFIED:
            return True
        staged = self._staged(common, commit, index)
        if staged or (staged is False and change == _CLEAN):
            return bool(staged)
        answer = git_status_dirty(worktree, git_dir)
        if answer is None and change == _DIFFERS:
            return True  # the bytes differ; only a content filter could make them equal
        return answer

    def _staged(self, common: str, commit: str, index: _Index) -> bool | None:
        """Whether the index differs from the commit; ``None`` when it cannot be told."""
        if index.tree is None:
            return None
        if commit not in self._trees:
            self._trees[commit] = commit_tree(common, commit)
        tree = self._trees[commit]
        return None if tree is None else tree != index.tree

    def _read_index(
        self, worktree: str, git_dir: str, common: str, hash_size: int
    ) -> _Index | None:
        """The parsed index (``None``: missing or unusable), reused while its files stay."""
        index_path = os.path.join(git_dir, "index")  # noqa: PTH118
        config_key = _file_key(os.path.join(common, "config"))  # noqa: PTH118
        key = (worktree, hash_size, config_key, _file_key(index_path))
        if self._index is not None and self._index[0] == key and key[-1] is not None:
            return self._index[1]
        try:
            with open(index_path, "rb") as handle:  # noqa: PTH123
                data = handle.read()
                info = os.fstat(handle.fileno())
        except OSError:
            return None
        key = (worktree, hash_size, config_key, _file_key_of(info))
        try:
            index: _Index | None = _parse_index(
                data, worktree, hash_size, info.st_mtime_ns, _trusts_executable_bit(common)
            )
        except _Unusable:
            index = None
        self._index = (key, index)
        return index
