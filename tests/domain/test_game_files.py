"""Reading game files: the two formats, and a typed one-line error for every malformed one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monocycle_nash import (
    Character,
    CharacterEntryError,
    GameError,
    GameFileError,
    GameFormatError,
    GameNumberError,
    LabelError,
    MatrixShapeError,
    load_game,
    parse_game,
    solve,
)
from monocycle_nash.game import read_toml_file

RPS_MATRIX = """
labels = ["Rock", "Paper", "Scissors"]
matrix = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
"""

RPS_ROSTER = """
characters = [
  { label = "A", p = 0.0, v = [2.0, 0.0] },
  { label = "B", p = 0, v = [-1.0, 1.5] },
  { label = "C", p = 0.0, v = [-1, -1.5] },
]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "game.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_matrix_file_is_read_with_its_labels(tmp_path: Path) -> None:
    """A matrix file gives its labels, rows and no characters."""
    game = load_game(_write(tmp_path, RPS_MATRIX))
    assert game.labels == ("Rock", "Paper", "Scissors")
    assert game.matrix.rows[0] == (0.0, -1.0, 1.0)
    assert game.characters is None
    assert game.source.endswith("game.toml")


def test_matrix_labels_default_to_s0_s1(tmp_path: Path) -> None:
    """Without labels a matrix game's strategies are called s0, s1, ..."""
    game = load_game(_write(tmp_path, "matrix = [[0, 1], [-1, 0]]\n"))
    assert game.labels == ("s0", "s1")
    assert game.matrix.rows == ((0.0, 1.0), (-1.0, 0.0))


def test_roster_file_gives_characters_and_a_lazy_matrix(tmp_path: Path) -> None:
    """A roster file gives characters (ints become floats) and the matrix on demand."""
    game = load_game(str(_write(tmp_path, RPS_ROSTER)))
    assert game.characters == (
        Character("A", 0.0, (2.0, 0.0)),
        Character("B", 0.0, (-1.0, 1.5)),
        Character("C", 0.0, (-1.0, -1.5)),
    )
    assert game.labels == ("A", "B", "C")
    assert game.matrix.rows[0] == (0.0, 3.0, -3.0)
    assert game.matrix is game.matrix


def test_parse_game_names_its_source() -> None:
    """parse_game builds the game from a parsed table and keeps the given source."""
    game = parse_game({"matrix": [[0.0, 1.0], [-1.0, 0.0]]}, "run.toml [game]")
    assert game.labels == ("s0", "s1")
    assert game.source == "run.toml [game]"


