"""Tests of the equilibrium bar chart."""

from __future__ import annotations

import pytest

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.plot import equilibrium_svg
from monocycle_nash.plot.text import ELLIPSIS
from tests.plot.svgtools import SVG, by_class, equilibrium_for, parse, texts


def _bars(svg: str) -> list[tuple[str, float, float, float]]:
    """(label, probability, y, width) of every bar, in document order."""
    return [
        (
            bar.get("data-label", ""),
            float(bar.get("data-probability", "nan")),
            float(bar.get("y", "nan")),
            float(bar.get("width", "nan")),
        )
        for bar in by_class(parse(svg), "rect", "bar")
    ]


def test_one_bar_per_supported_strategy_sorted_by_probability() -> None:
    """Bars exist only for positive probabilities and run from largest to smallest."""
    labels = ("Ken", "リュウ", "Guile", "春麗")
    equilibrium = equilibrium_for(labels, (0.2, 0.5, 0.0, 0.3))
    bars = _bars(equilibrium_svg(equilibrium))
    assert [label for label, *_ in bars] == ["リュウ", "春麗", "Ken"]
    assert [p for _, p, *_ in bars] == [0.5, 0.3, 0.2]
    ys = [y for *_, y, _ in bars]
    assert ys == sorted(ys)


def test_bar_length_is_proportional_to_probability() -> None:
    """A bar twice as probable is twice as long."""
    equilibrium = equilibrium_for(("A", "B", "C"), (0.5, 0.25, 0.25))
    widths = {label: width for label, _, _, width in _bars(equilibrium_svg(equilibrium))}
    assert widths["A"] == pytest.approx(2 * widths["B"], abs=0.02)
    assert widths["B"] == pytest.approx(widths["C"], abs=0.01)


def test_ties_keep_the_label_order() -> None:
    """Equal probabilities are listed in the game's label order."""
    equilibrium = equilibrium_for(("Z", "Y", "X", "W"), (0.25, 0.25, 0.25, 0.25))
    assert [label for label, *_ in _bars(equilibrium_svg(equilibrium))] == ["Z", "Y", "X", "W"]


def test_small_game_lists_zero_probability_strategies_without_bars() -> None:
    """Every strategy of a small game is named; unplayed ones get no bar."""
    equilibrium = equilibrium_for(("A", "B", "Unused"), (0.5, 0.5, 0.0))
    root = parse(equilibrium_svg(equilibrium))
    assert "Unused" in [label.text for label in by_class(root, "text", "label")]
    assert len(by_class(root, "rect", "bar")) == 2
    assert not any("more" in text for text in texts(root))


def test_large_game_shows_the_support_and_counts_the_rest() -> None:
    """A game above max_bars shows only its support plus a count of the others."""
    labels = tuple(f"S{index}" for index in range(50))
    weights = tuple(0.5 if index == 7 else 0.25 if index in {3, 40} else 0.0 for index in range(50))
    root = parse(equilibrium_svg(equilibrium_for(labels, weights), max_bars=30))
    assert [bar.get("data-label") for bar in by_class(root, "rect", "bar")] == ["S7", "S3", "S40"]
    assert len(by_class(root, "text", "label")) == 3
    assert "and 47 more strategies with zero probability" in texts(root)


def test_support_larger_than_max_bars_is_cut_and_its_remaining_mass_reported() -> None:
    """Past max_bars the remaining support members are counted with their total mass."""
    labels = tuple(f"S{index}" for index in range(12))
    weights = tuple([0.1] * 10 + [0.0] * 2)
    root = parse(equilibrium_svg(equilibrium_for(labels, weights), max_bars=4))
    assert len(by_class(root, "rect", "bar")) == 4
    notes = [note.text for note in by_class(root, "text", "note")]
    assert notes == [
        "and 6 more strategies in the support (total probability 0.6)",
        "and 2 more strategies with zero probability",
    ]


def test_notes_about_one_hidden_strategy_are_singular() -> None:
    """One hidden support member and one zero-probability strategy are each 'strategy'."""
    labels = tuple(f"S{index}" for index in range(6))
    weights = (0.2, 0.2, 0.2, 0.2, 0.2, 0.0)
    root = parse(equilibrium_svg(equilibrium_for(labels, weights), max_bars=4))
    notes = [note.text for note in by_class(root, "text", "note")]
    assert notes == [
        "and 1 more strategy in the support (total probability 0.2)",
        "and 1 more strategy with zero probability",
    ]


def test_caption_states_value_exploitability_and_solver() -> None:
    """The caption carries the value, the exploitability and the solver name."""
    equilibrium = equilibrium_for(("A", "B"), (1.0, 0.0), value=0.125, exploitability=2.5e-9)
    caption = by_class(parse(equilibrium_svg(equilibrium)), "text", "caption")[0].text or ""
    assert "value 0.125" in caption
    assert "exploitability 2.5e-09" in caption
    assert "solver by hand" in caption


def test_long_label_is_shortened_with_the_full_label_in_a_title() -> None:
    """A long label shows an ellipsis; its full text stays in a <title>."""
    long = "E. Honda, the Sumo Champion of the Whole Wide World <&>"
    root = parse(equilibrium_svg(equilibrium_for((long, "B"), (0.5, 0.5))))
    label = by_class(root, "text", "label")[0]
    assert (label.text or "").endswith(ELLIPSIS)
    assert label.findtext(f"{SVG}title") == long
    assert by_class(root, "rect", "bar")[0].get("data-label") == long


def test_long_caption_is_shortened_with_the_full_text_in_a_title() -> None:
    """A caption wider than the canvas ends with an ellipsis and keeps its text in a <title>."""
    equilibrium = Equilibrium(
        labels=("A",),
        row_strategy=(1.0,),
        column_strategy=(1.0,),
        value=0.0,
        exploitability=0.0,
        solver="a solver with a remarkably long descriptive name " * 3,
    )
    (caption,) = by_class(parse(equilibrium_svg(equilibrium)), "text", "caption")
    assert (caption.text or "").endswith(ELLIPSIS)
    assert equilibrium.solver.strip() in (caption.findtext(f"{SVG}title") or "")


def test_max_bars_below_one_is_refused() -> None:
    """max_bars must allow at least one bar."""
    with pytest.raises(ValueError, match="max_bars"):
        equilibrium_svg(equilibrium_for(("A",), (1.0,)), max_bars=0)
