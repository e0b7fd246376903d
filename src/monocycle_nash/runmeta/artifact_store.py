"""The files of each run: ``result/<run_id>/`` with ``input/``, ``output/``, ``logs/``
and ``meta.json``.

The run id alone decides the folder (the database stores no path). A run folder is
created only if it does not exist yet, so two runs never share one. ``meta.json`` is
always written whole: to a temporary file in the same folder, then ``os.replace``d over
the old one, so a reader sees the old or the new file, never half of one; the temporary
file is removed when the write fails. No ``fsync`` is issued: after a power loss the
newest meta.json may be lost, but never a truncated mixture (``check --repair``
rewrites it from the database). Every write failure (disk full, I/O error,
permissions) becomes :class:`ArtifactWriteError` naming the path.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO, Final

from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    InputNotFoundError,
    InputReadError,
    MetaCorruptError,
    MetaNotFoundError,
    RunDirExistsError,
)
from monocycle_nash.runmeta.models import InputSnapshotInfo

__all__ = [
    "INPUT_DIR",
    "LOGS_DIR",
    "MERGED_INPUT",
    "META_FILE",
    "OUTPUT_DIR",
    "STDERR_LOG",
    "STDOUT_LOG",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "UNREADABLE_SUFFIX",
    "RunArtifactStore",
    "is_temp_file",
    "temp_file_writer",
]

INPUT_DIR: Final = "input"
OUTPUT_DIR: Final = "output"
LOGS_DIR: Final = "logs"
META_FILE: Final = "meta.json"
MERGED_INPUT: Final = "merged_input.toml"
STDOUT_LOG: Final = "stdout.log"
STDERR_LOG: Final = "stderr.log"
TEMP_PREFIX: Final = ".meta.json."
"""Temporary meta.json files are named ``.meta.json.<pid>.<n>.tmp``."""
TEMP_SUFFIX: Final = ".tmp"
UNREADABLE_SUFFIX: Final = ".unreadable"
"""An unreadable meta.json is kept as ``meta.json.unreadable`` (``.2``, ... if taken)."""

_CHUNK: Final = 1 << 20
_temp_counter = itertools.count()


def is_temp_file(name: str) -> bool:
    """Tell whether a file name is a temporary meta.json left by an interrupted write."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def temp_file_writer(name: str) -> int | None:
    """Return the pid of the process that named a temporary meta.json, or ``None``."""
    pid = name[len(TEMP_PREFIX) : -len(TEMP_SUFFIX)].split(".", 1)[0]
    return int(pid) if pid.isdigit() else None


