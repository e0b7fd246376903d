"""Game files in CSV and JSON: read as TOML games are, and refused with the same one-line errors."""

from __future__ import annotations

import gc
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
    load_game,
    solve,
)
from monocycle_nash.game_files import game_file_format, read_game_file, read_roster_csv

ROSTER_CSV = "label,p,x,y\nA,0.0,2.0,0.0\nB,0,-1.0,1.5\nC,0.0,-1,-1.5\n"
ROSTER_TOML = """
characters = [
  { label = "A", p = 0.0, v = [2.0, 0.0] },
  { label = "B", p = 0, v = [-1.0, 1.5] },
  { label = "C", p = 0.0, v = [-1, -1.5] },
]
"""
ROSTER_JSON = (
    '{"characters": [{"label": "A", "p": 0.0, "v": [2.0, 0.0]},'
    ' {"label": "B", "p": 0, "v": [-1.0, 1.5]}, {"label": "C", "p": 0.0, "v": [-1, -1.5]}]}'
)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("r.csv", "csv", id="csv"),
        pytest.param("r.CSV", "csv", id="upper-case"),
        pytest.param("r.json", "json", id="json"),
        pytest.param("r.toml", "toml", id="toml"),
        pytest.param("r.txt", "toml", id="other"),
        pytest.param("roster", "toml", id="none"),
    ],
)
def test_the_format_is_chosen_by_the_extension(name: str, expected: str) -> None:
    """.csv and .json (any case) name their formats; every other file is TOML."""
    assert game_file_format(Path("in") / name) == expected


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("roster.csv", ROSTER_CSV, id="csv"),
        pytest.param("roster.json", ROSTER_JSON, id="json"),
        pytest.param("roster.toml", ROSTER_TOML, id="toml"),
    ],
)
def test_the_three_formats_give_the_same_roster(tmp_path: Path, name: str, content: str) -> None:
    """One roster written as CSV, JSON or TOML reads as the same characters and arrays."""
    game = read_game_file(_write(tmp_path, name, content))
    assert game.characters == (
        Character("A", 0.0, (2.0, 0.0)),
        Character("B", 0.0, (-1.0, 1.5)),
        Character("C", 0.0, (-1.0, -1.5)),
    )
    assert game.arrays == ([0.0, 0.0, 0.0], [2.0, -1.0, -1.0], [0.0, 1.5, -1.5])
    assert sorted(solve(game).support) == ["A", "B", "C"]


def test_a_json_matrix_game_is_read(tmp_path: Path) -> None:
    """A JSON file may hold a payoff matrix with labels, as a TOML game file does."""
    path = _write(tmp_path, "g.json", '{"labels": ["R", "P"], "matrix": [[0, 1], [-1, 0]]}')
    game = read_game_file(path)
    assert (game.labels, game.matrix.rows) == (("R", "P"), ((0.0, 1.0), (-1.0, 0.0)))


def test_csv_tolerates_what_spreadsheets_write(tmp_path: Path) -> None:
    """A BOM, CRLF lines, blank lines, spaces around numbers and quoted labels are read."""
    text = (
        "\ufefflabel, p ,x,y\r\n\r\n"
        '"Smith, J.",1e-3, 2 ,0\r\n'
        '"say ""hi""",-0.5,0,1\r\n\r\n'
        "\u6625\u9e97,0,-1,-1\r\n"
    )
    game = read_roster_csv(_write(tmp_path, "r.csv", text))
    assert game.labels == ("Smith, J.", 'say "hi"', "\u6625\u9e97")
    assert game.arrays == ([1e-3, -0.5, 0.0], [2.0, 0.0, -1.0], [0.0, 1.0, -1.0])


