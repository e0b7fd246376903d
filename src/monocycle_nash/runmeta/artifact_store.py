"""The files of each run: its folder, input snapshot, meta.json, logs, atomic writes.

Run folders
-----------

The files of each run: ``result/<run_id>/`` with ``input/``, ``output/``, ``logs/``
and ``meta.json``.

The run id alone decides the folder (the database stores no path). A run folder is
created only if it does not exist yet, so two runs never share one. ``meta.json`` is
always written whole: to a temporary file in the same folder, then ``os.replace``d over
the old one, so a reader sees the old or the new file, never half of one; the temporary
file is removed when the write fails. No ``fsync`` is issued: after a power loss the
newest meta.json may be lost, but never a truncated mixture (``check --repair``
rewrites it from the database). Every write failure (disk full, I/O error,
permissions) becomes :class:`ArtifactWriteError` naming the path.

The content of meta.json
------------------------

The content of ``meta.json``: built from the database row plus what only files hold.

Fields (top level, in this order):

- ``schema_version``: :data:`META_SCHEMA_VERSION`.
- ``run_id``, ``created_at``, ``started_at``, ``ended_at``, ``status``, ``command``,
  ``git_commit``, ``note``, ``project_id``, ``updated_at``, ``project_path``,
  ``parent_run_id``: exactly the database row
  (:data:`~monocycle_nash.runmeta.models.RUN_FIELDS`). ``parent_run_id`` is ``null``
  for an ordinary run; a meta.json written before it existed lacks it, which reads as
  ``null``.
- ``input``: :class:`InputSnapshotInfo` as an object, or
  ``null`` when the run had no input.
- ``process``: ``{"host", "pid", "start_time", "started_at"}`` of the process that ran.
- ``provenance``: the package version, Python, platform, git commit and dirtiness, and
  the process's own command line, written at the start
  (:class:`~monocycle_nash.runmeta.provenance.Provenance`; ``null`` for runs recorded
  before it existed).
- ``reason``: why the run failed or was killed (``null`` otherwise).
- ``warnings``: list of strings (e.g. a project link that could not be made).
- ``metrics``: the run's headline figures by key, as the database holds them.
- any extra fields the program added (``RunContext.extra``).

What show-run reports about a run folder
----------------------------------------

What ``show-run`` reports about a run folder: its meta.json and the files it holds.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    InputNotFoundError,
    InputReadError,
    MetaCorruptError,
    MetaNotFoundError,
    RunDirExistsError,
    RunDirNotFoundError,
)
from monocycle_nash.runmeta.models import RUN_FIELDS, RunRecord

__all__ = [
    "INPUT_DIR",
    "LOGS_DIR",
    "MERGED_INPUT",
    "META_FILE",
    "META_SCHEMA_VERSION",
    "META_SIZE_LIMIT",
    "OUTPUT_DIR",
    "RESERVED_FIELDS",
    "STDERR_LOG",
    "STDOUT_LOG",
    "TEMP_SUFFIX",
    "UNREADABLE_SUFFIX",
    "InputFile",
    "InputSnapshotInfo",
    "RunArtifactStore",
    "StoredInput",
    "describes_another_run",
    "is_temp_file",
    "list_files",
    "meta_mismatches",
    "read_meta",
    "read_regular_file",
    "sync_row",
    "temp_file_writer",
    "write_file_atomically",
]


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file (or folder) a run reads, and its role: ``input``, ``settings``, ``game``, ..."""

    role: str
    path: Path


@dataclass(frozen=True, slots=True)
class StoredInput:
    """One input as frozen into ``input/``: its role, where it came from, its digest.

    ``source`` is the absolute path read; ``stored_file`` is relative to the run
    folder (``input/...``, ``/`` separators); ``sha256`` is the file's digest (for a
    folder, a digest over its relative paths and file digests).
    """

    role: str
    source: str
    stored_file: str
    sha256: str


