"""What differs between two runs: inputs, settings, provenance, headline figures, outputs.

``runmeta diff A B`` reads both runs' folders (:func:`~monocycle_nash.runmeta.comparison.load_run`)
and compares, section by section:

- **inputs**: the stored input files, paired by role (``input``, ``settings``,
  ``game``; the one input of a run of a game file counts as its ``game``) and the
  merged input; text files that differ as a unified diff, other files (binary, or
  larger than :data:`TEXT_DIFF_LIMIT`) by SHA-256;
- **settings**: the tables of the merged inputs, key by key (``solver.exact``), less
  what names the input files (``sources``, ``game``, ``game_sha256``);
- **provenance**: meta.json's ``provenance`` object (versions, platform, commit, dirty
  tree, argv), or only the row's ``git_commit`` for a run recorded before it existed;
- **figures**: meta.json's ``metrics`` (the run's headline figures), or for a run
  that recorded none (before metrics existed, or an empty object) its ``result``;
- **outputs**: the ``output/`` trees by SHA-256, with the values of differing JSON files
  side by side (:func:`~monocycle_nash.runmeta.comparison.compare_trees`).

Every field the other parts of runmeta add later is read defensively: a run recorded
before it simply lacks it, which a note says.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

from monocycle_nash.runmeta.artifact_store import (
    INPUT_DIR,
    MERGED_INPUT,
    OUTPUT_DIR,
    read_regular_file,
)
from monocycle_nash.runmeta.cli_format import format_run_table
from monocycle_nash.runmeta.comparison import (
    DEFAULT_VALUE_LIMIT,
    FileDigest,
    RunFolder,
    TreeComparison,
    ValuePair,
    compare_trees,
    file_digest,
    format_tree,
    format_value_table,
    short_digest,
    tree_digests,
)
from monocycle_nash.text import plural, printable

__all__ = [
    "MERGED_PATH",
    "TEXT_DIFF_LIMIT",
    "InputComparison",
    "KeyedSection",
    "RunDiff",
    "StoredFile",
    "diff_runs",
    "format_diff",
]

TEXT_DIFF_LIMIT: Final = 1 << 20
"""Text inputs up to this size (bytes, either run's) are shown as a unified diff."""

MERGED_PATH: Final = f"{INPUT_DIR}/{MERGED_INPUT}"
"""Where a run of a run config keeps its merged input, relative to its folder."""

_MERGED_KEY: Final = "merged input"
_INPUT_KEYS: Final = ("sources", "game", "game_sha256")
"""Merged-input keys that name the input files: compared under inputs, not settings."""
_PROVENANCE_ORDER: Final = (
    "package_version",
    "python_version",
    "python_implementation",
    "platform",
    "git_commit",
    "git_dirty",
    "argv",
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One stored input of a run: where it is in the run folder, its role, its digest
    now (``None`` when it is missing), and the digest meta.json recorded."""

    stored_file: str
    role: str
    digest: FileDigest | None
    recorded_sha256: str | None

    @property
    def changed(self) -> bool:
        """Whether the file on disk no longer has the digest recorded when the run ran."""
        return (
            self.digest is not None
            and self.recorded_sha256 is not None
            and self.digest.sha256 != self.recorded_sha256
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``stored_file``, ``role``, ``sha256`` and ``size`` now (``null``
        when missing), ``recorded_sha256``."""
        return {
            "stored_file": self.stored_file,
            "role": self.role,
            "sha256": None if self.digest is None else self.digest.sha256,
            "size": None if self.digest is None else self.digest.size,
            "recorded_sha256": self.recorded_sha256,
        }


@dataclass(frozen=True, slots=True)
class InputComparison:
    """One input (``game``, ``settings``, ``merged input``...) of two runs.

    ``diff`` holds the unified diff when both are text files that differ; ``note``
    says why they are compared by checksum only, or what is odd about them.
    """

    key: str
    a: StoredFile | None
    b: StoredFile | None
    diff: tuple[str, ...] | None = None
    note: str | None = None

    @property
    def same(self) -> bool:
        """Whether both runs stored this input with the same bytes."""
        return (
            self.a is not None
            and self.b is not None
            and self.a.digest is not None
            and self.a.digest == self.b.digest
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``key``, ``same``, ``a``, ``b``, ``diff`` (lines), ``note``."""
        return {
            "key": self.key,
            "same": self.same,
            "a": None if self.a is None else self.a.to_dict(),
            "b": None if self.b is None else self.b.to_dict(),
            "diff": None if self.diff is None else list(self.diff),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class KeyedSection:
    """Named values of two runs side by side (settings, provenance, figures), and notes
    on what a run did not record."""

    pairs: tuple[ValuePair, ...]
    notes: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        """Whether every value is the same in both runs."""
        return all(pair.same for pair in self.pairs)

    @property
    def differing(self) -> tuple[ValuePair, ...]:
        """The values that differ."""
        return tuple(pair for pair in self.pairs if not pair.same)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``identical``, ``notes``, and every value (``entries``)."""
        return {
            "identical": self.identical,
            "notes": list(self.notes),
            "entries": [pair.to_dict() for pair in self.pairs],
        }


@dataclass(frozen=True, slots=True)
class RunDiff:
    """Everything that differs between runs ``a`` and ``b``, section by section."""

    a: RunFolder
    b: RunFolder
    inputs: tuple[InputComparison, ...]
    settings: KeyedSection
    provenance: KeyedSection
    figures: KeyedSection
    outputs: TreeComparison

    @property
    def inputs_identical(self) -> bool:
        """Whether both runs stored the same inputs (same roles, same bytes)."""
        return all(entry.same for entry in self.inputs)

    @property
    def identical(self) -> bool:
        """Whether no section differs (the command's exit status 0)."""
        return (
            self.inputs_identical
            and self.settings.identical
            and self.provenance.identical
            and self.figures.identical
            and self.outputs.identical
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document: ``runs`` (both rows), ``identical``, and each section."""
        return {
            "runs": [self.a.record.to_dict(), self.b.record.to_dict()],
            "identical": self.identical,
            "inputs": {
                "identical": self.inputs_identical,
                "files": [entry.to_dict() for entry in self.inputs],
            },
            "settings": self.settings.to_dict(),
            "provenance": self.provenance.to_dict(),
            "figures": self.figures.to_dict(),
            "outputs": self.outputs.to_dict(),
        }


def diff_runs(a: RunFolder, b: RunFolder, *, limit: int = DEFAULT_VALUE_LIMIT) -> RunDiff:
    """Compare runs ``a`` and ``b`` (as :func:`load_run` found them), every section.

    ``limit`` caps the values listed per differing JSON output (all are counted).
    Raises :class:`~monocycle_nash.runmeta.comparison.RunFilesError` when a file that
    should be compared cannot be read.
    """
    return RunDiff(
        a=a,
        b=b,
        inputs=_compare_inputs(a, b),
        settings=_compare_settings(a, b),
        provenance=_compare_keyed(a, b, _provenance, _PROVENANCE_ORDER),
        figures=_compare_keyed(a, b, _figures),
        outputs=compare_trees(a.run_dir / OUTPUT_DIR, b.run_dir / OUTPUT_DIR, limit=limit),
    )


# --- inputs ---------------------------------------------------------------------------


def _stored_inputs(run: RunFolder) -> dict[str, StoredFile]:
    """The run's stored inputs by key: role (numbered when repeated), merged input last."""
    info = run.meta.get("input")
    if not isinstance(info, dict):
        return {}
    main = info.get("stored_file")
    merged = main == MERGED_PATH
    listed: list[tuple[str, str, str | None]] = []
    files = info.get("files")
    if isinstance(files, list) and files:
        for entry in files:
            if isinstance(entry, dict) and isinstance(entry.get("stored_file"), str):
                sha = entry.get("sha256")
                role = entry.get("role")
                listed.append(
                    (
                        role if isinstance(role, str) and role else "input",
                        entry["stored_file"],
                        sha if isinstance(sha, str) else None,
                    )
                )
    elif isinstance(main, str) and not merged:  # a meta.json without the file list
        sha = info.get("checksum_sha256")
        listed.append(("input", main, sha if isinstance(sha, str) else None))
    found: dict[str, StoredFile] = {}
    for role, stored, sha in listed:
        # A run of a game file stores that file alone, as its "input": call it the game,
        # so that it pairs with the game file of a run config's run.
        key = "game" if role == "input" and not merged else role
        number = 1
        while (key if number == 1 else f"{key} {number}") in found:
            number += 1
        key = key if number == 1 else f"{key} {number}"
        found[key] = StoredFile(stored, role, _digest_inside(run.run_dir, stored), sha)
    if merged:
        sha = info.get("checksum_sha256")
        found[_MERGED_KEY] = StoredFile(
            MERGED_PATH,
            "merged",
            _digest_inside(run.run_dir, MERGED_PATH),
            sha if isinstance(sha, str) else None,
        )
    return found


def _inside(run_dir: Path, stored: str) -> Path | None:
    """``run_dir / stored`` when it stays inside the run folder (meta.json is data)."""
    path = run_dir / stored
    try:
        if not path.resolve().is_relative_to(run_dir.resolve()):
            return None
    except (OSError, RuntimeError):
        return None
    return path


def _digest_inside(run_dir: Path, stored: str) -> FileDigest | None:
    path = _inside(run_dir, stored)
    if path is None or not (path.is_file() or path.is_dir()):
        return None
    if path.is_dir():  # a folder input: the digest artifact_store records for folders
        import hashlib  # noqa: PLC0415 - only for the rare folder input

        tree = hashlib.sha256()
        size = 0
        for relative, digest in tree_digests(path).items():
            tree.update(f"{relative}\0{digest.sha256}\n".encode())
            size += digest.size
        return FileDigest(tree.hexdigest(), size)
    return file_digest(path)


def _compare_inputs(a: RunFolder, b: RunFolder) -> tuple[InputComparison, ...]:
    left, right = _stored_inputs(a), _stored_inputs(b)
    keys = [*left, *(key for key in right if key not in left)]
    keys.sort(key=lambda key: key == _MERGED_KEY)  # the merged input last
    compared: list[InputComparison] = []
    for key in keys:
        one, other = left.get(key), right.get(key)
        entry = InputComparison(key, one, other)
        if one is not None and other is not None and not entry.same:
            entry = _text_diff(entry, (a, one), (b, other))
        notes = [note for note in (entry.note, *_changed_notes(entry, a, b)) if note]
        if notes:
            entry = _with_note(entry, "; ".join(notes))
        compared.append(entry)
    return tuple(compared)


def _changed_notes(entry: InputComparison, a: RunFolder, b: RunFolder) -> Iterator[str]:
    for run, stored in ((a, entry.a), (b, entry.b)):
        if stored is None:
            continue
        if stored.digest is None:
            yield f"run {run.run_id}: {stored.stored_file} is missing"
        elif stored.changed:
            yield (
                f"run {run.run_id}: {stored.stored_file} has changed since the run stored it"
                f" (recorded sha256 {(stored.recorded_sha256 or '')[:12]}...)"
            )


def _text_diff(entry: InputComparison, *sides: tuple[RunFolder, StoredFile]) -> InputComparison:
    """``entry`` with the unified diff of both files, or a note saying why there is none."""
    texts: list[list[str]] = []
    for run, stored in sides:
        path = _inside(run.run_dir, stored.stored_file)
        if path is None or stored.digest is None or not path.is_file():
            return entry  # a missing file or a folder: said by the notes
        try:
            raw = read_regular_file(path, TEXT_DIFF_LIMIT)
        except ValueError:
            return _with_note(entry, f"compared by checksum (larger than {TEXT_DIFF_LIMIT:,} B)")
        except OSError as err:
            return _with_note(entry, f"compared by checksum ({err.strerror or err})")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = "\0"
        if "\0" in text:
            return _with_note(entry, "compared by checksum (not text)")
        texts.append(text.splitlines())
    (run_a, stored_a), (run_b, stored_b) = sides
    lines = difflib.unified_diff(
        texts[0],
        texts[1],
        fromfile=f"run {run_a.run_id}: {stored_a.stored_file}",
        tofile=f"run {run_b.run_id}: {stored_b.stored_file}",
        lineterm="",
    )
    return InputComparison(entry.key, entry.a, entry.b, diff=tuple(lines))


def _with_note(entry: InputComparison, note: str) -> InputComparison:
    return InputComparison(entry.key, entry.a, entry.b, entry.diff, note)


# --- settings, provenance, figures ----------------------------------------------------


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys (``solver.exact``); TOML dates and times as text."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = _plain(value)
    return flat


def _plain(value: Any) -> Any:
    """``value`` with TOML's dates and times (in arrays too) as ISO text, for JSON."""
    if isinstance(value, date | time | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _pairs(
    left: Mapping[str, Any], right: Mapping[str, Any], order: tuple[str, ...] = ()
) -> tuple[ValuePair, ...]:
    keys = [key for key in order if key in left or key in right]
    keys += [key for key in (*left, *right) if key not in keys]
    return tuple(
        ValuePair(key, left.get(key), right.get(key), key in left, key in right)
        for key in dict.fromkeys(keys)
    )


def _merged_settings(run: RunFolder) -> tuple[dict[str, Any] | None, str | None]:
    """The run's settings from its merged input, or ``None`` and a note saying why not."""
    path = run.run_dir / MERGED_PATH
    if not path.is_file() or path.is_symlink():
        return None, None
    try:
        document = tomllib.loads(read_regular_file(path, TEXT_DIFF_LIMIT * 16).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as err:  # TOMLDecodeError is a ValueError
        return None, f"run {run.run_id}: its merged input cannot be read ({err})"
    tables = {key: value for key, value in document.items() if key not in _INPUT_KEYS}
    return _flatten(tables), None


def _compare_settings(a: RunFolder, b: RunFolder) -> KeyedSection:
    (left, left_note), (right, right_note) = _merged_settings(a), _merged_settings(b)
    notes = [note for note in (left_note, right_note) if note]
    if left is None and right is None and not notes:
        notes.append(
            "neither run has a merged input: both ran a game file, with the default settings"
        )
    for run, settings, note in ((a, left, left_note), (b, right, right_note)):
        if settings is None and note is None and (left is not None or right is not None):
            notes.append(
                f"run {run.run_id} has no merged input (it ran a game file, with the default"
                " settings)"
            )
    return KeyedSection(_pairs(left or {}, right or {}), tuple(notes))


def _provenance(run: RunFolder) -> tuple[dict[str, Any], str | None]:
    recorded = run.meta.get("provenance")
    commit = run.meta.get("git_commit")
    if isinstance(recorded, dict):
        values = _flatten(recorded)
        values.setdefault("git_commit", commit)
        return values, None
    return {"git_commit": commit}, (
        f"run {run.run_id} recorded no provenance (it ran before runmeta kept any); only its"
        " git commit is known"
    )


def _figures(run: RunFolder) -> tuple[dict[str, Any], str | None]:
    metrics = run.meta.get("metrics")
    if isinstance(metrics, dict) and metrics:  # {}: the run reported none
        return _flatten(metrics), None
    result = run.meta.get("result")
    if isinstance(result, dict):
        return _flatten(result), (
            f"run {run.run_id} recorded no metrics; its figures are meta.json's result"
        )
    return {}, f"run {run.run_id} recorded no headline figures"


def _compare_keyed(
    a: RunFolder,
    b: RunFolder,
    read: Callable[[RunFolder], tuple[dict[str, Any], str | None]],
    order: tuple[str, ...] = (),
) -> KeyedSection:
    (left, left_note), (right, right_note) = read(a), read(b)
    notes = tuple(note for note in (left_note, right_note) if note)
    return KeyedSection(_pairs(left, right, order), notes)


# --- lines ----------------------------------------------------------------------------


def format_diff(diff: RunDiff, width: int | None) -> Iterator[str]:
    """Yield the text of ``runmeta diff``: both runs, then one block per section; an
    identical section is one line. ``width`` shortens the runs' commands only."""
    name_a, name_b = f"run {diff.a.run_id}", f"run {diff.b.run_id}"
    yield from format_run_table([diff.a.record, diff.b.record], width)
    yield from _format_inputs(diff, name_a, name_b)
    for title, section, first in (
        ("settings", diff.settings, "SETTING"),
        ("provenance", diff.provenance, "PROVENANCE"),
        ("figures", diff.figures, "FIGURE"),
    ):
        yield from _format_keyed(title, section, first, name_a, name_b)
    outputs = diff.outputs
    if outputs.identical:
        yield f"outputs: identical ({plural(len(outputs.files), 'file')}, byte for byte)"
    else:
        yield (
            f"outputs: different ({len(outputs.differing)} of {plural(len(outputs.files), 'file')})"
        )
        yield from format_tree(outputs, name_a, name_b)


def _format_inputs(diff: RunDiff, name_a: str, name_b: str) -> Iterator[str]:
    entries = diff.inputs
    if diff.inputs_identical:
        count = plural(len(entries), "file") if entries else "neither run stored an input"
        yield f"inputs: identical ({count})"
        return
    differing = sum(not entry.same for entry in entries)
    yield f"inputs: different ({differing} of {plural(len(entries), 'file')})"
    for entry in entries:
        if entry.same:
            continue
        key = printable(entry.key)
        if entry.a is not None and entry.b is not None:
            yield (
                f"  {key}: {name_a} {_describe_stored(entry.a)},"
                f" {name_b} {_describe_stored(entry.b)}"
            )
        elif entry.a is not None:
            yield f"  {key}: only in {name_a} ({_describe_stored(entry.a)})"
        elif entry.b is not None:
            yield f"  {key}: only in {name_b} ({_describe_stored(entry.b)})"
        if entry.note:
            yield f"    {printable(entry.note)}"
        for line in entry.diff or ():
            yield f"    {printable(line)}"


def _describe_stored(stored: StoredFile) -> str:
    where = printable(stored.stored_file)
    return (
        f"{where}, missing" if stored.digest is None else f"{where}, {short_digest(stored.digest)}"
    )


def _format_keyed(
    title: str, section: KeyedSection, first: str, name_a: str, name_b: str
) -> Iterator[str]:
    if section.identical:
        what = plural(len(section.pairs), "value") if section.pairs else "; ".join(section.notes)
        yield f"{title}: identical ({printable(what) or 'nothing recorded'})"
        return
    count = len(section.pairs)
    yield f"{title}: different ({len(section.differing)} of {plural(count, 'value')})"
    for note in section.notes:
        yield f"  {printable(note)}"
    # Whole values: a cut argv or path would hide the very difference shown.
    table = format_value_table(
        section.differing, name_a.upper(), name_b.upper(), first=first, width=None
    )
    for line in table:
        yield f"  {line}"
