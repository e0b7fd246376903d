"""Tests of the characters picture (matchup vectors, power, support, translation)."""

from __future__ import annotations

import pytest

from monocycle_nash.character import Character
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.plot import (
    MAX_CHARACTER_POINTS,
    PLOT_BOX,
    characters_scale,
    characters_svg,
)
from monocycle_nash.plot.scales import color_at
from monocycle_nash.plot.text import text_width
from tests.plot.svgtools import (
    SVG,
    by_class,
    equilibrium_for,
    parse,
    path_numbers,
    points,
    rps_equilibrium,
    rps_roster,
    texts,
)

# Translated copy of the RPS roster: same game, support triangle around a = (3, -1).
SHIFT = (3.0, -1.0)


def _shifted_roster() -> tuple[Character, ...]:
    """RPS roster moved by SHIFT (v + s, p - v x s) plus two weaker characters.

    Translated powers p + v x SHIFT: A, B, C 0; Weak -10; リュウ -1.
    """
    base = [
        Character(
            c.label,
            c.power - (c.vector[0] * SHIFT[1] - c.vector[1] * SHIFT[0]),
            (c.vector[0] + SHIFT[0], c.vector[1] + SHIFT[1]),
        )
        for c in rps_roster()
    ]
    return (*base, Character("Weak", -5.0, (3.5, 0.5)), Character("リュウ", -6.0, (1.0, -2.0)))


def _shifted_equilibrium() -> tuple[tuple[Character, ...], Equilibrium]:
    """The shifted roster and its uniform equilibrium over A, B, C (translation SHIFT)."""
    roster = _shifted_roster()
    third = 1.0 / 3.0
    equilibrium = equilibrium_for(
        tuple(c.label for c in roster), (third, third, third, 0.0, 0.0), SHIFT
    )
    return roster, equilibrium


def test_one_point_per_character_with_support_marked() -> None:
    """Every character is one circle; exactly the support members carry 'support'."""
    roster, equilibrium = _shifted_equilibrium()
    root = parse(characters_svg(roster, equilibrium))
    circles = by_class(root, "circle", "character")
    assert sorted(c.get("data-label", "") for c in circles) == sorted(c.label for c in roster)
    support = {c.get("data-label") for c in by_class(root, "circle", "support")}
    assert support == {"A", "B", "C"}


def test_points_sit_at_the_scaled_vectors() -> None:
    """Each circle's centre is its vector mapped by the public scale."""
    roster, equilibrium = _shifted_equilibrium()
    scale = characters_scale(roster, equilibrium)
    circles = by_class(parse(characters_svg(roster, equilibrium)), "circle", "character")
    assert sorted(int(circle.get("data-index", "-1")) for circle in circles) == list(
        range(len(roster))
    )
    for circle in circles:
        character = roster[int(circle.get("data-index", "-1"))]
        x, y = scale.to_svg(character.vector)
        assert float(circle.get("cx", "nan")) == pytest.approx(x, abs=0.006)
        assert float(circle.get("cy", "nan")) == pytest.approx(y, abs=0.006)


def test_triangle_vertices_are_the_support_coordinates_after_scaling() -> None:
    """The support polygon has exactly the scaled support vectors as vertices."""
    roster, equilibrium = _shifted_equilibrium()
    scale = characters_scale(roster, equilibrium)
    (polygon,) = by_class(parse(characters_svg(roster, equilibrium)), "polygon", "support-hull")
    expected = [scale.to_svg(c.vector) for c in roster[:3]]
    got = points(polygon)
    assert len(got) == 3
    for (gx, gy), (ex, ey) in zip(got, expected, strict=True):
        assert gx == pytest.approx(ex, abs=0.006)
        assert gy == pytest.approx(ey, abs=0.006)


def test_triangle_matches_the_axis_ticks() -> None:
    """Read back through the drawn axes, the triangle's corners are the support vectors."""
    roster, equilibrium = _shifted_equilibrium()
    root = parse(characters_svg(roster, equilibrium))
    x_ticks = [
        (float(t.get("data-value", "")), float(t.get("x", "")))
        for t in by_class(root, "text", "tick-x")
    ]
    y_ticks = [
        (float(t.get("data-value", "")), float(t.get("y", "")) - 4)
        for t in by_class(root, "text", "tick-y")
    ]
    (v0, p0), (v1, p1) = x_ticks[0], x_ticks[-1]
    (w0, q0), (w1, q1) = y_ticks[0], y_ticks[-1]
    x_unit = (p1 - p0) / (v1 - v0)
    y_unit = (q1 - q0) / (w1 - w0)
    assert x_unit == pytest.approx(-y_unit, rel=1e-3)  # equal units, y upwards
    (polygon,) = by_class(root, "polygon", "support-hull")
    for (px, py), character in zip(points(polygon), roster[:3], strict=True):
        assert v0 + (px - p0) / x_unit == pytest.approx(character.vector[0], abs=0.01)
        assert w0 + (py - q0) / y_unit == pytest.approx(character.vector[1], abs=0.01)


