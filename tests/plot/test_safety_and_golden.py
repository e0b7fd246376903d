"""Every picture is self-contained and deterministic; the RPS pictures match golden files.

The golden files live in ``tests/plot/golden/``. After an intended change to the
pictures, regenerate them with

    UPDATE_GOLDEN=1 uv run pytest tests/plot/test_safety_and_golden.py

then look at the new files (e.g. ``rsvg-convert``) and commit them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from monocycle_nash.character import Character
from monocycle_nash.plot import characters_svg, equilibrium_svg, payoff_graph_svg
from tests.plot.svgtools import SVG, equilibrium_for, parse, rps_equilibrium, rps_roster

GOLDEN = Path(__file__).parent / "golden"
NASTY = ("<script>alert(1)</script>", "A&B \"q\" 'a'", "リュウ", "http://example.com/x.png")


def _rps_characters() -> str:
    return characters_svg(rps_roster(), rps_equilibrium())


def _rps_equilibrium() -> str:
    return equilibrium_svg(rps_equilibrium())


def _rps_graph() -> str:
    roster = rps_roster()
    rows = [[a.advantage_over(b) for b in roster] for a in roster]
    return payoff_graph_svg([c.label for c in roster], rows)


def _nasty_characters() -> str:
    roster = tuple(
        Character(label, float(index), (float(index), 1.0 - index))
        for index, label in enumerate(NASTY)
    )
    return characters_svg(roster, equilibrium_for(NASTY, (0.5, 0.5, 0.0, 0.0), (0.5, 0.5)))


def _nasty_equilibrium() -> str:
    return equilibrium_svg(equilibrium_for(NASTY, (0.5, 0.5, 0.0, 0.0)))


def _nasty_graph() -> str:
    rows = [[float(j - i) for j in range(4)] for i in range(4)]
    return payoff_graph_svg(NASTY, rows)


PICTURES: list[object] = [
    pytest.param(_rps_characters, id="rps-characters"),
    pytest.param(_rps_equilibrium, id="rps-equilibrium"),
    pytest.param(_rps_graph, id="rps-graph"),
    pytest.param(_nasty_characters, id="nasty-characters"),
    pytest.param(_nasty_equilibrium, id="nasty-equilibrium"),
    pytest.param(_nasty_graph, id="nasty-graph"),
]


@pytest.mark.parametrize("draw", PICTURES)
def test_no_script_and_no_external_reference(draw: Callable[[], str]) -> None:
    """No script, event handler, href, foreign content or url() outside the document."""
    root = parse(draw())
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        assert tag not in {"script", "image", "foreignObject", "use", "a", "style"}
        for name, value in element.attrib.items():
            assert "href" not in name
            assert not name.startswith("on")
            for target in re.findall(r"url\(([^)]*)\)", value):
                assert target.startswith("#")
                assert target[1:] in ids


@pytest.mark.parametrize(
    "draw",
    [
        pytest.param(_nasty_characters, id="characters"),
        pytest.param(_nasty_equilibrium, id="equilibrium"),
        pytest.param(_nasty_graph, id="graph"),
    ],
)
def test_nasty_labels_keep_their_text(draw: Callable[[], str]) -> None:
    """Markup-like labels are text, never markup: each label's full text is in a <text>."""
    svg = draw()
    assert "<script" not in svg
    texts = ["".join(element.itertext()) for element in parse(svg).iter(f"{SVG}text")]
    for label in NASTY:
        assert any(label in text for text in texts), label


@pytest.mark.parametrize("draw", PICTURES)
def test_same_input_gives_the_same_bytes(draw: Callable[[], str]) -> None:
    """Drawing twice gives identical documents."""
    assert draw() == draw()


@pytest.mark.parametrize("draw", PICTURES)
def test_fixed_canvas_with_view_box(draw: Callable[[], str]) -> None:
    """The root carries width, height and the matching viewBox; a background fills it."""
    root = parse(draw())
    width, height = root.get("width"), root.get("height")
    assert root.get("viewBox") == f"0 0 {width} {height}"
    background = root.find(f"{SVG}rect")
    assert background is not None
    assert (background.get("width"), background.get("height")) == (width, height)


@pytest.mark.parametrize(
    ("name", "draw"),
    [
        pytest.param("rps_characters.svg", _rps_characters, id="characters"),
        pytest.param("rps_equilibrium.svg", _rps_equilibrium, id="equilibrium"),
        pytest.param("rps_payoff_graph.svg", _rps_graph, id="payoff-graph"),
    ],
)
def test_rps_pictures_match_golden_files(name: str, draw: Callable[[], str]) -> None:
    """The rock-paper-scissors pictures are byte-for-byte the committed golden files."""
    path = GOLDEN / name
    text = draw()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(text.encode("utf-8"))
        pytest.skip(f"rewrote {path.name}")
    assert path.read_bytes() == text.encode("utf-8")
