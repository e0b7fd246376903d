"""Distances between a game X and a reference R on the same labels (compare.py)."""

from __future__ import annotations

import json
import math

import pytest

from monocycle_nash import (
    Character,
    ComparisonError,
    Equilibrium,
    Game,
    GameError,
    PayoffMatrix,
    compare_games,
    solve,
)

SQRT3 = math.sqrt(3.0)
# The two-game example: a rock-paper-scissors roster and a measured reference.
ROSTER = Game.of_roster(
    [
        Character("R", 0.0, (2.0, 0.0)),
        Character("P", 0.0, (-1.0, SQRT3)),
        Character("S", 0.0, (-1.0, -SQRT3)),
    ],
    "roster.toml",
)
REFERENCE_ROWS = [[0, 2 * SQRT3, -SQRT3], [-2 * SQRT3, 0, 3 * SQRT3], [SQRT3, -3 * SQRT3, 0]]
REFERENCE = Game.of_matrix(PayoffMatrix.from_rows(REFERENCE_ROWS, ["R", "P", "S"]), "ref.toml")


def test_two_game_example() -> None:
    """equilibrium_u = 2/sqrt(3), max_element = sqrt(3), reference equilibrium (1/2, 1/6, 1/3)."""
    result = compare_games(ROSTER, REFERENCE)
    assert result.reference_equilibrium.row_strategy == pytest.approx((1 / 2, 1 / 6, 1 / 3))
    assert result.game_equilibrium.row_strategy == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert result.equilibrium_u == pytest.approx(2 / SQRT3, rel=1e-12)
    assert result.max_element == pytest.approx(SQRT3, rel=1e-12)
    row, column = (("R", "P", "S").index(label) for label in result.max_element_at)
    assert abs(result.difference()[row][column]) == result.max_element
    assert result.strategy_l1 == pytest.approx(1 / 3, rel=1e-12)
    assert result.relative_max_element == pytest.approx(1 / 3, rel=1e-12)


def test_exploitabilities_in_both_directions() -> None:
    """R punishes X's uniform strategy by max(R u_X) = 1/sqrt(3); X punishes u_R by 2/sqrt(3)."""
    result = compare_games(ROSTER, REFERENCE)
    assert result.reference_exploitability == pytest.approx(1 / SQRT3, rel=1e-12)
    assert result.game_exploitability == pytest.approx(2 / SQRT3, rel=1e-12)


def test_per_strategy_differences() -> None:
    """Each strategy's pure payoffs in X and R against each equilibrium, and (X - R) u."""
    result = compare_games(ROSTER, REFERENCE)
    difference = result.difference()
    u_r = result.reference_equilibrium.column_strategy
    u_x = result.game_equilibrium.column_strategy
    for i, strategy in enumerate(result.strategies):
        assert strategy.label == ("R", "P", "S")[i]
        expected = math.fsum(d * w for d, w in zip(difference[i], u_r, strict=True))
        assert strategy.difference_vs_reference == pytest.approx(expected, abs=1e-15)
        assert strategy.game_vs_reference - strategy.reference_vs_reference == pytest.approx(
            expected, abs=1e-14
        )
        expected = math.fsum(d * w for d, w in zip(difference[i], u_x, strict=True))
        assert strategy.difference_vs_game == pytest.approx(expected, abs=1e-15)
    assert result.equilibrium_u == max(abs(s.difference_vs_reference) for s in result.strategies)
    assert result.game_equilibrium_u == max(abs(s.difference_vs_game) for s in result.strategies)


def test_labels_are_matched_by_name() -> None:
    """A reference listing the same labels in another order gives the same comparison."""
    order = [2, 0, 1]
    labels = [("R", "P", "S")[k] for k in order]
    rows = [[REFERENCE_ROWS[i][j] for j in order] for i in order]
    shuffled = Game.of_matrix(PayoffMatrix.from_rows(rows, labels), "ref.toml")
    first, second = compare_games(ROSTER, REFERENCE), compare_games(ROSTER, shuffled)
    assert second.reference.labels == ("R", "P", "S")
    assert second.reference.rows == first.reference.rows
    assert second.reference_equilibrium.row_strategy == pytest.approx(
        first.reference_equilibrium.row_strategy
    )
    for key in ("max_element", "equilibrium_u", "reference_exploitability", "strategy_l1"):
        assert getattr(second, key) == pytest.approx(getattr(first, key), rel=1e-12), key


def test_given_reference_equilibrium_in_its_own_order_is_reordered() -> None:
    """An equilibrium passed in the reference's label order is put in the game's order."""
    order = [2, 0, 1]
    labels = tuple(("R", "P", "S")[k] for k in order)
    rows = [[REFERENCE_ROWS[i][j] for j in order] for i in order]
    shuffled = Game.of_matrix(PayoffMatrix.from_rows(rows, labels), "ref.toml")
    weights = (1 / 3, 1 / 2, 1 / 6)  # S, R, P
    given = Equilibrium(labels, weights, weights, value=0.0, exploitability=0.0, solver="hand")
    result = compare_games(ROSTER, shuffled, reference_equilibrium=given)
    assert result.reference_equilibrium.labels == ("R", "P", "S")
    assert result.reference_equilibrium.row_strategy == (1 / 2, 1 / 6, 1 / 3)
    assert result.reference_equilibrium.solver == "hand"