BAD_FILES = [
    pytest.param(
        'lables = ["A", "B"]\nmatrix = [[0, 1], [-1, 0]]\n',
        GameFormatError,
        "unknown entry 'lables' (a game holds 'matrix' with optional 'labels', or 'characters')",
        id="misspelt-labels",
    ),
    pytest.param("matrix = [[0, 1]", GameFileError, "invalid TOML", id="invalid-toml"),
    pytest.param(
        RPS_MATRIX + RPS_ROSTER,
        GameFormatError,
        "has both 'matrix' and 'characters'; give exactly one",
        id="both-formats",
    ),
    pytest.param(
        'title = "x"\n',
        GameFormatError,
        "has neither 'matrix' nor 'characters'; give exactly one",
        id="neither-format",
    ),
    pytest.param("matrix = []\n", MatrixShapeError, "matrix is empty", id="empty-matrix"),
    pytest.param(
        "matrix = [[0, 1], [1]]\n",
        MatrixShapeError,
        "matrix[1] has 1 entry, expected 2 (the matrix must be square)",
        id="ragged-rows",
    ),
    pytest.param(
        "matrix = [[0, 1, 2], [1, 0, 2]]\n",
        MatrixShapeError,
        "matrix[0] has 3 entries, expected 2 (the matrix must be square)",
        id="non-square",
    ),
    pytest.param(
        "matrix = [0, 1]\n",
        MatrixShapeError,
        "matrix[0] must be a list of numbers, got 0",
        id="row-not-a-list",
    ),
    pytest.param(
        'matrix = [[0, "x"], [1, 0]]\n',
        GameNumberError,
        "matrix[0][1] must be a number, got 'x'",
        id="non-numeric",
    ),
    pytest.param(
        "matrix = [[0, true], [1, 0]]\n",
        GameNumberError,
        "matrix[0][1] must be a number, got True",
        id="boolean",
    ),
    pytest.param(
        "matrix = [[0, nan], [1, 0]]\n",
        GameNumberError,
        "matrix[0][1] must be finite, got nan",
        id="nan",
    ),
    pytest.param(
        "matrix = [[0, 1], [-inf, 0]]\n",
        GameNumberError,
        "matrix[1][0] must be finite, got -inf",
        id="infinite",
    ),
    pytest.param(
        'labels = ["A", "B"]\nmatrix = [[0.0]]\n',
        MatrixShapeError,
        "labels has 2 entries but matrix has 1 row",
        id="label-count",
    ),
    pytest.param(
        'labels = ["A", "A"]\nmatrix = [[0, 1], [-1, 0]]\n',
        LabelError,
        "labels[1] repeats the label 'A' of labels[0]",
        id="duplicate-matrix-label",
    ),
    pytest.param(
        'labels = ["", "B"]\nmatrix = [[0, 1], [-1, 0]]\n',
        LabelError,
        "labels[0] is an empty label",
        id="empty-matrix-label",
    ),
    pytest.param(
        'labels = ["A", "  "]\nmatrix = [[0, 1], [-1, 0]]\n',
        LabelError,
        "labels[1] is an empty label",
        id="blank-matrix-label",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = [1.0, 0.0] }, '
        '{ label = "B\\nC", p = 0.0, v = [0.0, 1.0] }]\n',
        LabelError,
        "characters[1].label holds the control character '\\n': 'B\\nC'",
        id="newline-in-label",
    ),
    pytest.param(
        "labels = [1, 2]\nmatrix = [[0, 1], [-1, 0]]\n",
        LabelError,
        "labels[0] must be a string, got 1",
        id="non-string-matrix-label",
    ),
    pytest.param(
        "characters = []\n", GameFormatError, "characters is empty", id="empty-characters"
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = [1.0, 0.0] }, '
        '{ label = "B", p = 0.0, v = [0.0, 1.0] }, '
        '{ label = "C", p = 0.0, v = [1.0, 2.0, 3.0] }]\n',
        CharacterEntryError,
        "characters[2].v must have 2 numbers, got 3",
        id="v-length-3",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = 1.0 }]\n',
        CharacterEntryError,
        "characters[0].v must be a list of 2 numbers, got 1.0",
        id="v-not-a-list",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = [1.0, "y"] }]\n',
        GameNumberError,
        "characters[0].v[1] must be a number, got 'y'",
        id="v-non-numeric",
    ),
    pytest.param(
        "characters = [{ p = 0.0, v = [1.0, 0.0] }]\n",
        CharacterEntryError,
        "characters[0] is missing 'label'",
        id="missing-label",
    ),
    pytest.param(
        'characters = [{ label = "A", v = [1.0, 0.0] }]\n',
        CharacterEntryError,
        "characters[0] is missing 'p'",
        id="missing-p",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 1.0 }]\n',
        CharacterEntryError,
        "characters[0] is missing 'v'",
        id="missing-v",
    ),
    pytest.param(
        'characters = [{ label = "A", p = nan, v = [1.0, 0.0] }]\n',
        GameNumberError,
        "characters[0].p must be finite, got nan",
        id="nan-power",
    ),
    pytest.param(
        'characters = [{ label = "A", p = "strong", v = [1.0, 0.0] }]\n',
        GameNumberError,
        "characters[0].p must be a number, got 'strong'",
        id="text-power",
    ),
    pytest.param(
        "matrix = [[0, 1e301], [-1, 0]]\n",
        GameNumberError,
        "matrix[0][1] is too large (1e+301); at most 1e+300",
        id="matrix-entry-overflows",
    ),
    pytest.param(
        'characters = [{ label = "A", p = -2e299, v = [1.0, 0.0] }]\n',
        GameNumberError,
        "characters[0].p is too large (-2e+299); at most 1e+299",
        id="power-overflows",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = [1.0, 0.0] }, '
        '{ label = "B", p = 0.0, v = [0.0, 1e200] }]\n',
        GameNumberError,
        "characters[1].v[1] is too large (1e+200); at most 1e+149",
        id="vector-overflows",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = [1.0, 0.0] }, '
        '{ label = "A", p = 1.0, v = [0.0, 1.0] }]\n',
        LabelError,
        "characters[1].label repeats the label 'A' of characters[0].label",
        id="duplicate-character-label",
    ),
    pytest.param(
        'characters = [{ label = "", p = 0.0, v = [1.0, 0.0] }]\n',
        LabelError,
        "characters[0].label is an empty label",
        id="empty-character-label",
    ),
    pytest.param(
        "characters = [{ label = 7, p = 0.0, v = [1.0, 0.0] }]\n",
        LabelError,
        "characters[0].label must be a string, got 7",
        id="non-string-character-label",
    ),
    pytest.param(
        'characters = [{ label = "A", p = 0.0, v = [1.0, 0.0], power = 2.0 }]\n',
        CharacterEntryError,
        "characters[0] has unknown key 'power' (expected label, p, v)",
        id="unknown-character-key",
    ),
    pytest.param(
        "characters = [1, 2]\n",
        CharacterEntryError,
        "characters[0] must be a table, got 1",
        id="character-not-a-table",
    ),
    pytest.param(
        'characters = "A"\n',
        GameFormatError,
        "characters must be a list of tables, got 'A'",
        id="characters-not-a-list",
    ),
    pytest.param(
        'labels = ["A"]\ncharacters = [{ label = "A", p = 0.0, v = [1.0, 0.0] }]\n',
        GameFormatError,
        "'labels' belongs to a 'matrix' game; characters carry their own label",
        id="labels-with-characters",
    ),
]


