"""Monocycle approximations of skew-symmetric games: J (dominant eigenpair) and B (u kept)."""

from __future__ import annotations

import json
import math
import random
import tomllib
from collections.abc import Sequence
from operator import mul
from pathlib import Path

import pytest

from monocycle_nash import (
    AlreadyMonocycleError,
    ApproximationError,
    Character,
    Equilibrium,
    Game,
    GameError,
    PayoffMatrix,
    solve,
)
from monocycle_nash.approximation import (
    METHODS,
    approximate,
    dominant_eigenpair,
    dominant_plane,
    equilibrium_preserving,
)
from monocycle_nash.game_files import read_game_file
from monocycle_nash.matrix import payoffs_against
from monocycle_nash.solver import roster_scale

SQRT3 = math.sqrt(3.0)
# RESEARCH.md section 3: the worked example A4 and its best rank-2 approximation J.
A4 = [[0, -1, 1, 1], [1, 0, -1, 0], [-1, 1, 0, 0], [-1, 0, 0, 0]]
ALPHA, BETA, GAMMA = 0.5 + 1 / SQRT3, 0.5 + SQRT3 / 6, SQRT3 / 6
J4 = [
    [0, -ALPHA, ALPHA, BETA],
    [ALPHA, 0, -BETA, -GAMMA],
    [-ALPHA, BETA, 0, -GAMMA],
    [-BETA, GAMMA, GAMMA, 0],
]
U4 = (1 / 3, 1 / 3, 1 / 3, 0.0)
RPS = [[0.0, 2 * SQRT3, -2 * SQRT3], [-2 * SQRT3, 0.0, 2 * SQRT3], [2 * SQRT3, -2 * SQRT3, 0.0]]


def random_skew(n: int, seed: int, scale: float = 1.0) -> list[list[float]]:
    """Upper entries uniform in [-scale, scale), mirrored with the opposite sign."""
    rng = random.Random(seed)
    rows = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rows[i][j] = rng.uniform(-1.0, 1.0) * scale
            rows[j][i] = -rows[i][j]
    return rows


def two_rps_blocks() -> list[list[float]]:
    """Two independent rock-paper-scissors games: the level 6 twice."""
    rows = [[0.0] * 6 for _ in range(6)]
    for i in range(3):
        for j in range(3):
            rows[i][j] = rows[i + 3][j + 3] = RPS[i][j]
    return rows