def test_label_mismatch_is_one_line_listing_both_sides() -> None:
    """Labels in one game only: a ComparisonError naming them, on one line."""
    other = Game.of_matrix(
        PayoffMatrix.from_rows(REFERENCE_ROWS, ["R", "Paper", "S"]), "other.toml"
    )
    with pytest.raises(ComparisonError) as caught:
        compare_games(ROSTER, other)
    message = str(caught.value)
    assert isinstance(caught.value, GameError)
    assert "\n" not in message
    assert message.startswith("other.toml: ")
    assert "only in the game: 'P'" in message
    assert "only in the reference: 'Paper'" in message


def test_size_mismatch_lists_a_few_labels_and_counts_the_rest() -> None:
    """A reference with many extra labels lists five of them and counts the others."""
    labels = ["R", "P", "S", *(f"x{k}" for k in range(7))]
    big = PayoffMatrix.from_rows([[r - c for c in range(10)] for r in range(10)], labels)
    with pytest.raises(ComparisonError, match=r"only in the reference: 'x0'.*and 2 more"):
        compare_games(ROSTER, big)


def test_a_game_against_itself_is_at_distance_zero() -> None:
    """Every distance of X against X is 0 (to round-off); the spectral figures too."""
    result = compare_games(REFERENCE, REFERENCE)
    for key, value in result.distances().items():
        if key != "max_element_at":
            assert value == pytest.approx(0.0, abs=1e-14), key
    assert result.max_element == 0.0


def test_general_games_have_no_spectral_figures() -> None:
    """Games that are not skew-symmetric: spectral_error and its ratio are None, values kept."""
    game = PayoffMatrix.from_rows([[3.0, 0.0], [0.0, 1.0]], ["a", "b"])
    reference = PayoffMatrix.from_rows([[2.0, 0.0], [0.0, 2.0]], ["a", "b"])
    result = compare_games(game, reference)
    assert result.spectral_error is None
    assert result.relative_spectral_error is None
    assert result.game_equilibrium.value == pytest.approx(0.75)
    assert result.reference_equilibrium.value == pytest.approx(1.0)
    # R against X's column strategy (1/4, 3/4): max(1/2, 3/2) - 1.
    assert result.reference_exploitability == pytest.approx(0.5)
    # X against R's column strategy (1/2, 1/2): max(3/2, 1/2) - 3/4.
    assert result.game_exploitability == pytest.approx(0.75)
    assert result.max_element == 1.0


def test_given_equilibria_are_not_solved_again() -> None:
    """The equilibria passed in are the ones used."""
    x = solve(ROSTER)
    r = solve(REFERENCE)
    result = compare_games(ROSTER, REFERENCE, game_equilibrium=x, reference_equilibrium=r)
    assert result.game_equilibrium is x
    assert result.reference_equilibrium is r


@pytest.mark.parametrize(
    "scale",
    [pytest.param(1e-300, id="tiny"), pytest.param(1.0, id="one"), pytest.param(1e299, id="huge")],
)
def test_no_value_is_inf_or_nan(scale: float) -> None:
    """comparison.json is finite at any payoff scale (differences up to 2e299)."""
    game = PayoffMatrix.from_rows([[0.0, scale], [-scale, 0.0]], ["a", "b"])
    reference = PayoffMatrix.from_rows([[0.0, -scale], [scale, 0.0]], ["a", "b"])
    result = compare_games(game, reference)
    text = json.dumps(result.to_json(), allow_nan=False)
    assert "Infinity" not in text
    assert result.max_element == 2 * scale
    assert "\n" not in result.summary_line()


def test_json_shape() -> None:
    """comparison.json: both sides, labels, the distances and one entry per strategy."""
    payload = compare_games(ROSTER, REFERENCE).to_json()
    assert {
        "game",
        "reference",
        "labels",
        "max_element",
        "equilibrium_u",
        "reference_exploitability",
        "game_exploitability",
        "strategy_l1",
        "strategies",
    } <= payload.keys()
    assert payload["reference"]["source"] == "ref.toml"  # type: ignore[index]
    strategies = payload["strategies"]
    assert isinstance(strategies, list)
    assert len(strategies) == 3
    assert set(strategies[0]["against_reference_equilibrium"]) == {
        "game",
        "reference",
        "difference",
    }


def test_summary_line() -> None:
    """One line naming the reference and the main distances."""
    result = compare_games(ROSTER, REFERENCE)
    row, column = result.max_element_at
    assert result.summary_line() == (
        f"Comparison with ref.toml: max |X - R| 1.732 at ({row}, {column}); equilibrium_u "
        "1.155; reference exploits the game's equilibrium by 0.5774; strategy L1 0.3333"
    )
