"""Certified values: a matrix answer's value and gap come from its strategies, exactly."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from monocycle_nash import Character, Equilibrium, PayoffMatrix, solve
from monocycle_nash.solver import certify, solve_matrix_game_exact
from monocycle_nash.solver import matrix_game as matrix_game_module
from monocycle_nash.solver.lp import MatrixGameSolution

WIDE_SADDLES = [
    pytest.param([[0.0, 1e17], [-1.0, 0.0]], id="1e17"),
    pytest.param([[0.0, 1e15], [-1.0, 0.0]], id="1e15"),
]
WIDE_CYCLE = [[0.0, 2.0, -1.0], [-2.0, 0.0, 1e8], [1.0, -1e8, 0.0]]
FLOAT_METHODS = ["auto", "simplex", "double-oracle"]


def _exact_guarantees(
    rows: list[list[float]], x: tuple[float, ...], y: tuple[float, ...]
) -> tuple[Fraction, Fraction]:
    """(min_j (x^T A)_j, max_i (A y)_i) of the float strategies, in rational arithmetic."""
    exact = [[Fraction(a) for a in row] for row in rows]
    fx = [Fraction(w) for w in x]
    fy = [Fraction(w) for w in y]
    lower = min(
        sum((w * row[j] for w, row in zip(fx, exact, strict=True)), Fraction(0))
        for j in range(len(y))
    )
    upper = max(sum((a * w for a, w in zip(row, fy, strict=True)), Fraction(0)) for row in exact)
    return lower, upper


@pytest.mark.parametrize("method", [*FLOAT_METHODS, "exact"])
@pytest.mark.parametrize("rows", WIDE_SADDLES)
def test_wide_range_saddle_has_value_zero(rows: list[list[float]], method: str) -> None:
    """[[0, 1e17], [-1, 0]] and 1e15: value exactly 0, gap 0, certified."""
    equilibrium = solve(PayoffMatrix.from_rows(rows), method=method)
    assert equilibrium.value == 0.0
    assert equilibrium.exploitability == 0.0
    assert equilibrium.gap == 0.0
    assert equilibrium.certified
    assert equilibrium.row_strategy == (1.0, 0.0)
    assert equilibrium.column_strategy == (1.0, 0.0)


@pytest.mark.parametrize("method", [*FLOAT_METHODS, "exact"])
def test_wide_range_cycle_value_lies_within_its_strategies_bounds(method: str) -> None:
    """[[0, 2, -1], [-2, 0, 1e8], [1, -1e8, 0]]: the value is inside [lower, upper]."""
    equilibrium = solve(PayoffMatrix.from_rows(WIDE_CYCLE), method=method)
    lower, upper = _exact_guarantees(
        WIDE_CYCLE, equilibrium.row_strategy, equilibrium.column_strategy
    )
    assert lower <= Fraction(equilibrium.value) <= upper
    assert float(upper - lower) <= 2 * equilibrium.tolerance
    assert equilibrium.certified
    # The game is skew-symmetric, so its value is 0: within the certificate.
    assert abs(equilibrium.value) <= equilibrium.gap + 1e-300


@pytest.mark.parametrize(
    "rows",
    [
        *WIDE_SADDLES,
        pytest.param(WIDE_CYCLE, id="cycle-1e8"),
        pytest.param([[3.0, -1.0], [-2.0, 1.0]], id="1/7"),
        pytest.param([[1e-20, 0.0], [0.0, 1.0]], id="tiny-entry"),
    ],
)
def test_float_and_exact_agree_on_the_value_within_the_certificate(
    rows: list[list[float]],
) -> None:
    """The float value is within the float answer's gap of the exact value (and its own
    rounding to a float)."""
    matrix = PayoffMatrix.from_rows(rows)
    approx = solve(matrix)
    exact = solve_matrix_game_exact(rows).value
    rounding = abs(exact) * Fraction(2) ** -52
    assert abs(Fraction(approx.value) - exact) <= Fraction(approx.gap) + rounding
    assert solve(matrix, exact=True).value == float(exact)


@pytest.mark.parametrize("seed", range(6))
def test_random_games_of_mixed_magnitudes_agree_with_the_exact_value(seed: int) -> None:
    """Entries spread over 12 orders of magnitude: float and exact values agree."""
    rng = random.Random(seed)
    size = 5
    rows = [
        [rng.choice((-1, 1)) * 10 ** rng.uniform(-6, 6) for _ in range(size)] for _ in range(size)
    ]
    approx = solve(PayoffMatrix.from_rows(rows))
    exact = solve_matrix_game_exact(rows).value
    assert approx.certified
    assert abs(Fraction(approx.value) - exact) <= Fraction(approx.gap) + Fraction(approx.tolerance)


def test_an_answer_conceding_one_on_a_huge_game_is_not_certified() -> None:
    """x = (0, 1), y = (1, 0) on [[0, 1e17], [-1, 0]]: gap 1, far above the tolerance."""
    certificate = certify([[0.0, 1e17], [-1.0, 0.0]], (0.0, 1.0), (1.0, 0.0), 1e-9)
    assert (certificate.lower, certificate.upper) == (-1.0, 0.0)
    assert certificate.gap == 1.0
    assert certificate.magnitude == 1.0
    assert not certificate.certified
    assert certificate.value == -0.5
    assert certificate.exploitability == 0.5


def test_tied_payoffs_count_the_largest_terms_in_the_magnitude() -> None:
    """Rows tied at the best payoff: the magnitude is that of the largest terms among them."""
    x = y = (1 - 3e-8, 1e-8, 2e-8)
    certificate = certify(WIDE_CYCLE, x, y, 1e-9)
    # Row 1 pays -2 y_0 + 1e8 y_2 = 0 from terms of size about 4: it could be the best.
    assert certificate.magnitude >= 4.0


def test_uncertified_float_answer_is_refined_to_the_exact_equilibrium(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A float simplex answer off by 1e-3 is refined by the exact double oracle."""
    rows = [[3.0, -1.0], [-2.0, 1.0]]

    def sloppy(table: object, **_: object) -> MatrixGameSolution[float]:
        return MatrixGameSolution((3 / 7 + 1e-3, 4 / 7 - 1e-3), (2 / 7, 5 / 7), 1 / 7, 1)

    monkeypatch.setattr(matrix_game_module, "solve_matrix_game", sloppy)
    equilibrium = solve(PayoffMatrix.from_rows(rows), method="simplex")
    assert equilibrium.solver == "simplex-devex+exact"
    assert equilibrium.value == 1 / 7
    assert equilibrium.gap == 0.0
    assert equilibrium.row_strategy == (3 / 7, 4 / 7)


