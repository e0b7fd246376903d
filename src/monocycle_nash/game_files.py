"""Reading game files: TOML, JSON and CSV rosters, the format chosen by the file's extension.

- ``.csv``: a roster, one character per row under the header ``label,p,x,y``. The
  format for large rosters: 10^6 characters are read and checked in about 2.5 seconds
  (the same roster as TOML takes over a minute and a gigabyte).
- ``.json``: the tables of a TOML game file written as JSON:
  ``{"matrix": [[...]], "labels": [...]}`` or
  ``{"characters": [{"label": "A", "p": 0.0, "v": [1.0, 0.0]}, ...]}``.
- ``.toml``, and any other extension: a TOML game file (``game.load_game``).

Every problem is a ``GameError`` with a one-line message naming the file and the entry,
worded as for TOML (``roster.csv: p on line 7 must be finite, got nan``); the
characters themselves are checked in one place, ``game.roster_of_columns`` (CSV) and
``game.parse_game`` (JSON, TOML).
"""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from monocycle_nash.errors import (
    CharacterEntryError,
    GameFileError,
    GameFormatError,
    GameNumberError,
    LabelError,
    brief,
)
from monocycle_nash.game import Game, load_game, parse_game, roster_of_columns

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "CSV_HEADER",
    "GameFileFormat",
    "collector_paused",
    "game_file_format",
    "read_game_file",
    "read_json_file",
    "read_roster_csv",
]

GameFileFormat = Literal["toml", "json", "csv"]

CSV_HEADER = ("label", "p", "x", "y")
"""The first row of a CSV roster: the columns, in this order."""

_HEADER_TEXT = ",".join(CSV_HEADER)

_Columns = tuple[list[str], list[float], list[float], list[float]]


