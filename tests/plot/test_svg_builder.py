"""Tests of the SVG writer and the label-width helpers."""

from __future__ import annotations

import math

import pytest

from monocycle_nash.plot.svg import SvgBuilder, clean_text, escape_attr, fmt, id_prefix
from monocycle_nash.plot.text import ELLIPSIS, shorten, text_width
from tests.plot.svgtools import SVG, parse


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1.0, "1", id="integer"),
        pytest.param(0.125, "0.12", id="two-decimals"),
        pytest.param(-0.001, "0", id="negative-zero"),
        pytest.param(12.5, "12.5", id="trailing-zero"),
        pytest.param(-3.456, "-3.46", id="negative"),
    ],
)
def test_fmt_writes_fixed_short_numbers(value: float, expected: str) -> None:
    """Numbers get at most two decimals, no trailing zeros and never -0."""
    assert fmt(value) == expected


def test_fmt_refuses_non_finite_numbers() -> None:
    """NaN cannot be written into a picture."""
    with pytest.raises(ValueError, match="non-finite"):
        fmt(math.nan)


def test_attribute_and_text_escaping_round_trips() -> None:
    """Markup characters, quotes and Japanese text survive in attributes and text."""
    nasty = "<&>\"' リュウ\n"
    svg = SvgBuilder(10, 10, title=nasty)
    svg.element("text", {"data-label": nasty}, text=nasty, title=nasty)
    root = parse(svg.to_string())
    text = root.find(f"{SVG}text")
    assert text is not None
    assert text.get("data-label") == nasty
    assert text.text == nasty
    assert text.findtext(f"{SVG}title") == nasty
    assert root.findtext(f"{SVG}title") == nasty


def test_characters_xml_cannot_hold_are_replaced() -> None:
    """Control characters become U+FFFD so the document stays well-formed."""
    assert clean_text("a\x00b\x1bc\td") == "a\ufffdb\ufffdc\td"
    svg = SvgBuilder(10, 10, title="x\x07y")
    root = parse(svg.to_string())
    assert root.findtext(f"{SVG}title") == "x\ufffdy"
    assert '"' not in escape_attr('"')


def test_root_has_size_and_view_box() -> None:
    """The root element carries width, height and a matching viewBox."""
    root = parse(SvgBuilder(320, 200.5, title="t").to_string())
    assert (root.get("width"), root.get("height")) == ("320", "200.5")
    assert root.get("viewBox") == "0 0 320 200.5"


def test_unclosed_group_is_an_error() -> None:
    """A document with an open container is refused instead of written broken."""
    svg = SvgBuilder(10, 10, title="t")
    svg.open("g")
    with pytest.raises(RuntimeError, match="unclosed"):
        svg.to_string()


def test_id_prefix_depends_only_on_the_data() -> None:
    """Ids are the same for equal data and differ for different data."""
    assert id_prefix("k", (1, "a")) == id_prefix("k", (1, "a"))
    assert id_prefix("k", (1, "a")) != id_prefix("k", (2, "a"))


def test_wide_characters_count_double() -> None:
    """Japanese characters are estimated about twice as wide as Latin letters."""
    assert text_width("リュウ", 10) > 1.5 * text_width("abc", 10)


@pytest.mark.parametrize(
    "label",
    [
        pytest.param("E. Honda the Sumo Champion of the World", id="latin"),
        pytest.param("ストリートファイター・ザンギエフ・レッドサイクロン", id="japanese"),
    ],
)
def test_shorten_ends_long_labels_with_an_ellipsis(label: str) -> None:
    """A too-long label becomes a prefix plus an ellipsis that fits the width."""
    short = shorten(label, 100, 12)
    assert short.endswith(ELLIPSIS)
    assert label.startswith(short[:-1].rstrip())
    assert text_width(short, 12) <= 100
    assert shorten("Ken", 100, 12) == "Ken"


@pytest.mark.parametrize(
    ("label", "width", "expected"),
    [
        pytest.param("Ryu Ken", 33, "Ryu\u2026", id="no-space-before-ellipsis"),
        pytest.param("Ryu", 3, "\u2026", id="ellipsis-even-when-too-wide"),
    ],
)
def test_shorten_drops_spaces_and_keeps_the_ellipsis(
    label: str, width: float, expected: str
) -> None:
    """A label cut after a space loses the space; one too narrow is the ellipsis."""
    assert shorten(label, width, 10) == expected


def test_ids_hash_the_repr_of_large_data_piece_by_piece() -> None:
    """id_prefix digests exactly repr(data), also for lists and tuples longer than a batch."""
    import hashlib  # noqa: PLC0415 - this test only
    import random  # noqa: PLC0415

    from monocycle_nash.plot.svg import id_prefix  # noqa: PLC0415

    rng = random.Random(7)
    roster = [(f"c{i}", rng.random(), (rng.random(), -1.5)) for i in range(20_000)]
    for data in (
        (roster, tuple(rng.random() for _ in range(9_000)), None),
        ([("only",)], (1,), ("日本", "\udcff")),
        [],
        (),
    ):
        expected = hashlib.sha256(repr(data).encode("utf-8", "surrogatepass")).hexdigest()
        assert id_prefix("k", data) == f"mn-k-{expected[:10]}"