def test_equilibrium_states_its_certificate_for_matrices() -> None:
    """A matrix answer carries gap, tolerance and certified; exploitability is gap / 2."""
    rng = random.Random(5)
    rows = [[rng.uniform(-1, 1) for _ in range(15)] for _ in range(15)]
    equilibrium = solve(PayoffMatrix.from_rows(rows))
    lower, upper = _exact_guarantees(rows, equilibrium.row_strategy, equilibrium.column_strategy)
    assert equilibrium.gap == pytest.approx(float(upper - lower), abs=1e-15)
    assert equilibrium.exploitability == pytest.approx(equilibrium.gap / 2, abs=1e-16)
    assert 0.0 < equilibrium.tolerance <= 2e-9 * max(abs(a) for row in rows for a in row)
    assert equilibrium.certified


def test_equilibrium_states_its_certificate_for_rosters() -> None:
    """A roster answer's gap is twice its exploitability, which is within 1e-9 S."""
    rng = random.Random(2)
    roster = [
        Character(f"c{i}", rng.gauss(0, 1), (rng.gauss(0, 1), rng.gauss(0, 1))) for i in range(60)
    ]
    for exact in (False, True):
        equilibrium = solve(roster, exact=exact)
        assert equilibrium.gap == 2 * equilibrium.exploitability
        assert equilibrium.tolerance > 0.0
        assert equilibrium.certified


def test_hand_built_equilibrium_defaults_to_a_zero_certificate() -> None:
    """An Equilibrium built without a certificate has gap 0 and tolerance 0."""
    equilibrium = Equilibrium(("a",), (1.0,), (1.0,), 2.0, 0.0, "by hand")
    assert (equilibrium.gap, equilibrium.tolerance) == (0.0, 0.0)
    assert equilibrium.certified


def test_one_by_one_game_is_its_entry() -> None:
    """A 1x1 game's value is its entry, with gap 0."""
    equilibrium = solve(PayoffMatrix.from_rows([[2.5]]))
    assert (equilibrium.value, equilibrium.gap, equilibrium.certified) == (2.5, 0.0, True)