def game_file_format(path: str | Path) -> GameFileFormat:
    """The format of the game file ``path`` by its extension: ``csv``, ``json`` or ``toml``.

    The extension is compared without regard to case; anything but ``.csv`` and
    ``.json`` is TOML (the format of every game file before the other two).
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    return "toml"


def read_game_file(path: str | Path) -> Game:
    """Read the game file ``path`` in the format its extension names (see the module)."""
    file_format = game_file_format(path)
    if file_format == "csv":
        return read_roster_csv(path)
    if file_format == "json":
        with collector_paused():
            game = parse_game(read_json_file(path), str(path))
        _check_encodable(game)
        return game
    return load_game(path)


def _check_encodable(game: Game) -> None:
    """Refuse a label holding half of a UTF-16 pair (JSON's ``"\\ud800"``): no file can hold it."""
    try:
        "".join(game.labels).encode()
    except UnicodeEncodeError:
        entry, field = ("characters", ".label") if game.characters is not None else ("labels", "")
        for index, label in enumerate(game.labels):
            try:
                label.encode()
            except UnicodeEncodeError as err:
                raise LabelError(
                    game.source,
                    f"{entry}[{index}]{field} is not text UTF-8 can hold: it has the lone "
                    f"surrogate {label[err.start]!r} (half of a UTF-16 pair)",
                ) from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block, then restore it as it was.

    Building 10^6 characters makes millions of objects that all live on; the collector
    would walk them again and again as they are made, which took more time than making
    them (and walks them again in every later full collection: the main job pauses it
    for the whole of a run's work). The readers make no reference cycles, so there is
    nothing for it to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _unreadable(source: str, err: Exception, what: str) -> GameFileError:
    """The one-line error for a file that cannot be opened or read (as TOML files say it)."""
    if isinstance(err, FileNotFoundError):
        return GameFileError(source, "no such file")
    if isinstance(err, IsADirectoryError):
        return GameFileError(source, f"is a folder, not a {what} file")
    if isinstance(err, OSError):
        return GameFileError(source, f"cannot read: {err.strerror or err}")
    return GameFileError(source, f"not a usable file name: {err}")  # a NUL in the path


def _not_utf8(source: str, err: UnicodeDecodeError) -> GameFileError:
    return GameFileError(source, f"not UTF-8 text ({err.reason} at byte {err.start})")


def read_json_file(path: str | Path) -> dict[str, Any]:
    """Parse the JSON file ``path`` into its top-level object; ``GameFileError`` on failure.

    A leading UTF-8 byte order mark is skipped. ``NaN`` and ``Infinity`` are read as
    numbers, for the game's checks to refuse with the entry named.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except (OSError, ValueError) as err:
        raise _unreadable(source, err, "JSON") from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _not_utf8(source, err) from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise GameFileError(source, f"invalid JSON: {err}") from err
    except RecursionError:
        raise GameFileError(source, "invalid JSON: nested too deep to be read") from None
    if not isinstance(data, dict):
        raise GameFormatError(
            source, f"the top level must be an object ({{...}}), got {brief(data)}"
        )
    return data


def read_roster_csv(path: str | Path) -> Game:
    """Read the CSV roster ``path``: the header ``label,p,x,y``, then one row per character.

    Numbers are written as Python's ``float()`` reads them (``0.5``, ``-1e-3``); spaces
    around a number are ignored, a label is kept as written. Blank lines are skipped. A
    leading UTF-8 byte order mark is skipped. Quoting follows the ``csv`` module's
    default dialect (``"a, b"`` holds a comma), strictly: a stray quote is an error.
    """
    source = str(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115, PTH123
    except (OSError, ValueError) as err:
        raise _unreadable(source, err, "CSV") from err
    reader = csv.reader(handle, strict=True)
    try:
        with handle, collector_paused():
            columns = _read_rows(reader, source)
            return roster_of_columns(source, *columns, entry=_RowNames(path))
    except UnicodeDecodeError:
        # Decoded a block at a time: read again for the offset in the whole file.
        try:
            Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise _not_utf8(source, err) from err
        raise  # pragma: no cover - the file changed while it was read
    except csv.Error as err:
        raise GameFileError(source, f"invalid CSV on line {reader.line_num}: {err}") from err
    except OSError as err:
        raise _unreadable(source, err, "CSV") from err


def _read_rows(reader: Reader, source: str) -> _Columns:
    """The four columns of the rows below the header, each number made a float."""
    header = next(filter(None, reader), None)
    if header is None:
        raise GameFormatError(
            source, f"the file is empty; a CSV roster starts with the header {_HEADER_TEXT}"
        )
    if tuple(name.strip() for name in header) != CSV_HEADER:
        raise GameFormatError(
            source,
            f"line {reader.line_num} must be the header {_HEADER_TEXT}, "
            f"got {brief(','.join(header))}",
        )
    labels: list[str] = []
    powers: list[float] = []
    xs: list[float] = []
    ys: list[float] = []
    add_label, add_power, add_x, add_y = labels.append, powers.append, xs.append, ys.append
    row: list[str] = []
    while True:
        # The plain loop is the fast path (about 3x the bare csv module); a row that
        # does not unpack into four numbers leaves it, and only a blank one comes back.
        try:
            for row in reader:
                label, p, x, y = row
                add_label(label)
                add_power(float(p))
                add_x(float(x))
                add_y(float(y))
        except UnicodeDecodeError:  # a ValueError too, but of the file, not of a row
            raise
        except ValueError:
            if row:
                raise _row_error(row, reader.line_num, source) from None
            continue
        break
    if not labels:
        raise GameFormatError(source, f"no characters below the header {_HEADER_TEXT}")
    return labels, powers, xs, ys


def _row_error(row: list[str], line: int, source: str) -> Exception:
    """The error for a row with the wrong number of fields or a field that is no number."""
    if len(row) != len(CSV_HEADER):
        return CharacterEntryError(
            source,
            f"line {line} has {len(row)} fields, expected {len(CSV_HEADER)} ({_HEADER_TEXT}): "
            f"{brief(','.join(row))}",
        )
    for column, text in zip(CSV_HEADER[1:], row[1:], strict=True):
        try:
            float(text)
        except ValueError:
            return GameNumberError(
                source, f"{column} on line {line} must be a number, got {brief(text)}"
            )
    raise AssertionError(f"row {row!r} was read without error")  # pragma: no cover


class _RowNames:
    """Names character i's field as ``p on line 7``; the file is read again to find the line.

    Only a message needs a line number, so none is kept while the rows are read: the
    line of row i is found by reading the file again up to it (the error path only).
    """

    __slots__ = ("_path",)

    def __init__(self, path: str | Path) -> None:
        self._path = path

    def __call__(self, index: int, column: str) -> str:
        return f"{column} on line {self._line_of(index)}"

    def _line_of(self, index: int) -> int:
        with open(self._path, encoding="utf-8-sig", newline="") as handle:  # noqa: PTH123
            reader = csv.reader(handle, strict=True)
            rows = filter(None, reader)  # blank lines hold no character
            next(rows)  # the header
            for count, _ in enumerate(rows):
                if count == index:
                    return reader.line_num
        raise ValueError(f"the file has no row {index}")  # pragma: no cover - changed since