def test_translation_point_is_marked_at_its_scaled_position() -> None:
    """The translation cross is centred on the scaled translation point."""
    roster, equilibrium = _shifted_equilibrium()
    scale = characters_scale(roster, equilibrium)
    (cross,) = by_class(parse(characters_svg(roster, equilibrium)), "path", "translation")
    assert (float(cross.get("data-x", "")), float(cross.get("data-y", ""))) == SHIFT
    numbers = path_numbers(cross)
    centre = (sum(numbers[0::2]) / 4, sum(numbers[1::2]) / 4)
    expected = scale.to_svg(SHIFT)
    assert centre == pytest.approx(expected, abs=0.01)


def test_colour_shows_the_translated_power() -> None:
    """After translation the support shares the top colour; the weakest gets the bottom."""
    roster, equilibrium = _shifted_equilibrium()
    root = parse(characters_svg(roster, equilibrium))
    fills = {c.get("data-label"): c.get("fill") for c in by_class(root, "circle", "character")}
    assert fills["A"] == fills["B"] == fills["C"] == color_at(1.0)
    assert fills["Weak"] == color_at(0.0)


def test_without_translation_colour_is_the_given_power() -> None:
    """With no translation the colour follows p as given and no cross is drawn."""
    roster = (
        Character("Low", -1.0, (0.0, 0.0)),
        Character("High", 1.0, (1.0, 0.0)),
    )
    root = parse(characters_svg(roster, equilibrium_for(("Low", "High"), (0.0, 1.0))))
    fills = {c.get("data-label"): c.get("fill") for c in by_class(root, "circle", "character")}
    assert (fills["Low"], fills["High"]) == (color_at(0.0), color_at(1.0))
    assert by_class(root, "path", "translation") == []
    assert by_class(root, "polygon", "support-hull") == []


def test_two_member_support_is_a_segment() -> None:
    """A support of two is drawn as a two-vertex polygon (a segment)."""
    roster = (
        Character("A", 0.0, (1.0, 0.0)),
        Character("B", 0.0, (-1.0, 0.0)),
        Character("C", -1.0, (0.0, 1.0)),
    )
    root = parse(characters_svg(roster, equilibrium_for(("A", "B", "C"), (0.5, 0.5, 0.0))))
    (polygon,) = by_class(root, "polygon", "support-hull")
    assert len(points(polygon)) == 2


def test_larger_support_is_drawn_as_its_convex_hull() -> None:
    """A support of more than three shows its convex hull; inner members are no vertex."""
    roster = (
        Character("A", 0.0, (1.0, 1.0)),
        Character("B", 0.0, (-1.0, 1.0)),
        Character("C", 0.0, (-1.0, -1.0)),
        Character("D", 0.0, (1.0, -1.0)),
        Character("Mid", 0.0, (0.0, 0.0)),
    )
    equilibrium = equilibrium_for(tuple(c.label for c in roster), (0.2,) * 5)
    scale = characters_scale(roster, equilibrium)
    (polygon,) = by_class(parse(characters_svg(roster, equilibrium)), "polygon", "support-hull")
    corners = {(round(x, 1), round(y, 1)) for x, y in points(polygon)}
    expected = {(round(x, 1), round(y, 1)) for x, y in (scale.to_svg(c.vector) for c in roster[:4])}
    assert corners == expected


def test_labels_escape_markup_and_keep_japanese() -> None:
    """Labels with <&>\"' and Japanese names are escaped and read back unchanged."""
    roster = (
        Character("<b>&\"'", 0.0, (2.0, 0.0)),
        Character("リュウ", 0.0, (-1.0, 1.7)),
        Character("春麗", 0.0, (-1.0, -1.7)),
    )
    third = 1.0 / 3.0
    svg = characters_svg(roster, equilibrium_for(tuple(c.label for c in roster), (third,) * 3))
    root = parse(svg)
    assert [c.get("data-label") for c in by_class(root, "circle", "character")] == [
        "<b>&\"'",
        "リュウ",
        "春麗",
    ]
    assert {"<b>&\"'", "リュウ", "春麗"} <= set(texts(root))
    assert "<b>" not in svg


