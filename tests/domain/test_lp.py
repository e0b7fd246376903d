"""The simplex solver for general zero-sum matrix games, in floats and exactly."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from monocycle_nash import PayoffMatrix, solve
from monocycle_nash.solver import solve_matrix_game, solve_matrix_game_exact

RPS = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]


def _guarantees(
    rows: list[list[float]], x: tuple[float, ...], y: tuple[float, ...]
) -> tuple[float, float]:
    """(what x guarantees the row player, what y concedes at most)."""
    row_floor = min(sum(x[i] * rows[i][j] for i in range(len(rows))) for j in range(len(y)))
    column_ceiling = max(sum(a * b for a, b in zip(row, y, strict=True)) for row in rows)
    return row_floor, column_ceiling


def test_rock_paper_scissors_is_exactly_uniform_in_exact_mode() -> None:
    """Exact mode gives 1/3 for each strategy and value 0, as Fractions."""
    solution = solve_matrix_game_exact(RPS)
    third = Fraction(1, 3)
    assert solution.row_strategy == (third, third, third)
    assert solution.column_strategy == (third, third, third)
    assert solution.value == 0


def test_rock_paper_scissors_matrix_through_solve() -> None:
    """solve() on the RPS matrix: uniform, value 0, exact mode reported as simplex-exact."""
    matrix = PayoffMatrix.from_rows(RPS, ["Rock", "Paper", "Scissors"])
    approx = solve(matrix)
    assert approx.solver == "simplex-devex"
    assert approx.row_strategy == pytest.approx((1 / 3,) * 3, abs=1e-12)
    assert approx.value == pytest.approx(0.0, abs=1e-12)
    exact = solve(matrix, exact=True)
    assert exact.solver == "simplex-exact"
    assert exact.row_strategy == (1 / 3, 1 / 3, 1 / 3)
    assert exact.column_strategy == (1 / 3, 1 / 3, 1 / 3)
    assert exact.value == 0.0
    assert exact.exploitability == 0.0
    assert exact.support == ("Rock", "Paper", "Scissors")


def test_non_symmetric_two_by_two_has_hand_computed_value() -> None:
    """[[3,-1],[-2,1]]: value 1/7, row (3/7, 4/7), column (2/7, 5/7)."""
    rows = [[3.0, -1.0], [-2.0, 1.0]]
    exact = solve_matrix_game_exact(rows)
    assert exact.value == Fraction(1, 7)
    assert exact.row_strategy == (Fraction(3, 7), Fraction(4, 7))
    assert exact.column_strategy == (Fraction(2, 7), Fraction(5, 7))
    approx = solve(PayoffMatrix.from_rows(rows))
    assert approx.value == pytest.approx(1 / 7, abs=1e-12)
    assert approx.row_strategy == pytest.approx((3 / 7, 4 / 7), abs=1e-12)
    assert approx.column_strategy == pytest.approx((2 / 7, 5 / 7), abs=1e-12)
    assert approx.exploitability < 1e-12


def test_saddle_point_gives_pure_strategies() -> None:
    """A matrix with a saddle point is solved by pure strategies at the saddle value."""
    rows = [[4.0, 2.0, 5.0], [1.0, 0.0, 7.0], [3.0, 1.0, 6.0]]
    solution = solve_matrix_game_exact(rows)
    assert solution.value == 2
    assert solution.row_strategy == (1, 0, 0)
    assert solution.column_strategy == (0, 1, 0)


def test_constant_matrix_is_solved() -> None:
    """A constant matrix (every strategy optimal) gives a valid answer at that value."""
    solution = solve_matrix_game([[2.5, 2.5], [2.5, 2.5]])
    assert solution.value == pytest.approx(2.5)
    assert sum(solution.row_strategy) == pytest.approx(1.0)
    assert sum(solution.column_strategy) == pytest.approx(1.0)


def test_degenerate_duplicate_rows_and_columns_terminate() -> None:
    """Repeated rows/columns (degenerate pivots) still end at the right value."""
    rows = [[0.0, -1.0, 1.0, 1.0], [1.0, 0.0, -1.0, -1.0], [-1.0, 1.0, 0.0, 0.0]] * 2
    exact = solve_matrix_game_exact(rows)
    assert exact.value == 0
    approx = solve_matrix_game(rows)
    floor, ceiling = _guarantees(rows, approx.row_strategy, approx.column_strategy)
    assert floor == pytest.approx(0.0, abs=1e-12)
    assert ceiling == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("m", "n", "seed"),
    [
        pytest.param(1, 1, 0, id="1x1"),
        pytest.param(1, 5, 1, id="1x5"),
        pytest.param(5, 1, 2, id="5x1"),
        pytest.param(4, 9, 3, id="4x9"),
        pytest.param(9, 4, 4, id="9x4"),
        pytest.param(12, 12, 5, id="12x12"),
        pytest.param(30, 30, 6, id="30x30"),
        pytest.param(60, 40, 7, id="60x40"),
    ],
)
def test_random_matrix_guarantees_meet_at_the_value(m: int, n: int, seed: int) -> None:
    """Both players' guarantees equal the reported value for random m x n games."""
    rng = random.Random(seed)
    rows = [[rng.uniform(-3.0, 5.0) for _ in range(n)] for _ in range(m)]
    solution = solve_matrix_game(rows)
    floor, ceiling = _guarantees(rows, solution.row_strategy, solution.column_strategy)
    assert floor == pytest.approx(solution.value, abs=1e-9)
    assert ceiling == pytest.approx(solution.value, abs=1e-9)
    assert min(solution.row_strategy) >= 0.0
    assert min(solution.column_strategy) >= 0.0
    assert sum(solution.row_strategy) == pytest.approx(1.0)
    assert sum(solution.column_strategy) == pytest.approx(1.0)


def test_random_small_matrix_float_and_exact_agree() -> None:
    """The float and the rational simplex give the same value on a random 6x6 game."""
    rng = random.Random(11)
    rows = [[float(rng.randint(-9, 9)) for _ in range(6)] for _ in range(6)]
    exact = solve_matrix_game_exact(rows)
    approx = solve_matrix_game(rows)
    assert approx.value == pytest.approx(float(exact.value), abs=1e-12)
    floor, ceiling = _guarantees(
        rows,
        tuple(float(w) for w in exact.row_strategy),
        tuple(float(w) for w in exact.column_strategy),
    )
    assert floor == pytest.approx(float(exact.value), abs=1e-12)
    assert ceiling == pytest.approx(float(exact.value), abs=1e-12)


def test_random_square_game_through_solve_reports_small_exploitability() -> None:
    """solve() on a random non-skew 20x20 matrix: exploitability near zero."""
    rng = random.Random(3)
    rows = [[rng.random() for _ in range(20)] for _ in range(20)]
    equilibrium = solve(PayoffMatrix.from_rows(rows))
    assert equilibrium.exploitability < 1e-9
    assert equilibrium.translation is None
    assert len(equilibrium.row_strategy) == 20


def test_float_strategies_carry_no_round_off_weights() -> None:
    """Degenerate integer games: no strategy weight is a round-off speck like 1e-16."""
    for seed in range(300):
        rng = random.Random(seed)
        m, n = rng.randint(1, 12), rng.randint(1, 12)
        rows = [[float(rng.randint(-2, 2)) for _ in range(n)] for _ in range(m)]
        solution = solve_matrix_game(rows)
        for strategy in (solution.row_strategy, solution.column_strategy):
            assert min(w for w in strategy if w > 0) > 1e-9, seed
            assert sum(strategy) == pytest.approx(1.0, abs=1e-12)