@pytest.mark.parametrize(("text", "error_type", "detail"), BAD_FILES)
def test_bad_game_file_raises_typed_error_naming_file_and_entry(
    tmp_path: Path, text: str, error_type: type[GameError], detail: str
) -> None:
    """Each malformed file raises its GameError subclass with 'file: entry problem'."""
    path = _write(tmp_path, text)
    with pytest.raises(error_type) as caught:
        load_game(path)
    message = str(caught.value)
    assert isinstance(caught.value, GameError)
    assert message.startswith(f"{path}: ")
    assert detail in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("make", "detail"),
    [
        pytest.param(lambda path: None, "no such file", id="missing"),
        pytest.param(lambda path: path.mkdir(), "is a folder, not a TOML file", id="folder"),
        pytest.param(
            lambda path: path.write_bytes(b'labels = ["\xff"]\nmatrix = [[0.0]]\n'),
            "not UTF-8 text (invalid start byte at byte 11)",
            id="not-utf8",
        ),
    ],
)
def test_unreadable_file_raises_game_file_error(
    tmp_path: Path, make: Callable[[Path], object], detail: str
) -> None:
    """A missing file, a folder or non-UTF-8 bytes: a one-line GameFileError naming the file."""
    path = tmp_path / "game.toml"
    make(path)
    with pytest.raises(GameFileError) as caught:
        load_game(path)
    assert str(caught.value) == f"{path}: {detail}"


def test_utf8_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    """A file saved with a UTF-8 BOM (as some Windows editors do) reads like one without."""
    path = tmp_path / "game.toml"
    path.write_bytes(b"\xef\xbb\xbf" + RPS_MATRIX.encode("utf-8"))
    assert load_game(path).labels == ("Rock", "Paper", "Scissors")
    assert read_toml_file(path) == read_toml_file(_write(tmp_path, RPS_MATRIX))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "[matrix]\n" + "".join(f"k{i} = {i}\n" for i in range(1000)), id="matrix-as-table"
        ),
        pytest.param(
            "characters = [[" + ", ".join(str(i) for i in range(1000)) + "]]\n",
            id="character-as-list",
        ),
        pytest.param(
            'labels = [["' + "x" * 5000 + '"], "b"]\nmatrix = [[0, 1], [-1, 0]]\n',
            id="long-label-in-a-list",
        ),
    ],
)
def test_message_shows_only_the_start_of_a_huge_wrong_value(tmp_path: Path, text: str) -> None:
    """A wrong value of thousands of entries is cut in the message, which stays short."""
    path = _write(tmp_path, text)
    with pytest.raises(GameError) as caught:
        load_game(path)
    detail = str(caught.value).removeprefix(f"{path}: ")
    assert len(detail) < 160
    assert detail.endswith("...")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('labels = ["Only"]\nmatrix = [[0.0]]\n', id="one-strategy-matrix"),
        pytest.param(
            'characters = [{ label = "Only", p = 0.0, v = [1.0, 0.0] }]\n', id="one-character"
        ),
    ],
)
def test_game_of_one_strategy_is_solved_as_that_strategy(tmp_path: Path, text: str) -> None:
    """A one-strategy game file is valid: its equilibrium plays that strategy, value 0."""
    path = tmp_path / "one.toml"
    path.write_text(text, encoding="utf-8")
    equilibrium = solve(load_game(path))
    assert equilibrium.labels == ("Only",)
    assert equilibrium.row_strategy == (1.0,)
    assert equilibrium.value == 0.0
    assert equilibrium.exploitability == 0.0
