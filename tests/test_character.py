"""Tests of the Character value type."""

from __future__ import annotations

import math

import pytest

from monocycle_nash import Character


def test_advantage_is_power_difference_plus_cross_product() -> None:
    """A[i][j] = p_i - p_j + v_i x v_j."""
    a = Character("A", 1.0, (2.0, 0.0))
    b = Character("B", 0.5, (0.0, 3.0))
    assert a.advantage_over(b) == pytest.approx(0.5 + 6.0)
    assert b.advantage_over(a) == pytest.approx(-a.advantage_over(b))


@pytest.mark.parametrize(
    ("label", "power", "vector"),
    [
        pytest.param("", 0.0, (0.0, 0.0), id="empty-label"),
        pytest.param("A", math.nan, (0.0, 0.0), id="nan-power"),
        pytest.param("A", 0.0, (math.inf, 0.0), id="infinite-vector"),
    ],
)
def test_invalid_character_is_refused(
    label: str, power: float, vector: tuple[float, float]
) -> None:
    """Empty labels and non-finite numbers are refused on construction."""
    with pytest.raises(ValueError, match="character"):
        Character(label, power, vector)
