"""Tests of the text helpers shared by the domain, the app and runmeta."""

from __future__ import annotations

from typing import Any

import pytest

from monocycle_nash.text import cell_width, fit, plural, printable


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        pytest.param("abcdef", 10, "abcdef", id="fits"),
        pytest.param("abcdefghij", 8, "abcde...", id="ascii"),
        pytest.param("日本語のノート", 9, "日本語...", id="wide"),
        pytest.param("abcdef", 2, "..", id="tiny"),
    ],
)
def test_fit_shortens_to_terminal_cells(text: str, width: int, expected: str) -> None:
    """fit() keeps at most `width` terminal cells, ending a shortened text with '...'."""
    assert fit(text, width) == expected
    assert cell_width(fit(text, width)) <= width


@pytest.mark.parametrize(
    ("text", "width", "options", "expected"),
    [
        pytest.param("日本語のノート", 5, {"ellipsis": "\u2026"}, "日本\u2026", id="own-ellipsis"),
        pytest.param("abcdefgh", 2.5, {"measure": lambda s: 0.5 * len(s)}, "ab...", id="measure"),
        pytest.param("abcdefgh", 1.0, {"measure": lambda s: 0.5 * len(s)}, "..", id="tiny-measure"),
    ],
)
def test_fit_takes_another_ellipsis_or_measure(
    text: str, width: float, options: dict[str, Any], expected: str
) -> None:
    """fit() can end with another ellipsis, and measure widths its own way (e.g. pixels)."""
    assert fit(text, width, **options) == expected


@pytest.mark.parametrize(
    ("count", "many", "expected"),
    [
        pytest.param(1, None, "1 run", id="one"),
        pytest.param(0, None, "0 runs", id="zero"),
        pytest.param(2, None, "2 runs", id="two"),
        pytest.param(1, "strategies", "1 strategy", id="one-irregular"),
        pytest.param(3, "strategies", "3 strategies", id="irregular"),
    ],
)
def test_plural(count: int, many: str | None, expected: str) -> None:
    """plural() adds "s" unless the count is 1, or uses the plural it is given."""
    noun = "strategy" if many else "run"
    assert plural(count, noun, many) == expected


def test_cell_width_counts_wide_characters_twice() -> None:
    """East Asian wide characters take two cells, combining marks none."""
    assert cell_width("abc") == 3
    assert cell_width("日本") == 4
    assert cell_width("e\u0301") == 1


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("'abcdef'", 8, "'abcdef'", id="fits"),
        pytest.param("'abcdefghij'", 8, "'abcd...", id="ascii"),
        pytest.param("'日本語のノート'", 8, "'日本語の...", id="wide"),
    ],
)
def test_fit_can_count_characters(text: str, limit: int, expected: str) -> None:
    """With measure=len (as error messages use it), every character counts as one."""
    assert fit(text, limit, measure=len) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain 日本語 text", "plain 日本語 text", id="unchanged"),
        pytest.param("\x1b[2Jred", "\\x1b[2Jred", id="escape"),
        pytest.param("a\tb\nc\r", "a\\x09b\\x0ac\\x0d", id="c0-whitespace"),
        pytest.param("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b", id="nul-del-c1"),
        pytest.param("txt\u202eexe", "txt\\u202eexe", id="right-to-left-override"),
        pytest.param(
            "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069",
            "\\u061c\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069",
            id="every-bidi-control",
        ),
        pytest.param("a\u2028b\u2029", "a\\u2028b\\u2029", id="unicode-line-breaks"),
        pytest.param("out\udcff.txt", "out\\xff.txt", id="undecodable-byte"),
        pytest.param("\ud800", "\\ud800", id="lone-surrogate"),
        pytest.param(
            "\u3000\u00a0\u200d\u0301", "\u3000\u00a0\u200d\u0301", id="other-invisibles-kept"
        ),
        pytest.param("C:\\x1b", "C:\\x1b", id="backslashes-as-they-are"),
    ],
)
def test_printable_escapes_controls_and_bidi(text: str, expected: str) -> None:
    """printable() shows C0, C1, DEL, bidi controls and lone surrogates as escapes, no more."""
    assert printable(text) == expected


def test_printable_keeps_what_it_is_told_to_and_measures_right() -> None:
    """keep= lets a line break through; an escaped text is as wide as its characters."""
    assert printable("a\nb\x1b", keep="\n") == "a\nb\\x1b"
    assert cell_width(printable("日\x1b")) == 2 + 4