def _copy_hashing(source: Path, target: Path, digest: Any) -> None:
    """Copy ``source`` to a new ``target``, feeding the bytes to ``digest``."""
    try:
        reader: BinaryIO = source.open("rb")
    except FileNotFoundError:
        raise InputNotFoundError(source) from None
    except OSError as err:
        raise InputReadError(source, err) from err
    with reader:
        try:
            writer: BinaryIO = target.open("xb")
        except OSError as err:
            raise ArtifactWriteError(target, err) from err
        with writer:
            while True:
                try:
                    chunk = reader.read(_CHUNK)
                except OSError as err:
                    raise InputReadError(source, err) from err
                if not chunk:
                    break
                digest.update(chunk)
                try:
                    writer.write(chunk)
                except OSError as err:
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
        src_input_path: str | Path | None = None,
        merged_input_bytes: bytes | None = None,
    ) -> InputSnapshotInfo:
        """Freeze the run's input into ``input/`` and describe what was stored.

        A file is copied to ``input/<name>``, a folder to ``input/<name>/`` (links
        followed). ``merged_input_bytes`` (the resolved input of a split
        configuration) goes to ``input/merged_input.toml`` and is then the stored file
        whose checksum is reported. For a folder alone, the checksum is the SHA-256 of
        the lines ``<relative path>\\0<file sha256>\\n`` of its files in sorted order.
        A folder holding the run folder itself (e.g. the result root) is refused.
        Raises :class:`InputNotFoundError`, :class:`InputReadError` or
        :class:`ArtifactWriteError`.
        """
        import hashlib  # noqa: PLC0415 - only runs with an input pay for it

        if src_input_path is None and merged_input_bytes is None:
            raise ValueError("give src_input_path, merged_input_bytes or both")
        input_dir = self.run_dir(run_id) / INPUT_DIR
        source: Path | None = None
        stored = ""
        checksum = ""
        if src_input_path is not None:
            source = Path(src_input_path).absolute()
            if not source.exists():
                raise InputNotFoundError(source)
            if merged_input_bytes is not None and source.name == MERGED_INPUT:
                raise ArtifactWriteError(
                    input_dir / MERGED_INPUT, "the input's name clashes with the merged input"
                )
            target = input_dir / source.name
            if source.is_dir():
                if input_dir.resolve().is_relative_to(source.resolve()):
                    # The copy would land inside what is being copied.
                    raise InputReadError(source, f"it holds the run folder {input_dir.parent}")
                tree = hashlib.sha256()
                for relative in _walk_files(source):
                    file_digest = hashlib.sha256()
                    try:
                        (target / relative).parent.mkdir(parents=True, exist_ok=True)
                    except OSError as err:
                        raise ArtifactWriteError(target / relative, err) from err
                    _copy_hashing(source / relative, target / relative, file_digest)
                    tree.update(f"{relative.as_posix()}\0{file_digest.hexdigest()}\n".encode())
                try:
                    target.mkdir(exist_ok=True)  # an empty folder is still a snapshot
                except OSError as err:
                    raise ArtifactWriteError(target, err) from err
                checksum = tree.hexdigest()
            else:
                file_digest = hashlib.sha256()
                _copy_hashing(source, target, file_digest)
                checksum = file_digest.hexdigest()
            stored = f"{INPUT_DIR}/{source.name}"
        if merged_input_bytes is not None:
            merged = input_dir / MERGED_INPUT
            try:
                with merged.open("xb") as handle:
                    handle.write(merged_input_bytes)
            except OSError as err:
                raise ArtifactWriteError(merged, err) from err
            stored = f"{INPUT_DIR}/{MERGED_INPUT}"
            checksum = hashlib.sha256(merged_input_bytes).hexdigest()
        return InputSnapshotInfo(
            source_path=None if source is None else str(source),
            split_config_applied=merged_input_bytes is not None,
            stored_file=stored,
            checksum_sha256=checksum,
        )

    def write_meta(self, run_id: int, payload: Mapping[str, Any]) -> None:
        """Write the run's meta.json whole (temporary file + ``os.replace``)."""
        text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
        folder = f"{self._root_str}{os.sep}{run_id}{os.sep}"
        path = folder + META_FILE
        temp = f"{folder}{TEMP_PREFIX}{os.getpid()}.{next(_temp_counter)}{TEMP_SUFFIX}"
        try:
            with open(temp, "w", encoding="utf-8") as handle:  # noqa: PTH123 - hot path
                handle.write(text)
            os.replace(temp, path)  # noqa: PTH105 - hot path
        except BaseException as err:
            with suppress(OSError):  # the folder is unwritable: nothing was left behind
                os.unlink(temp)  # noqa: PTH108
            if isinstance(err, OSError):
                raise ArtifactWriteError(path, err) from err
            raise

    def write_initial_meta(self, run_id: int, payload: Mapping[str, Any]) -> None:
        """Write the meta.json of a run that has just started (see :meth:`write_meta`)."""
        self.write_meta(run_id, payload)

    def write_final_meta(self, run_id: int, payload: Mapping[str, Any]) -> None:
        """Write the meta.json of a run that has ended (see :meth:`write_meta`)."""
        self.write_meta(run_id, payload)

    def read_meta(self, run_id: int) -> dict[str, Any]:
        """Return the run's meta.json as a dictionary.

        Raises :class:`MetaNotFoundError` when it is missing and
        :class:`MetaCorruptError` when it is not a JSON object.
        """
        path = self.meta_path(run_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise MetaNotFoundError(path) from None
        except OSError as err:
            raise MetaCorruptError(path, err.strerror or str(err)) from err
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise MetaCorruptError(path, f"not valid JSON ({err})") from err
        if not isinstance(data, dict):
            raise MetaCorruptError(path, "not a JSON object")
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
        """Return the temporary meta.json files an interrupted write left in the run folder."""
        try:
            entries = list(os.scandir(self.run_dir(run_id)))
        except OSError:
            return []
        return sorted(Path(e.path) for e in entries if is_temp_file(e.name))

    def run_ids_on_disk(self) -> list[int]:
        """Return the ids of the run folders below ``result_root``, ascending."""
        try:
            entries = list(os.scandir(self._root))
        except OSError:
            return []
        ids = [
            int(e.name)
            for e in entries
            if e.name.isdigit() and str(int(e.name)) == e.name and e.is_dir()
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