def test_labels_never_overlap_and_skipped_labels_are_reported() -> None:
    """In a crowded roster the drawn labels do not overlap and the caption says some are missing."""
    roster = tuple(
        Character(f"Fighter {index}", float(index % 7), ((index % 10) * 0.05, (index // 10) * 0.05))
        for index in range(60)
    )
    equilibrium = equilibrium_for(tuple(c.label for c in roster), (1.0,) + (0.0,) * 59)
    root = parse(characters_svg(roster, equilibrium))
    labels = by_class(root, "text", "label")
    assert 0 < len(labels) < 60
    boxes = []
    for label in labels:
        width = text_width(label.text or "", 12)
        x, y = float(label.get("x", "")), float(label.get("y", ""))
        left = {"start": x, "end": x - width, "middle": x - width / 2}[label.get("text-anchor", "")]
        boxes.append((left, y - 12, left + width, y + 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    assert any(text.startswith(f"labels shown for {len(labels)} of 60") for text in texts(root))
    assert "0" in {label.get("data-index") for label in labels}  # the support is labelled first


def test_huge_roster_draws_a_subsample_plus_the_support() -> None:
    """Above the point limit an even subsample and every support member are drawn."""
    count = MAX_CHARACTER_POINTS + 501
    roster = tuple(
        Character(f"C{index}", 0.0, (float(index % 97), float(index % 89)))
        for index in range(count)
    )
    support = (1, 2, count - 2)
    weights = tuple(1 / 3 if index in support else 0.0 for index in range(count))
    equilibrium = equilibrium_for(tuple(c.label for c in roster), weights)
    svg = characters_svg(roster, equilibrium)
    root = parse(svg)
    circles = by_class(root, "circle", "character")
    indices = {int(c.get("data-index", "")) for c in circles}
    assert len(circles) == len(indices)
    assert MAX_CHARACTER_POINTS <= len(circles) <= MAX_CHARACTER_POINTS + len(support)
    assert set(support) <= indices
    drawn = len(circles)
    note = f"showing {drawn} of {count} characters: an evenly spaced subsample"
    assert f"{note} plus all 3 support members" in texts(root)
    assert characters_svg(roster, equilibrium) == svg


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        pytest.param(("A", "B", "X"), "labels", id="labels-differ"),
        pytest.param(("B", "A", "C"), "labels", id="order-differs"),
    ],
)
def test_equilibrium_of_another_game_is_refused(labels: tuple[str, ...], message: str) -> None:
    """The equilibrium must belong to these characters, in their order."""
    third = 1.0 / 3.0
    with pytest.raises(ValueError, match=message):
        characters_svg(rps_roster(), equilibrium_for(labels, (third,) * 3))


def test_empty_roster_is_refused() -> None:
    """There must be something to draw."""
    with pytest.raises(ValueError, match="no characters"):
        characters_svg((), equilibrium_for((), ()))


def test_single_point_roster_gets_a_usable_scale() -> None:
    """A roster whose vectors coincide still gets a finite square around them."""
    roster = (Character("Solo", 0.0, (5.0, 5.0)),)
    equilibrium = equilibrium_for(("Solo",), (1.0,))
    scale = characters_scale(roster, equilibrium)
    assert scale.span > 0
    x, y = scale.to_svg((5.0, 5.0))
    left, top, size = PLOT_BOX
    assert (x, y) == pytest.approx((left + size / 2, top + size / 2))
    assert parse(characters_svg(roster, equilibrium)).find(f"{SVG}title") is not None


def test_rps_picture_is_deterministic() -> None:
    """The same roster and equilibrium give the same bytes."""
    assert characters_svg(rps_roster(), rps_equilibrium()) == characters_svg(
        rps_roster(), rps_equilibrium()
    )


@pytest.mark.parametrize(
    ("translation", "colour"),
    [
        pytest.param((0.0, 0.0), "colour = translated power p + v x a", id="translated"),
        pytest.param(None, "colour = power p", id="entered"),
    ],
)
def test_description_names_the_power_that_colours_the_points(
    translation: tuple[float, float] | None, colour: str
) -> None:
    """The <desc> says which power the colours show: translated when a is known."""
    third = 1.0 / 3.0
    equilibrium = equilibrium_for(("A", "B", "C"), (third, third, third), translation)
    root = parse(characters_svg(rps_roster(), equilibrium))
    description = root.find(f"{SVG}desc")
    assert description is not None and description.text is not None
    assert description.text.endswith(colour)