def test_reading_leaves_the_garbage_collector_as_it_was(tmp_path: Path) -> None:
    """The collector is paused while a roster is built, then enabled again (or left off)."""
    path = _write(tmp_path, "r.csv", ROSTER_CSV)
    read_roster_csv(path)
    assert gc.isenabled()
    gc.disable()
    try:
        read_roster_csv(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


BAD_CSV = [
    pytest.param(
        "",
        GameFormatError,
        "the file is empty; a CSV roster starts with the header label,p,x,y",
        id="empty",
    ),
    pytest.param("\n\n", GameFormatError, "the file is empty", id="blank-lines-only"),
    pytest.param(
        "label,p,x,y\n", GameFormatError, "no characters below the header", id="header-only"
    ),
    pytest.param(
        "A,0.0,1.0,0.0\n",
        GameFormatError,
        "line 1 must be the header label,p,x,y, got 'A,0.0,1.0,0.0'",
        id="missing-header",
    ),
    pytest.param(
        "name,p,x,y\nA,0,1,0\n",
        GameFormatError,
        "line 1 must be the header label,p,x,y",
        id="wrong-header",
    ),
    pytest.param(
        "label,p,x,y\nA,0,1,0\nB,0,1\n",
        CharacterEntryError,
        "line 3 has 3 fields, expected 4 (label,p,x,y): 'B,0,1'",
        id="too-few-fields",
    ),
    pytest.param(
        "label,p,x,y\nA,0,1,0,\n",
        CharacterEntryError,
        "line 2 has 5 fields, expected 4",
        id="trailing-comma",
    ),
    pytest.param(
        "label,p,x,y\nA,0,1,0\nB,zero,1,0\n",
        GameNumberError,
        "p on line 3 must be a number, got 'zero'",
        id="not-a-number",
    ),
    pytest.param(
        "label,p,x,y\nA,0,1,\n", GameNumberError, "y on line 2 must be a number, got ''", id="blank"
    ),
    pytest.param(
        "label,p,x,y\nA,0,1,0\n\nB,0,nan,0\n",
        GameNumberError,
        "x on line 4 must be finite, got nan",
        id="nan-after-a-blank-line",
    ),
    pytest.param(
        "label,p,x,y\nA,-inf,1,0\n", GameNumberError, "p on line 2 must be finite", id="infinity"
    ),
    pytest.param(
        "label,p,x,y\nA,0,1e200,0\n",
        GameNumberError,
        "x on line 2 is too large (1e+200); at most 1e+149",
        id="too-large",
    ),
    pytest.param(
        "label,p,x,y\nA,0,1,0\nB,0,0,1\nA,0,-1,-1\n",
        LabelError,
        "label on line 4 repeats the label 'A' of label on line 2",
        id="duplicate-label",
    ),
    pytest.param(
        'label,p,x,y\nA,0,1,0\n"x\ny",0,0,1\n"B\tC",0,0,1\nB,0,0,1\nB,0,-1,-1\n',
        LabelError,
        "label on line 4 holds the control character '\\n'",
        id="control-character-on-a-quoted-line",
    ),
    pytest.param(
        "label,p,x,y\n  ,0,1,0\n", LabelError, "label on line 2 is an empty label", id="blank-label"
    ),
    pytest.param(
        'label,p,x,y\n"A"B,0,1,0\n',
        GameFileError,
        "invalid CSV on line 2: ',' expected after '\"'",
        id="stray-quote",
    ),
    pytest.param(
        "label,p,x,y\nA\0,0,1,0\n",
        LabelError,
        "label on line 2 holds the control character '\\x00'",
        id="nul-character",
    ),
    pytest.param(
        b"label,p,x,y\nA\xff,0,1,0\n",
        GameFileError,
        "not UTF-8 text (invalid start byte at byte 13)",
        id="not-utf8",
    ),
]


@pytest.mark.parametrize(("content", "error_type", "detail"), BAD_CSV)
def test_a_bad_csv_roster_is_one_line_naming_file_and_line(
    tmp_path: Path, content: str | bytes, error_type: type[GameError], detail: str
) -> None:
    """Each malformed CSV roster raises its GameError subclass, naming the file and line."""
    path = _write(tmp_path, "roster.csv", content)
    with pytest.raises(error_type) as caught:
        read_game_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert detail in message
    assert "\n" not in message


BAD_JSON = [
    pytest.param("{", GameFileError, "invalid JSON: Expecting", id="invalid"),
    pytest.param("[1, 2]", GameFormatError, "the top level must be an object", id="not-object"),
    pytest.param(
        '{"x": 1}', GameFormatError, "has neither 'matrix' nor 'characters'", id="no-game"
    ),
    pytest.param(
        '{"characters": [{"label": "A", "p": NaN, "v": [1, 0]}]}',
        GameNumberError,
        "characters[0].p must be finite, got nan",
        id="nan",
    ),
    pytest.param(
        '{"characters": [{"label": "A", "p": 0, "v": [1, 0]},'
        ' {"label": "A", "p": 0, "v": [0, 1]}]}',
        LabelError,
        "characters[1].label repeats the label 'A' of characters[0].label",
        id="duplicate",
    ),
    pytest.param(
        '{"labels": ["a", "\\ud800"], "matrix": [[0, 1], [-1, 0]]}',
        LabelError,
        "labels[1] is not text UTF-8 can hold: it has the lone surrogate '\\ud800'",
        id="lone-surrogate",
    ),
    pytest.param("[" * 100_000 + "]" * 100_000, GameFileError, "nested too deep", id="deep"),
    pytest.param(b'{"labels": ["\xff"]}', GameFileError, "not UTF-8 text", id="not-utf8"),
]


@pytest.mark.parametrize(("content", "error_type", "detail"), BAD_JSON)
def test_a_bad_json_game_is_one_line_naming_file_and_entry(
    tmp_path: Path, content: str | bytes, error_type: type[GameError], detail: str
) -> None:
    """Each malformed JSON game raises its GameError subclass with 'file: entry problem'."""
    path = _write(tmp_path, "game.json", content)
    with pytest.raises(error_type) as caught:
        read_game_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert detail in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("make", "detail"),
    [
        pytest.param(lambda path: None, "no such file", id="missing"),
        pytest.param(lambda path: path.mkdir(), "is a folder, not a {} file", id="folder"),
    ],
)
@pytest.mark.parametrize(
    ("name", "what"),
    [pytest.param("r.csv", "CSV", id="csv"), pytest.param("r.json", "JSON", id="json")],
)
def test_an_unreadable_file_is_a_game_file_error(
    tmp_path: Path, make: Callable[[Path], object], detail: str, name: str, what: str
) -> None:
    """A missing file or a folder: the one-line GameFileError a TOML file gives."""
    path = tmp_path / name
    make(path)
    with pytest.raises(GameFileError) as caught:
        read_game_file(path)
    assert str(caught.value) == f"{path}: {detail.format(what)}"


def test_toml_files_are_still_read_by_load_game(tmp_path: Path) -> None:
    """read_game_file reads a .toml file exactly as load_game does."""
    path = _write(tmp_path, "roster.toml", ROSTER_TOML)
    assert read_game_file(path) == load_game(path)
