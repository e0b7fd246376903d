"""A game read from TOML: a payoff matrix or a monocycle roster of characters."""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monocycle_nash.character import (
    MAX_COORDINATE,
    MAX_POWER,
    Character,
    characters_of_columns,
    roster_arrays,
)
from monocycle_nash.errors import (
    CharacterEntryError,
    GameFileError,
    GameFormatError,
    LabelError,
    MatrixShapeError,
    brief,
)
from monocycle_nash.matrix import (
    PayoffMatrix,
    check_labels,
    check_rows,
    default_labels,
    finite_number,
)
from monocycle_nash.text import plural

if TYPE_CHECKING:
    from monocycle_nash.teams import TeamSpec

__all__ = [
    "MAX_TOML_DEPTH",
    "Game",
    "load_game",
    "parse_game",
    "read_toml_file",
    "roster_of_columns",
]

_CHARACTER_KEYS = ("label", "p", "v")
_GAME_KEYS = frozenset({"matrix", "labels", "characters", "teams", "team"})

MAX_TOML_DEPTH = 100
"""Levels of nested arrays and tables a TOML input may have (a game needs 3).

Deeper documents are refused as soon as they are read: Python's TOML reader (and
whatever walks the data afterwards) recurses once per level and fails near 500.
"""


@dataclass(frozen=True, slots=True)
class Game:
    """A symmetric character-selection game: its labels, payoff matrix and, for rosters,
    its characters. ``source`` names where it came from (a file path for loaded games).

    Build one with ``Game.of_matrix`` or ``Game.of_roster``; the matrix of a roster is
    built on first access (O(n^2)), and the solvers never need it. ``teams`` is the
    game file's team specification (``[teams]``, checked against the labels), if any.
    """

    source: str
    labels: tuple[str, ...]
    characters: tuple[Character, ...] | None = None
    teams: TeamSpec | None = None
    _matrix: PayoffMatrix | None = field(default=None, init=False, repr=False, compare=False)
    _arrays: tuple[list[float], list[float], list[float]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.characters is not None and tuple(c.label for c in self.characters) != tuple(
            self.labels
        ):
            raise ValueError("a roster game's labels must be its characters' labels")

    @classmethod
    def of_matrix(cls, matrix: PayoffMatrix, source: str = "<matrix>") -> Game:
        """A game given by its payoff matrix."""
        game = cls(source, matrix.labels)
        object.__setattr__(game, "_matrix", matrix)
        return game

    @classmethod
    def of_roster(cls, characters: Sequence[Character], source: str = "<roster>") -> Game:
        """A monocycle game given by its characters (labels must be non-empty and unique)."""
        roster = tuple(characters)
        if not roster:
            raise GameFormatError(source, "characters is empty")
        check_labels((c.label for c in roster), source, "characters", ".label")
        return cls(source, tuple(c.label for c in roster), roster)

    @property
    def matrix(self) -> PayoffMatrix:
        """The payoff matrix (built from the characters on first access for rosters)."""
        matrix = self._matrix
        if matrix is None:
            if self.characters is None:  # pragma: no cover - of_matrix always sets it
                raise RuntimeError("a matrix game without its matrix")
            matrix = PayoffMatrix.from_characters(self.characters)
            object.__setattr__(self, "_matrix", matrix)
        return matrix

    @property
    def arrays(self) -> tuple[list[float], list[float], list[float]]:
        """A roster's (powers, xs, ys) as parallel lists, built once; treat as read-only."""
        arrays = self._arrays
        if arrays is None:
            if self.characters is None:
                raise ValueError(f"{self.source}: a matrix game has no character arrays")
            arrays = roster_arrays(self.characters)
            object.__setattr__(self, "_arrays", arrays)
        return arrays

    @property
    def size(self) -> int:
        """Number of strategies."""
        return len(self.labels)

    def with_teams(self, teams: TeamSpec | None) -> Game:
        """This game carrying the team specification ``teams`` (its matrix is shared)."""
        game = Game(self.source, self.labels, self.characters, teams)
        object.__setattr__(game, "_matrix", self._matrix)
        object.__setattr__(game, "_arrays", self._arrays)
        return game


def load_game(path: str | Path) -> Game:
    """Read a TOML game file; malformed files raise ``GameError`` subclasses naming the file."""
    return parse_game(read_toml_file(path), str(path))


def read_toml_file(path: str | Path) -> dict[str, Any]:
    """Parse the TOML file ``path``, raising ``GameFileError`` with a one-line reason.

    A leading UTF-8 byte order mark (as some Windows editors write) is skipped. Arrays
    and tables nested more than :data:`MAX_TOML_DEPTH` levels deep are refused.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise GameFileError(source, "no such file") from None
    except IsADirectoryError:
        raise GameFileError(source, "is a folder, not a TOML file") from None
    except OSError as err:
        raise GameFileError(source, f"cannot read: {err.strerror or err}") from err
    except ValueError as err:  # a NUL character in the path
        raise GameFileError(source, f"not a usable file name: {err}") from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise GameFileError(source, f"not UTF-8 text ({err.reason} at byte {err.start})") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise GameFileError(source, f"invalid TOML: {err}") from err
    except RecursionError:
        raise GameFileError(source, _too_deep(_deep_entry(text))) from None
    # Only a document with that many brackets can be that deep: most are not walked.
    if text.count("[") + text.count("{") > MAX_TOML_DEPTH:
        entry = _deeper_entry(data)
        if entry is not None:
            raise GameFileError(source, _too_deep(f"entry {brief(entry)}"))
    return data


def _too_deep(where: str) -> str:
    return f"{where} is nested more than {MAX_TOML_DEPTH} levels deep (arrays or tables)"


def _deeper_entry(data: dict[str, Any]) -> str | None:
    """The top-level key whose value nests more than ``MAX_TOML_DEPTH`` levels, if any."""
    stack: list[tuple[object, int, str]] = [
        (value, 2, key) for key, value in data.items() if isinstance(value, dict | list)
    ]
    while stack:
        value, depth, key = stack.pop()
        if depth > MAX_TOML_DEPTH:
            return key
        children = value.values() if isinstance(value, dict) else value
        stack.extend(
            (child, depth + 1, key)
            for child in children  # type: ignore[attr-defined]
            if isinstance(child, dict | list)
        )
    return None


_TOKEN = re.compile(
    r"""
    \"\"\"[\s\S]*?\"\"\" | '\'\'[\s\S]*?'\'\'      # multi-line strings
    | "(?:[^"\\\n]|\\.)*" | '[^'\n]*'         # one-line strings
    | \#[^\n]*                               # a comment
    | [\[\]{}\n]                            # what the scan counts
    """,
    re.VERBOSE,
)


def _deep_entry(text: str) -> str:
    """Where a document too deep to parse goes deeper than allowed: ``line N``.

    Only used after the TOML reader gave up, so the text is scanned for brackets with a
    regular expression (strings and comments skipped) rather than parsed.
    """
    depth, line = 0, 1
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece in "[{":
            depth += 1
            if depth > MAX_TOML_DEPTH:
                return f"the entry on line {line}"
        elif piece in "]}":
            depth = max(0, depth - 1)
        line += piece.count("\n")
    return "the document"  # pragma: no cover - the reader fails only on deep nesting


def parse_game(data: Mapping[str, Any], source: str) -> Game:
    """Build a game from an already-parsed TOML table holding ``matrix`` or ``characters``.

    Any other entry (a misspelt ``lables``) is an error rather than silently ignored.
    """
    has_matrix = "matrix" in data
    has_characters = "characters" in data
    if has_matrix and has_characters:
        raise GameFormatError(source, "has both 'matrix' and 'characters'; give exactly one")
    if not has_matrix and not has_characters:
        raise GameFormatError(source, "has neither 'matrix' nor 'characters'; give exactly one")
    unknown = sorted(str(key) for key in data if key not in _GAME_KEYS)
    if unknown:
        raise GameFormatError(
            source,
            f"unknown entry {brief(unknown[0])} (a game holds 'matrix' with optional "
            "'labels', or 'characters')",
        )
    if has_matrix:
        game = _parse_matrix(data, source)
    elif "labels" in data:
        raise GameFormatError(
            source, "'labels' belongs to a 'matrix' game; characters carry their own label"
        )
    else:
        game = _parse_characters(data["characters"], source)
    if "teams" not in data and "team" not in data:
        return game
    # Imported here: teams.py builds team games from Game (and the solver), so it
    # imports this module.
    from monocycle_nash.teams import parse_team_spec  # noqa: PLC0415

    return game.with_teams(parse_team_spec(data, game.labels, source))


def _parse_matrix(data: Mapping[str, Any], source: str) -> Game:
    rows = check_rows(data["matrix"], source, "matrix")
    raw_labels = data.get("labels")
    if raw_labels is None:
        labels = default_labels(len(rows))
    else:
        if isinstance(raw_labels, str) or not isinstance(raw_labels, Sequence):
            raise GameFormatError(
                source, f"labels must be a list of strings, got {brief(raw_labels)}"
            )
        labels = check_labels(raw_labels, source, "labels")
        if len(labels) != len(rows):
            raise MatrixShapeError(
                source,
                f"labels has {plural(len(labels), 'entry', 'entries')} "
                f"but matrix has {plural(len(rows), 'row')}",
            )
    return Game.of_matrix(PayoffMatrix(labels, rows), source)


def _parse_characters(raw: object, source: str) -> Game:
    """Build a roster game, checking each label once (``Game.of_roster`` would check again)."""
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise GameFormatError(source, f"characters must be a list of tables, got {brief(raw)}")
    if not raw:
        raise GameFormatError(source, "characters is empty")
    entries = [
        _parse_character(entry, f"characters[{index}]", source) for index, entry in enumerate(raw)
    ]
    labels = check_labels((label for label, _, _ in entries), source, "characters", ".label")
    characters = tuple(
        Character(label, power, vector)
        for label, (_, power, vector) in zip(labels, entries, strict=True)
    )
    return Game(source, labels, characters)


def _parse_character(
    entry: object, name: str, source: str
) -> tuple[object, float, tuple[float, float]]:
    """Check one ``characters`` entry; return its (label, unchecked), p and v."""
    if not isinstance(entry, Mapping):
        raise CharacterEntryError(source, f"{name} must be a table, got {brief(entry)}")
    for key in _CHARACTER_KEYS:
        if key not in entry:
            raise CharacterEntryError(source, f"{name} is missing '{key}'")
    unknown = sorted(str(key) for key in entry if key not in _CHARACTER_KEYS)
    if unknown:
        raise CharacterEntryError(
            source, f"{name} has unknown key '{unknown[0]}' (expected label, p, v)"
        )
    power = finite_number(entry["p"], source, f"{name}.p", limit=MAX_POWER)
    vector = entry["v"]
    if isinstance(vector, str) or not isinstance(vector, Sequence):
        raise CharacterEntryError(
            source, f"{name}.v must be a list of 2 numbers, got {brief(vector)}"
        )
    if len(vector) != 2:
        raise CharacterEntryError(source, f"{name}.v must have 2 numbers, got {len(vector)}")
    x = finite_number(vector[0], source, f"{name}.v[0]", limit=MAX_COORDINATE)
    y = finite_number(vector[1], source, f"{name}.v[1]", limit=MAX_COORDINATE)
    return entry["label"], power, (x, y)


def roster_of_columns(
    source: str,
    labels: Sequence[str],
    powers: list[float],
    xs: list[float],
    ys: list[float],
    *,
    entry: Callable[[int, str], str],
) -> Game:
    """Build a roster game from parallel columns (a CSV roster), checked as ``characters``.

    The rules are those of a TOML roster's entries: finite numbers, ``|p| <= MAX_POWER``,
    ``|x|, |y| <= MAX_COORDINATE``, labels as ``check_labels`` wants them.
    ``entry(i, column)`` names character i's ``label``, ``p``, ``x`` or ``y`` in a
    message (``line 7: p``). Each rule runs over a whole column at C speed; only a column
    that breaks one is walked again to name its first bad entry (10^6 characters are
    checked in about 0.3 s, where one check per character took seconds).
    """
    if not labels:
        raise GameFormatError(source, "characters is empty")
    columns = (("p", powers, MAX_POWER), ("x", xs, MAX_COORDINATE), ("y", ys, MAX_COORDINATE))
    for column, values, limit in columns:
        if not (all(map(math.isfinite, values)) and max(map(abs, values)) <= limit):
            for index, value in enumerate(values):
                finite_number(value, source, entry(index, column), limit=limit)
    checked = _column_labels(labels, source, entry)
    game = Game(source, checked, characters_of_columns(checked, powers, xs, ys))
    object.__setattr__(game, "_arrays", (powers, xs, ys))  # the columns are the arrays
    return game


def _column_labels(
    labels: Sequence[str], source: str, entry: Callable[[int, str], str]
) -> tuple[str, ...]:
    """``labels`` checked by the rules of ``check_labels``, label i named ``entry(i, "label")``.

    Whole-column tests first (unique, none blank, all printable); the walk that names
    the first offender (and lets a printable-enough label through, as ``check_labels``
    does: only control characters are refused) runs only when one of them fails.
    """
    result = tuple(labels)
    if (
        len(set(result)) == len(result)
        and all(map(str.strip, result))
        and all(map(str.isprintable, result))
    ):
        return result
    seen: dict[str, int] = {}
    for index, label in enumerate(result):
        name = entry(index, "label")
        if not label.strip():
            raise LabelError(source, f"{name} is an empty label")
        if not label.isprintable():
            control = next((char for char in label if unicodedata.category(char) == "Cc"), None)
            if control is not None:
                raise LabelError(
                    source, f"{name} holds the control character {control!r}: {brief(label)}"
                )
        if label in seen:
            raise LabelError(
                source,
                f"{name} repeats the label {brief(label)} of {entry(seen[label], 'label')}",
            )
        seen[label] = index
    return result