@dataclass(frozen=True, slots=True)
class InputSnapshotInfo:
    """What was frozen into ``input/``; stored in meta.json under ``"input"``.

    ``source_path`` is the absolute path of the first input (``None`` when only a
    merged input was given); ``stored_file`` and ``checksum_sha256`` describe the
    input a re-run starts from: the merged input when there is one, else the first
    input. ``files`` lists every stored input file in order (the merged one aside).
    """

    source_path: str | None
    split_config_applied: bool
    stored_file: str
    checksum_sha256: str
    files: tuple[StoredInput, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the meta.json form (``"input"``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputSnapshotInfo:
        """Rebuild the info from its meta.json form."""
        files = data.get("files") or ()
        return cls(
            source_path=data.get("source_path"),
            split_config_applied=bool(data.get("split_config_applied", False)),
            stored_file=str(data["stored_file"]),
            checksum_sha256=str(data["checksum_sha256"]),
            files=tuple(StoredInput(**entry) for entry in files),
        )


# -- run folders --------------------

INPUT_DIR: Final = "input"
OUTPUT_DIR: Final = "output"
LOGS_DIR: Final = "logs"
META_FILE: Final = "meta.json"
MERGED_INPUT: Final = "merged_input.toml"
STDOUT_LOG: Final = "stdout.log"
STDERR_LOG: Final = "stderr.log"
TEMP_SUFFIX: Final = ".tmp"
"""Every file is written through a temporary ``.<name>.<pid>.<random>.tmp`` beside it."""
UNREADABLE_SUFFIX: Final = ".unreadable"
"""An unreadable meta.json is kept as ``meta.json.unreadable`` (``.2``, ... if taken)."""

_CHUNK: Final = 1 << 20
_MAX_RUN_ID: Final = 2**63 - 1
"""SQLite's largest integer: a folder named with a larger number is not a run folder."""
META_SIZE_LIMIT: Final = 16 << 20
"""A meta.json larger than this (16 MiB) is not read: no run writes one near that."""
# O_NOFOLLOW where the system has it: a symlink planted at a name we create is refused.
_NO_FOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_CLOSE_ON_EXEC: Final = getattr(os, "O_CLOEXEC", 0)
_NON_BLOCKING: Final = getattr(os, "O_NONBLOCK", 0)
_BINARY: Final = getattr(os, "O_BINARY", 0)


def _opener(mode: int = 0o666) -> Any:
    """An ``open(..., opener=)`` that never follows a symlink and creates with ``mode``.

    ``"x"`` already asks for ``O_CREAT | O_EXCL``; ``mode`` is masked by the umask.
    """

    def open_file(path: str, flags: int) -> int:
        return os.open(path, flags | _NO_FOLLOW | _CLOSE_ON_EXEC, mode)

    return open_file


_CREATE = _opener()


def write_file_atomically(path: str | Path, data: str | bytes | Iterable[bytes]) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole, never leaving half a file.

    ``data`` may also be an iterable of byte strings, written one after another: a large
    file is then streamed without ever being held whole (an exception the iterable
    raises is a failed write like any other).

    The bytes go to a temporary ``.<name>.<pid>.<random>.tmp`` in the same folder,
    created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (where the system has it) under a
    name no other process can guess, so a symlink planted there is never followed;
    it is then ``os.replace``d over ``path``: a reader sees the old or the new file. The
    temporary file is removed when the write fails; an ``OSError`` (disk full, I/O
    error, permissions) becomes :class:`ArtifactWriteError` naming ``path``. Files
    follow the umask (not ``tempfile``'s private 0600). Every file runmeta writes,
    and the results the main job writes, go through here.
    """
    # Plain strings and os calls: meta.json is written twice per run (hot path).
    target = os.fspath(path)
    folder, name = os.path.split(target)
    token = os.urandom(6).hex()  # unpredictable: no name to plant a link at in advance
    temp = os.path.join(folder, f".{name}.{os.getpid()}.{token}{TEMP_SUFFIX}")  # noqa: PTH118
    try:
        with open(temp, "xb", opener=_CREATE) as handle:
            if isinstance(data, str):
                handle.write(data.encode())
            elif isinstance(data, bytes | bytearray | memoryview):
                handle.write(data)
            else:
                handle.writelines(data)
        os.replace(temp, target)  # noqa: PTH105 - hot path
    except BaseException as err:
        with suppress(OSError):  # the folder is unwritable: nothing was left behind
            os.unlink(temp)  # noqa: PTH108
        if isinstance(err, OSError):
            raise ArtifactWriteError(target, err) from err
        raise


def read_regular_file(path: str | Path, limit: int) -> bytes:
    """Return the bytes of ``path`` when it is a regular file of at most ``limit`` bytes.

    A symbolic link is not followed, and a FIFO or a device (``/dev/zero``) is never
    read: opening does not block and the file's type is checked first, so a planted
    name never hangs or floods a reader. Raises ``FileNotFoundError`` when there is
    nothing, ``ValueError`` (its message says why) for something that is not a
    regular file or is too large, and ``OSError`` when reading fails.
    """
    flags = os.O_RDONLY | _NO_FOLLOW | _NON_BLOCKING | _CLOSE_ON_EXEC | _BINARY
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP and Path(path).is_symlink():
            raise ValueError("it is a symbolic link, not a regular file") from err
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"it is larger than {limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # it grew while being read
        raise ValueError(f"it is larger than {limit:,} bytes")
    return b"".join(chunks)


def is_temp_file(name: str) -> bool:
    """Tell whether a file name is a temporary file left by an interrupted write."""
    return temp_file_writer(name) is not None


def temp_file_writer(name: str) -> int | None:
    """Return the pid of the process that named a temporary file, or ``None``."""
    if not name.startswith(".") or not name.endswith(TEMP_SUFFIX):
        return None
    parts = name[: -len(TEMP_SUFFIX)].rsplit(".", 2)
    # The last part: a random hex token (a counter before: digits, also hex).
    token = parts[-1]
    if (
        len(parts) != 3
        or len(parts[0]) < 2
        or not (parts[1].isascii() and parts[1].isdigit())
        or not token
        or token.strip("0123456789abcdef")
    ):
        return None
    return int(parts[1])


def _copy_hashing(source: Path, target: Path, digest: Any) -> None:
    """Copy ``source`` to a new ``target``, feeding the bytes to ``digest``.

    ``target`` gets the permission bits of ``source`` (less the umask's): a private
    input stays private in its copy.
    """
    try:
        reader: BinaryIO = source.open("rb")
        mode = os.fstat(reader.fileno()).st_mode & 0o777
    except FileNotFoundError:
        raise InputNotFoundError(source) from None
    except OSError as err:
        raise InputReadError(source, err) from err
    with reader:
        try:
            writer: BinaryIO = open(target, "xb", opener=_opener(mode))  # noqa: SIM115
        except OSError as err:
            raise ArtifactWriteError(target, err) from err
        try:
            with writer:
                while True:
                    try:
                        chunk = reader.read(_CHUNK)
                    except OSError as err:
                        raise InputReadError(source, err) from err
                    if not chunk:
                        break
                    digest.update(chunk)
                    writer.write(chunk)
        except OSError as err:  # a full disk often shows only when closing flushes the end
            raise ArtifactWriteError(target, err) from err


def _walk_files(folder: Path) -> Iterator[Path]:
    """Files below ``folder`` (following links), sorted, as paths relative to it.

    A sub-folder that cannot be listed raises :class:`InputReadError`: ``os.walk``
    would skip it, and the snapshot would lack its files without a word.
    """

    def unreadable(err: OSError) -> None:
        raise InputReadError(err.filename or folder, err) from err

    for current, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=True):
        dirnames.sort()
        base = Path(current).relative_to(folder)
        for name in sorted(filenames):
            yield base / name


def _free_name(name: str, role: str, taken: set[str]) -> str:
    """``name``, else ``<role>-<name>``, else ``<role>-<n>-<name>``: the first not taken."""
    if name not in taken:
        return name
    candidate = f"{role}-{name}"
    number = 1
    while candidate in taken:
        number += 1
        candidate = f"{role}-{number}-{name}"
    return candidate


def _mkdir_like(source: Path, target: Path) -> None:
    """Create the folder ``target`` with the permission bits of ``source`` (owner rwx kept)."""
    try:
        mode = (source.stat().st_mode & 0o777) | 0o700  # the copy must be fillable
    except OSError as err:
        raise InputReadError(source, err) from err
    try:
        target.mkdir(mode=mode)
    except FileExistsError:
        pass
    except OSError as err:
        raise ArtifactWriteError(target, err) from err


def _copy_folder_hashing(source: Path, target: Path, input_dir: Path) -> str:
    """Copy the folder ``source`` to ``target``; return the digest of its files.

    Files and folders keep their permission bits (less the umask's).
    """
    import hashlib  # noqa: PLC0415 - only runs with an input pay for it

    if input_dir.resolve().is_relative_to(source.resolve()):
        # The copy would land inside what is being copied.
        raise InputReadError(source, f"it holds the run folder {input_dir.parent}")
    tree = hashlib.sha256()
    _mkdir_like(source, target)  # an empty folder is still a snapshot
    made = {Path()}
    for relative in _walk_files(source):
        file_digest = hashlib.sha256()
        for folder in reversed(relative.parents):
            if folder not in made:
                _mkdir_like(source / folder, target / folder)
                made.add(folder)
        _copy_hashing(source / relative, target / relative, file_digest)
        tree.update(f"{relative.as_posix()}\0{file_digest.hexdigest()}\n".encode())
    return tree.hexdigest()


def _common_mode(inputs: Sequence[InputFile]) -> int:
    """The permission bits every input file allows (``0o666`` without input files)."""
    mode = 0o666
    for entry in inputs:
        with suppress(OSError):  # a missing input is reported when it is copied
            info = Path(entry.path).stat()
            if stat.S_ISREG(info.st_mode):
                mode &= info.st_mode
    return mode


class RunArtifactStore:
    """Creates and writes the run folders below ``result_root``."""

    __slots__ = ("_root", "_root_str")

    def __init__(self, result_root: str | Path) -> None:
        self._root = Path(result_root)
        self._root_str = str(self._root)

    @property
    def result_root(self) -> Path:
        """The folder holding one sub-folder per run."""
        return self._root

    def run_dir(self, run_id: int) -> Path:
        """Return ``result_root/<run_id>`` (whether or not it exists)."""
        return self._root / str(run_id)

    def meta_path(self, run_id: int) -> Path:
        """Return the path of the run's meta.json."""
        return self._root / str(run_id) / META_FILE

    def log_path(self, run_id: int, name: str = STDERR_LOG) -> Path:
        """Return the path of a log file of the run (``stdout.log`` or ``stderr.log``)."""
        return self._root / str(run_id) / LOGS_DIR / name

    def create_run_dir(self, run_id: int) -> Path:
        """Create the run folder with ``input/``, ``output/`` and ``logs/``; return it.

        Raises :class:`RunDirExistsError` when the folder already exists (it is left
        untouched) and :class:`ArtifactWriteError` when it cannot be created.
        """
        # Plain strings and os calls: this runs for every run (see the speed notes).
        run_dir = f"{self._root_str}{os.sep}{run_id}"
        try:
            try:
                os.mkdir(run_dir)  # noqa: PTH102 - hot path, no Path objects
            except FileNotFoundError:
                self._root.mkdir(parents=True, exist_ok=True)
                os.mkdir(run_dir)  # noqa: PTH102
        except FileExistsError:
            raise RunDirExistsError(run_dir) from None
        except OSError as err:
            raise ArtifactWriteError(run_dir, err) from err
        for name in (INPUT_DIR, OUTPUT_DIR, LOGS_DIR):
            sub = f"{run_dir}{os.sep}{name}"
            try:
                os.mkdir(sub)  # noqa: PTH102
            except OSError as err:
                raise ArtifactWriteError(sub, err) from err
        return Path(run_dir)

    def save_input_snapshot(
        self,
        run_id: int,
        inputs: Sequence[InputFile],
        merged_input_bytes: bytes | None = None,
    ) -> InputSnapshotInfo:
        """Freeze the run's inputs into ``input/`` and describe what was stored.

        Each input keeps its name (``input/<name>``); a name already taken gets the
        role as a prefix (``input/settings-<name>``, then ``settings-2-<name>``, ...). A
        folder is copied whole, links followed. ``merged_input_bytes`` (the resolved
        input of a split configuration) is ``input/merged_input.toml``. Every stored
        file's SHA-256 is recorded; a folder's is the SHA-256 of the lines
        ``<relative path>\\0<file sha256>\\n`` of its files in sorted order. A folder
        holding the run folder itself (e.g. the result root) is refused. Raises
        :class:`InputNotFoundError`, :class:`InputReadError` or
        :class:`ArtifactWriteError`.
        """
        import hashlib  # noqa: PLC0415 - only runs with an input pay for it

        if not inputs and merged_input_bytes is None:
            raise ValueError("give inputs, merged_input_bytes or both")
        input_dir = self.run_dir(run_id) / INPUT_DIR
        taken: set[str] = set()
        merged: StoredInput | None = None
        if merged_input_bytes is not None:
            target = input_dir / MERGED_INPUT
            try:
                # As private as the most private file it was merged from.
                with open(target, "xb", opener=_opener(_common_mode(inputs))) as handle:
                    handle.write(merged_input_bytes)
            except OSError as err:
                raise ArtifactWriteError(target, err) from err
            taken.add(MERGED_INPUT)
            digest = hashlib.sha256(merged_input_bytes).hexdigest()
            merged = StoredInput("merged", "", f"{INPUT_DIR}/{MERGED_INPUT}", digest)
        stored: list[StoredInput] = []
        for entry in inputs:
            source = Path(entry.path).absolute()
            if not source.exists():
                raise InputNotFoundError(source)
            name = _free_name(source.name, entry.role, taken)
            taken.add(name)
            target = input_dir / name
            if source.is_dir():
                checksum = _copy_folder_hashing(source, target, input_dir)
            else:
                digest_of_file = hashlib.sha256()
                _copy_hashing(source, target, digest_of_file)
                checksum = digest_of_file.hexdigest()
            stored.append(StoredInput(entry.role, str(source), f"{INPUT_DIR}/{name}", checksum))
        main = merged if merged is not None else stored[0]
        return InputSnapshotInfo(
            source_path=stored[0].source if stored else None,
            split_config_applied=merged is not None,
            stored_file=main.stored_file,
            checksum_sha256=main.sha256,
            files=tuple(stored),
        )

    def write_meta(self, run_id: int, payload: Mapping[str, Any]) -> None:
        """Write the run's meta.json whole (see :func:`write_file_atomically`)."""
        text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
        write_file_atomically(f"{self._root_str}{os.sep}{run_id}{os.sep}{META_FILE}", text)

    @contextmanager
    def meta_lock(self, run_id: int) -> Iterator[None]:
        """Hold the run's meta.json lock: one process at a time reads, merges and writes it.

        An exclusive ``flock`` on the run folder itself: no lock file is made, so taking
        the lock writes nothing (a folder that is not the run's own stays untouched),
        and the lock goes with the process if it dies. Raises
        :class:`RunDirNotFoundError` when the folder does not exist. Where ``fcntl`` is
        missing (Windows), or the file system refuses ``flock``, the block runs
        unlocked: two writers at once can then drop each other's fields, which
        ``check`` reports and ``check --repair`` rewrites from the database.
        """
        try:
            import fcntl  # noqa: PLC0415 - POSIX only
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        path = f"{self._root_str}{os.sep}{run_id}"
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOSE_ON_EXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise RunDirNotFoundError(path) from None
        except OSError as err:
            raise ArtifactWriteError(path, err) from err
        try:
            with suppress(OSError):  # e.g. ENOLCK: unlocked, as documented above
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def read_meta(self, run_id: int) -> dict[str, Any]:
        """Return the run's meta.json as a dictionary.

        Raises :class:`MetaNotFoundError` when it is missing and
        :class:`MetaCorruptError` when it is not a JSON object, or not a regular file
        of at most :data:`META_SIZE_LIMIT` bytes (a symlink, a FIFO, a device are
        never read; see :func:`read_regular_file`).
        """
        path = self.meta_path(run_id)
        try:
            raw = read_regular_file(path, META_SIZE_LIMIT)
        except FileNotFoundError:
            raise MetaNotFoundError(path) from None
        except ValueError as err:
            raise MetaCorruptError(path, str(err)) from err
        except OSError as err:
            raise MetaCorruptError(path, err.strerror or str(err)) from err
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise MetaCorruptError(path, f"not valid JSON ({err})") from err
        except RecursionError:
            raise MetaCorruptError(path, "not valid JSON (nested too deeply)") from None
        if not isinstance(data, dict):
            raise MetaCorruptError(path, "not a JSON object")
        # Deep nesting that json.loads survives can still break whoever writes it back
        # or prints it (json.dumps with indent recurses in Python): refuse it here, once.
        if raw.count(b"[") + raw.count(b"{") > META_MAX_DEPTH and _nested_deeper(data):
            raise MetaCorruptError(path, f"nested more than {META_MAX_DEPTH} levels deep")
        # An escaped lone surrogate ("\udcff") reads fine but can never be written back.
        if b"\\ud" in raw or b"\\uD" in raw:
            try:
                json.dumps(data, ensure_ascii=False).encode()
            except UnicodeEncodeError:
                raise MetaCorruptError(path, "not valid JSON (a lone surrogate)") from None
        return data

    def set_aside_meta(self, run_id: int) -> Path:
        """Rename the run's (unreadable) meta.json to ``meta.json.unreadable``; return it.

        A name already taken gets a number (``meta.json.unreadable.2``): nothing is
        overwritten. Raises :class:`ArtifactWriteError` when the rename fails.
        """
        path = self.meta_path(run_id)
        target = path.with_name(META_FILE + UNREADABLE_SUFFIX)
        number = 1
        while target.exists():
            number += 1
            target = path.with_name(f"{META_FILE}{UNREADABLE_SUFFIX}.{number}")
        try:
            path.rename(target)
        except OSError as err:
            raise ArtifactWriteError(path, err) from err
        return target

    def append_log(self, run_id: int, text: str, name: str = STDERR_LOG) -> None:
        """Append ``text`` to a log file of the run (``stderr.log`` by default)."""
        path = self.log_path(run_id, name)
        try:
            with path.open("a", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
        except OSError as err:
            raise ArtifactWriteError(path, err) from err

    def leftover_temp_files(self, run_id: int) -> list[Path]:
        """Return the temporary files an interrupted write left in the run folder.

        Looks beside meta.json and below ``output/`` (the folders written through
        :func:`write_file_atomically`), never in ``input/``, which holds the user's files.
        """
        run_dir = self.run_dir(run_id)
        found: list[Path] = []
        with suppress(OSError):
            found.extend(Path(e.path) for e in os.scandir(run_dir) if is_temp_file(e.name))
        for folder, _, names in os.walk(run_dir / OUTPUT_DIR):
            found.extend(Path(folder, name) for name in names if is_temp_file(name))
        return sorted(found)

    def run_ids_on_disk(self) -> list[int]:
        """Return the ids of the run folders below ``result_root``, ascending."""
        try:
            entries = list(os.scandir(self._root))
        except OSError:
            return []
        # A run id as the database writes it: ASCII digits, no leading zero, at most
        # SQLite's largest integer ("٣", "007" or "99999999999999999999999" are not).
        ids = [
            int(e.name)
            for e in entries
            if e.name.isascii()
            and e.name.isdigit()
            and str(int(e.name)) == e.name
            and int(e.name) <= _MAX_RUN_ID
            and e.is_dir()
        ]
        return sorted(ids)

    def delete_run_dir(self, run_id: int) -> bool:
        """Remove the run folder and everything in it; False when it did not exist."""
        import shutil  # noqa: PLC0415 - deleting is rare; keep the import off the hot path

        run_dir = self.run_dir(run_id)
        if not run_dir.exists() and not run_dir.is_symlink():
            return False
        try:
            if run_dir.is_symlink():
                run_dir.unlink()
            else:
                shutil.rmtree(run_dir)
        except OSError as err:
            raise ArtifactWriteError(run_dir, err) from err
        return True


# -- the content of meta.json --------------------

META_SCHEMA_VERSION: Final = 1
"""Version of the meta.json layout; bumped when a field changes meaning."""

META_MAX_DEPTH: Final = 100
"""Levels of nested objects and arrays beyond which a meta.json is unreadable."""


def _nested_deeper(data: dict[str, Any], limit: int = META_MAX_DEPTH) -> bool:
    """Tell whether ``data`` nests objects and arrays more than ``limit`` levels deep."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


RESERVED_FIELDS: Final = frozenset(
    {
        "schema_version",
        *RUN_FIELDS,
        "input",
        "process",
        "provenance",
        "reason",
        "warnings",
        "metrics",
    }
)
"""Field names the library writes; extra fields with these names are ignored."""


def sync_row(meta: Mapping[str, Any], record: RunRecord) -> dict[str, Any]:
    """Return ``meta`` with every row field replaced by the database's value.

    Everything else (input, process, provenance, reason, warnings, metrics, extras) is kept;
    ``metrics`` is ``{}`` when the file has none (the writer puts the database's in).
    """
    synced: dict[str, Any] = {"schema_version": META_SCHEMA_VERSION}
    synced.update(record.to_dict())
    for key in ("input", "process", "provenance", "reason"):
        synced[key] = meta.get(key)
    warnings = meta.get("warnings")
    synced["warnings"] = list(warnings) if isinstance(warnings, list) else []
    metrics = meta.get("metrics")
    synced["metrics"] = dict(metrics) if isinstance(metrics, dict) else {}
    for key, value in meta.items():
        if key not in RESERVED_FIELDS:
            synced[key] = value
    return synced


_LATER_FIELDS: Final = frozenset({"parent_run_id"})
"""Row fields added after meta.json files were first written: a missing one reads as ``None``."""


def meta_mismatches(meta: Mapping[str, Any], record: RunRecord) -> list[str]:
    """Return the row fields whose meta.json value differs from the database (or is missing).

    A field of :data:`_LATER_FIELDS` that meta.json lacks is ``None``, so the files of
    runs recorded before it existed still agree with their rows.
    """
    row = record.to_dict()
    return [
        name
        for name in RUN_FIELDS
        if (name not in meta and name not in _LATER_FIELDS) or meta.get(name) != row[name]
    ]


def describes_another_run(meta: Mapping[str, Any], record: RunRecord) -> bool:
    """Tell whether ``meta`` belongs to another run than ``record`` (never to be overwritten).

    True for a ``run_id`` or ``created_at`` that is there and differs, as in a folder
    left by an older database; a missing one is damage to repair, not another run.
    """
    return any(
        key in meta and meta[key] != value
        for key, value in (("run_id", record.run_id), ("created_at", record.created_at))
    )


# -- what show-run reports about a run folder --------------------


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
