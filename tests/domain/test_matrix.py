"""PayoffMatrix: validated on construction, built from characters by the monocycle formula."""

from __future__ import annotations

import math

import pytest

from monocycle_nash import (
    Character,
    Game,
    GameError,
    GameFormatError,
    GameNumberError,
    LabelError,
    MatrixShapeError,
    PayoffMatrix,
)


def test_matrix_keeps_labels_and_rows_as_float_tuples() -> None:
    """Lists and ints are normalised to tuples of floats; size counts strategies."""
    matrix = PayoffMatrix.from_rows([[0, 1], [-1, 0]], ["A", "B"])
    assert matrix.labels == ("A", "B")
    assert matrix.rows == ((0.0, 1.0), (-1.0, 0.0))
    assert isinstance(matrix.rows[0][1], float)
    assert matrix.size == 2


def test_from_rows_defaults_labels() -> None:
    """Without labels the strategies are s0, s1, ..."""
    assert PayoffMatrix.from_rows([[0.0] * 3] * 3).labels == ("s0", "s1", "s2")


def test_from_characters_uses_power_difference_plus_cross_product() -> None:
    """A[i][j] = p_i - p_j + x_i*y_j - y_i*x_j, skew-symmetric, labels from characters."""
    roster = [Character("A", 1.0, (2.0, 0.0)), Character("B", 0.5, (0.0, 3.0))]
    matrix = PayoffMatrix.from_characters(roster)
    assert matrix.labels == ("A", "B")
    assert matrix.rows == ((0.0, 6.5), (-6.5, 0.0))


@pytest.mark.parametrize(
    ("labels", "rows", "error_type", "detail"),
    [
        pytest.param((), (), MatrixShapeError, "rows is empty", id="empty"),
        pytest.param(
            ("A", "B"), ((0.0, 1.0), (1.0,)), MatrixShapeError, "rows[1] has 1 entry,", id="ragged"
        ),
        pytest.param(
            ("A",), ((0.0, 1.0),), MatrixShapeError, "rows[0] has 2 entries", id="non-square"
        ),
        pytest.param(
            ("A",), ((math.nan,),), GameNumberError, "rows[0][0] must be finite", id="nan"
        ),
        pytest.param(
            ("A",), ((math.inf,),), GameNumberError, "rows[0][0] must be finite", id="infinite"
        ),
        pytest.param(
            ("A", "B"), ((0.0,),), MatrixShapeError, "2 labels given for a 1x1 matrix", id="count"
        ),
        pytest.param(
            ("A", "A"), ((0.0, 0.0), (0.0, 0.0)), LabelError, "repeats the label", id="duplicate"
        ),
        pytest.param(("",), ((0.0,),), LabelError, "labels[0] is an empty label", id="empty-label"),
    ],
)
def test_invalid_matrix_is_refused(
    labels: tuple[str, ...],
    rows: tuple[tuple[float, ...], ...],
    error_type: type[GameError],
    detail: str,
) -> None:
    """Direct construction validates like a file does, naming the entry."""
    with pytest.raises(error_type) as caught:
        PayoffMatrix(labels, rows)
    assert str(caught.value).startswith("payoff matrix: ")
    assert detail in str(caught.value)


def test_roster_game_refuses_duplicate_and_empty_rosters() -> None:
    """Game.of_roster refuses repeated labels and an empty roster."""
    twin = Character("A", 0.0, (1.0, 0.0))
    with pytest.raises(LabelError, match="repeats the label 'A'"):
        Game.of_roster([twin, twin])
    with pytest.raises(GameFormatError, match="characters is empty"):
        Game.of_roster([])