def largest_gap(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> float:
    """``max |a - b|`` of two matrices of one shape."""
    return max(
        abs(x - y)
        for row_a, row_b in zip(a, b, strict=True)
        for x, y in zip(row_a, row_b, strict=True)
    )


def finite_json(payload: object) -> str:
    """JSON text of ``payload``; fails on NaN or infinity anywhere."""
    return json.dumps(payload, allow_nan=False)


def test_a4_dominant_eigenpair_is_the_worked_example() -> None:
    """J of A4 is RESEARCH.md's matrix, with its levels, ratio and max_element sqrt(3)/6."""
    result = dominant_eigenpair(PayoffMatrix.from_rows(A4))
    assert largest_gap(result.matrix.rows, J4) < 1e-13
    assert result.spectrum.levels == pytest.approx((1.9318516526, 0.5176380902), abs=1e-10)
    assert result.dominant_eigen_ratio == pytest.approx(2 + SQRT3, rel=1e-13)
    assert result.distances.max_element == pytest.approx(SQRT3 / 6, rel=1e-13)
    assert result.distances.relative_spectral_error == pytest.approx(2 - SQRT3, rel=1e-12)
    assert all(c.power == 0.0 for c in result.characters)
    assert result.warnings == ()


def test_a4_j_is_the_roster_of_the_oriented_plane() -> None:
    """v_i = sqrt(sigma_1) (q1_i, q2_i) with q1^T A q2 = +sigma_1, and J[i][j] = v_i x v_j."""
    sigma, q1, q2 = dominant_plane(A4)
    assert sigma == pytest.approx(1.9318516526, abs=1e-10)
    a_q2 = [math.fsum(map(mul, row, q2)) for row in A4]
    assert math.fsum(map(mul, q1, a_q2)) == pytest.approx(sigma, rel=1e-14)
    result = dominant_eigenpair(A4)
    for c, a, b in zip(result.characters, q1, q2, strict=True):
        assert c.vector == pytest.approx((math.sqrt(sigma) * a, math.sqrt(sigma) * b), abs=1e-15)
    for ci, row in zip(result.characters, result.matrix.rows, strict=True):
        for cj, value in zip(result.characters, row, strict=True):
            assert value == ci.advantage_over(cj)


def test_a4_equilibrium_preserving_keeps_the_payoffs_against_u() -> None:
    """B u = A4 u = (0, 0, 0, -1/3) and max_element(B, A4) = (sqrt(3) - 1)/6."""
    result = equilibrium_preserving(PayoffMatrix.from_rows(A4))
    assert result.equilibrium.row_strategy == pytest.approx(U4, abs=1e-12)
    assert payoffs_against(result.matrix.rows, U4) == pytest.approx((0, 0, 0, -1 / 3), abs=1e-14)
    assert payoffs_against(A4, U4) == pytest.approx((0, 0, 0, -1 / 3), abs=1e-15)
    assert result.distances.max_element == pytest.approx((SQRT3 - 1) / 6, rel=1e-13)
    assert result.distances.equilibrium_u < 1e-15
    assert result.distances.strategy_l1 < 1e-12


@pytest.mark.parametrize("n", [3, 4, 7, 12, 30, 45])
def test_dominant_plane_is_an_invariant_orthonormal_plane(n: int) -> None:
    """A q2 = sigma q1 and A q1 = -sigma q2 to 1e-13 sigma; q1, q2 orthonormal; sigma = sigma_1."""
    rows = random_skew(n, 100 + n)
    sigma, q1, q2 = dominant_plane(rows)
    a_q1 = [math.fsum(map(mul, row, q1)) for row in rows]
    a_q2 = [math.fsum(map(mul, row, q2)) for row in rows]
    assert max(abs(a - sigma * b) for a, b in zip(a_q2, q1, strict=True)) < 1e-13 * sigma
    assert max(abs(a + sigma * b) for a, b in zip(a_q1, q2, strict=True)) < 1e-13 * sigma
    assert math.hypot(*q1) == pytest.approx(1.0, abs=1e-15)
    assert math.hypot(*q2) == pytest.approx(1.0, abs=1e-15)
    assert abs(math.fsum(map(mul, q1, q2))) < 1e-15
    assert sigma == pytest.approx(dominant_eigenpair(rows).sigma_1, rel=1e-13)


@pytest.mark.parametrize("n", [4, 9, 20])
def test_j_error_is_sigma2_over_sigma1(n: int) -> None:
    """Eckart-Young: |A - J|_2 / |A|_2 = sigma_2 / sigma_1, and J is a zero-power roster."""
    result = dominant_eigenpair(random_skew(n, n))
    sigma_1, sigma_2 = result.spectrum.levels[:2]
    assert result.distances.relative_spectral_error == pytest.approx(sigma_2 / sigma_1, rel=1e-12)
    assert result.dominant_eigen_ratio == pytest.approx(sigma_1 / sigma_2)


def test_scaling_the_game_scales_the_approximation() -> None:
    """A game with entries near 1e290 gives J scaled by 1e290 (no overflow, no underflow)."""
    rows = random_skew(10, 7)
    small = dominant_eigenpair(rows)
    large = dominant_eigenpair([[value * 1e290 for value in row] for row in rows])
    scaled = [[value * 1e290 for value in row] for row in small.matrix.rows]
    assert largest_gap(large.matrix.rows, scaled) < 1e-13 * 1e290
    finite_json(large.to_json())


@pytest.mark.parametrize(
    ("n", "seed"),
    [(4, 1), (5, 2), (6, 3), (8, 4), (11, 5), (15, 6), (20, 7), (25, 8), (30, 9)],
)
def test_solving_the_rendered_roster_gives_back_the_equilibrium(
    tmp_path: Path, n: int, seed: int
) -> None:
    """The TOML of B is read back exactly; u is its equilibrium, and the solved one pays the same.

    B's equilibria are a polytope when u has more than 3 strategies (all with B w = A u,
    inside u's support); a support of at most 3 gives back u itself.
    """
    rows = random_skew(n, seed)
    result = equilibrium_preserving(PayoffMatrix.from_rows(rows))
    path = tmp_path / "approximated_roster.toml"
    path.write_text(result.roster_toml(), encoding="utf-8")
    game = read_game_file(path)
    assert game.characters == result.characters
    u = result.equilibrium.column_strategy
    a_u = payoffs_against(rows, u)
    tolerance = 1e-9 * roster_scale(*game.arrays)
    b_u = payoffs_against(game.matrix.rows, u)
    assert max(abs(x - y) for x, y in zip(b_u, a_u, strict=True)) <= tolerance
    assert max(b_u) <= tolerance  # u is an equilibrium of B (value 0)
    solved = solve(game)
    b_w = payoffs_against(game.matrix.rows, solved.column_strategy)
    assert max(abs(x - y) for x, y in zip(b_w, a_u, strict=True)) <= tolerance
    assert all(u[i] > 0 for i, w in enumerate(solved.row_strategy) if w > 0)
    if sum(1 for weight in u if weight > 0) <= 3:
        assert solved.row_strategy == pytest.approx(u, abs=1e-9)


def test_roster_toml_is_a_game_file_of_the_roster() -> None:
    """The rendered file starts with comments naming the source (escaped), then the characters."""
    game = Game.of_matrix(PayoffMatrix.from_rows(A4, ["R", "P", "S", "D"]), "a4\n.toml")
    text = equilibrium_preserving(game).roster_toml()
    assert text.startswith("# The equilibrium preserving monocycle approximation of a4\\x0a.toml")
    assert list(tomllib.loads(text)) == ["characters"]
    assert 'label = "D"' in text
    assert "inf" not in text
    assert "nan" not in text


def test_main_job_solves_the_rendered_roster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python src/main.py approximated_roster.toml`` solves the file as it is."""
    from monocycle_nash.app import main  # noqa: PLC0415 - the app only for this test

    path = tmp_path / "approximated_roster.toml"
    path.write_text(equilibrium_preserving(A4).roster_toml(), encoding="utf-8")
    assert main([str(path), "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""


def test_roster_game_is_already_a_monocycle_game() -> None:
    """A roster input says so with AlreadyMonocycleError and its one summary line."""
    roster = Game.of_roster([Character("A", 0.0, (1.0, 0.0)), Character("B", 1.0, (0.0, 1.0))])
    for method in METHODS:
        with pytest.raises(AlreadyMonocycleError) as caught:
            approximate(roster, method)
        assert caught.value.summary_line() == (
            "Approximation: none, the game is a roster (already a monocycle game)"
        )
    assert dominant_eigenpair(roster.matrix).distances.max_element < 1e-15  # rank 2 already


def test_general_game_is_refused_with_one_line() -> None:
    """A game that is not skew-symmetric is an ApproximationError (a GameError) of one line."""
    game = Game.of_matrix(PayoffMatrix.from_rows([[0, 1], [2, 0]], ["a", "b"]), "measured.toml")
    with pytest.raises(ApproximationError) as caught:
        equilibrium_preserving(game)
    message = str(caught.value)
    assert isinstance(caught.value, GameError)
    assert "\n" not in message
    assert message.startswith("measured.toml: no monocycle approximation")
    assert "not skew-symmetric" in message
    assert "A['a']['b'] = 1" in message


def test_repeated_top_level_warns_that_j_is_not_unique() -> None:
    """Two RPS blocks: sigma_1 = 6 twice; J is one block, with a warning and no ratio."""
    result = dominant_eigenpair(two_rps_blocks())
    assert result.spectrum.multiplicities == (2,)
    assert result.dominant_eigen_ratio is None
    assert len(result.warnings) == 1
    assert "not unique" in result.warnings[0]
    assert "not unique" in result.summary_line()
    assert result.distances.spectral_error == pytest.approx(6.0, rel=1e-12)
    finite_json(result.to_json())


def test_one_level_gives_null_ratio_and_exact_j() -> None:
    """Rock-paper-scissors is rank 2: J = A, dominant_eigen_ratio null, all JSON finite."""
    for method in METHODS:
        result = approximate(RPS, method)
        payload = result.to_json()
        assert payload["dominant_eigen_ratio"] is None
        assert payload["sigma_2"] is None
        assert largest_gap(result.matrix.rows, RPS) < 1e-14
        assert "single level" in result.summary_line()
        finite_json(payload)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([[0.0]], id="1x1"),
        pytest.param([[0.0, 0.0], [0.0, 0.0]], id="zero"),
        pytest.param([[0.0, 2.5], [-2.5, 0.0]], id="2x2"),
        pytest.param([[0.0, 1e-300], [-1e-300, 0.0]], id="tiny"),
        pytest.param(random_skew(6, 11, 1e280), id="huge"),
    ],
)
def test_no_value_is_inf_or_nan(rows: list[list[float]]) -> None:
    """Degenerate and extreme games give finite numbers or nulls everywhere."""
    for method in METHODS:
        result = approximate(rows, method)
        text = finite_json(result.to_json()) + finite_json(result.distances.to_json())
        assert "Infinity" not in text
        assert "NaN" not in text
        assert "\n" not in result.summary_line()


def test_zero_matrix_is_its_own_approximation() -> None:
    """The zero game: every v = (0, 0), no levels, a warning saying so."""
    result = dominant_eigenpair([[0.0] * 3 for _ in range(3)])
    assert {c.vector for c in result.characters} == {(0.0, 0.0)}
    assert result.to_json()["sigma_1"] is None
    assert "zero matrix" in result.warnings[0]
    assert result.summary_line().endswith("the game is the zero matrix, its own approximation")


def test_given_equilibrium_is_used() -> None:
    """An equilibrium passed in is the u of B (no solve of its own)."""
    labels = ("s0", "s1", "s2", "s3")
    u = Equilibrium(labels, U4, U4, value=0.0, exploitability=0.0, solver="by hand")
    result = equilibrium_preserving(A4, equilibrium=u)
    assert result.equilibrium is u
    assert result.roster_equilibrium.row_strategy == U4
    assert result.roster_equilibrium.solver == "kept from the game (by hand)"


def test_unknown_method_is_refused() -> None:
    """``approximate`` names the methods it knows."""
    with pytest.raises(ValueError, match="dominant_eigenpair"):
        approximate(A4, "best")


def test_json_shape() -> None:
    """approximation.json holds the contract's keys, characters as label, p, v."""
    payload = equilibrium_preserving(A4).to_json()
    assert {
        "method",
        "matrix",
        "characters",
        "dominant_eigen_ratio",
        "distances",
        "warnings",
    } <= payload.keys()
    assert payload["method"] == "equilibrium_preserving"
    characters = payload["characters"]
    assert isinstance(characters, list)
    assert set(characters[0]) == {"label", "p", "v"}
    distances = payload["distances"]
    assert isinstance(distances, dict)
    assert {"max_element", "equilibrium_u", "reference_exploitability", "strategy_l1"} <= set(
        distances
    )


def test_constant_sum_game_is_told_how_to_become_skew_symmetric() -> None:
    """Win rates (A + A^T = 1) are refused with the hint to subtract 0.5."""
    rates = [[0.5, 0.6, 0.3], [0.4, 0.5, 0.7], [0.7, 0.3, 0.5]]
    with pytest.raises(ApproximationError, match=r"constant-sum \(A \+ A\^T = 1\): subtract 0.5"):
        dominant_eigenpair(rates)
    advantages = [[value - 0.5 for value in row] for row in rates]
    assert dominant_eigenpair(advantages).sigma_1 > 0
