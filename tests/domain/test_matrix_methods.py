"""Matrix-game methods: auto, simplex, double oracle, approximate, exact, and settings."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction
from itertools import combinations

import pytest

from monocycle_nash import Character, GameError, PayoffMatrix, solve
from monocycle_nash.solver import (
    METHODS,
    SolverSettingError,
    UncertifiedAnswerError,
    certify,
    solve_matrix,
    solve_matrix_game,
    solve_matrix_game_exact,
)
from monocycle_nash.solver import double_oracle as double_oracle_module
from monocycle_nash.solver import matrix_game as matrix_game_module
from monocycle_nash.solver.double_oracle import double_oracle, exact_double_oracle
from monocycle_nash.solver.lp import SolverFailure, WarmStartGame
from monocycle_nash.solver.regret_matching import likely_support, regret_matching

RPS = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]


def _random_rows(seed: int, m: int, n: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(m)]


def _value_2x2(a: float, b: float, c: float, d: float) -> float:
    low = max(min(a, b), min(c, d))
    high = min(max(a, c), max(b, d))
    return low if low == high else (a * d - b * c) / (a + d - b - c)


def _team_game(characters: int, seed: int) -> list[list[float]]:
    """Teams of two from a random roster; a team pays the value of its 2x2 sub-game."""
    rng = random.Random(seed)
    roster = [(rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(characters)]
    a = [[p - q + x * w - y * v for q, v, w in roster] for p, x, y in roster]
    teams = list(combinations(range(characters), 2))
    return [[_value_2x2(a[i][k], a[i][h], a[j][k], a[j][h]) for k, h in teams] for i, j in teams]


def _exact_value(rows: list[list[float]]) -> Fraction:
    return solve_matrix_game_exact(rows).value


def _reference_value(rows: list[list[float]]) -> float:
    """The certified value of today's simplex (Dantzig) strategies: a cheap reference."""
    solution = solve_matrix_game(rows, pricing="dantzig")
    return certify(rows, solution.row_strategy, solution.column_strategy, 1e-9).value


def test_methods_are_the_documented_six() -> None:
    """The accepted method names are the ones the settings document."""
    assert METHODS == ("auto", "simplex", "double-oracle", "approximate", "highs", "exact")


@pytest.mark.parametrize(
    ("method", "solver"),
    [
        pytest.param("auto", "simplex-devex", id="auto"),
        pytest.param("simplex", "simplex-devex", id="simplex"),
        pytest.param("double-oracle", "double-oracle", id="double-oracle"),
        pytest.param("exact", "simplex-exact", id="exact"),
        pytest.param("approximate", "approximate", id="approximate"),
    ],
)
def test_each_method_solves_rock_paper_scissors(method: str, solver: str) -> None:
    """Every standard-library method gives RPS's value 0 and names itself in solver."""
    equilibrium = solve(PayoffMatrix.from_rows(RPS), method=method)
    assert equilibrium.solver == solver
    assert equilibrium.value == pytest.approx(0.0, abs=equilibrium.gap + 1e-15)
    assert equilibrium.certified


def test_team_game_goes_through_the_double_oracle() -> None:
    """A 120-team game (small support) is solved by the double oracle, certified, exactly
    at the LP's value."""
    rows = _team_game(16, 0)
    equilibrium = solve(PayoffMatrix.from_rows(rows))
    assert equilibrium.solver == "double-oracle"
    assert equilibrium.certified
    assert len(equilibrium.support) <= 10
    assert equilibrium.value == pytest.approx(_reference_value(rows), abs=1e-12)


def test_dense_game_is_seeded_by_regret_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dense 40x40 game outgrows the first double oracle and still ends certified."""
    monkeypatch.setattr(matrix_game_module, "highs_available", lambda: False)
    calls: list[int] = []
    real = matrix_game_module.regret_matching

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matrix_game_module, "regret_matching", counting)
    rows = _random_rows(3, 40, 40)
    answer = solve_matrix(rows)
    assert calls == [1]
    assert answer.solver == "double-oracle"
    assert answer.certificate.certified
    assert answer.certificate.value == pytest.approx(_reference_value(rows), abs=1e-12)


@pytest.mark.parametrize("method", ["auto", "simplex", "double-oracle"])
@pytest.mark.parametrize(("m", "n"), [(1, 7), (7, 1), (9, 15), (16, 11)])
def test_rectangular_games_are_certified_at_the_exact_value(method: str, m: int, n: int) -> None:
    """Every float method certifies rectangular games at the rational simplex's value."""
    rows = _random_rows(m * 100 + n, m, n)
    answer = solve_matrix(rows, method=method)
    assert answer.certificate.certified
    assert answer.certificate.value == pytest.approx(float(_exact_value(rows)), abs=1e-12)


def test_devex_and_dantzig_reach_the_same_equilibrium() -> None:
    """On a dense 60x60 game both pricing rules reach the same strategies."""
    rows = _random_rows(8, 60, 60)
    devex = solve_matrix_game(rows)
    dantzig = solve_matrix_game(rows, pricing="dantzig")
    assert devex.row_strategy == pytest.approx(dantzig.row_strategy, abs=1e-12)
    assert devex.column_strategy == pytest.approx(dantzig.column_strategy, abs=1e-12)


def test_unknown_pricing_rule_is_refused() -> None:
    """solve_matrix_game refuses a pricing rule it does not know."""
    with pytest.raises(ValueError, match="unknown pricing rule"):
        solve_matrix_game(RPS, pricing="bland")  # type: ignore[arg-type]


def test_approximate_stops_within_its_tolerance_and_says_so() -> None:
    """approximate at 1e-3 returns an exploitability within 1e-3 of the payoffs' magnitude."""
    rows = _random_rows(4, 50, 50)
    equilibrium = solve(PayoffMatrix.from_rows(rows), method="approximate", tolerance=1e-3)
    assert equilibrium.solver == "approximate"
    assert equilibrium.certified
    assert 0.0 < equilibrium.exploitability <= equilibrium.tolerance
    assert equilibrium.gap <= 2 * equilibrium.tolerance
    assert abs(equilibrium.value - _reference_value(rows)) <= equilibrium.gap + 1e-12
    # The default tolerance of the approximate method is 1e-3 as well.
    assert solve(PayoffMatrix.from_rows(rows), method="approximate") == equilibrium


def test_approximate_that_cannot_reach_its_tolerance_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """approximate raises UncertifiedAnswerError (a GameError) rather than return a gap
    above its tolerance."""
    monkeypatch.setattr(matrix_game_module, "APPROXIMATE_MAX_ITERATIONS", 20)
    matrix = PayoffMatrix.from_rows(_random_rows(5, 30, 30))
    with pytest.raises(UncertifiedAnswerError, match="above its tolerance") as caught:
        solve(matrix, method="approximate", tolerance=1e-9)
    assert isinstance(caught.value, GameError)


def test_regret_matching_guesses_a_superset_of_a_pure_saddle() -> None:
    """A short regret-matching run finds a game's pure saddle among its likely supports."""
    rows = [[4.0, 2.0, 5.0], [1.0, 0.0, 7.0], [3.0, 1.0, 6.0]]
    result = regret_matching(rows, tolerance=1e-2, max_iterations=200)
    likely_rows, likely_columns = likely_support(rows, result)
    assert 0 in likely_rows
    assert 1 in likely_columns


def test_double_oracle_reports_a_working_set_too_large() -> None:
    """The float double oracle stops with "too-large" when its working set outgrows the cap."""
    rows = _random_rows(6, 40, 40)
    found = double_oracle(rows, [0], [0], tolerance=1e-9, aim=1e-12, max_working=3)
    assert found.outcome == "too-large"
    assert len(found.working_rows) > 3 or len(found.working_columns) > 3


class _FlakyWarmStart(WarmStartGame):
    """A restricted game whose warm start always breaks down, and whose cold solves
    break down after the first ``cold_limit``."""

    cold_solves = 0
    cold_limit = 1

    def __init__(self, rows: Sequence[Sequence[float]], *, lo: float, hi: float) -> None:
        type(self).cold_solves += 1
        if type(self).cold_solves > self.cold_limit:
            raise SolverFailure("breakdown")
        super().__init__(rows, lo=lo, hi=hi)

    def extend(self, columns: Sequence[Sequence[float]], rows: Sequence[Sequence[float]]) -> None:
        raise SolverFailure("breakdown")


def test_double_oracle_breakdown_is_refined_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A simplex breakdown inside the double oracle (warm and cold) ends in the exact
    refinement."""
    monkeypatch.setattr(_FlakyWarmStart, "cold_solves", 0)
    monkeypatch.setattr(double_oracle_module, "WarmStartGame", _FlakyWarmStart)
    rows = _random_rows(7, 14, 14)
    equilibrium = solve(PayoffMatrix.from_rows(rows), method="double-oracle")
    assert equilibrium.solver == "double-oracle+exact"
    assert equilibrium.gap == 0.0
    assert equilibrium.value == float(_exact_value(rows))


def test_a_failed_warm_start_is_solved_from_scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    """When extending the restricted game breaks down, the round is solved cold and the
    double oracle still certifies its answer."""
    monkeypatch.setattr(_FlakyWarmStart, "cold_solves", 0)
    monkeypatch.setattr(_FlakyWarmStart, "cold_limit", 1_000)
    monkeypatch.setattr(double_oracle_module, "WarmStartGame", _FlakyWarmStart)
    rows = _random_rows(7, 14, 14)
    equilibrium = solve(PayoffMatrix.from_rows(rows), method="double-oracle")
    assert equilibrium.solver == "double-oracle"
    assert _FlakyWarmStart.cold_solves > 1
    assert equilibrium.value == pytest.approx(float(_exact_value(rows)), abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_warm_started_game_matches_a_cold_solve(seed: int) -> None:
    """Columns then rows added to a solved game give the value of the whole game solved
    from scratch (the warm start's primal and dual simplex steps)."""
    rng = random.Random(seed)
    m, n = rng.randint(3, 12), rng.randint(3, 12)
    rows = [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(m)]
    lo, hi = min(map(min, rows)), max(map(max, rows))
    first_rows, first_columns = rng.randint(1, m), rng.randint(1, n)
    game = WarmStartGame([row[:first_columns] for row in rows[:first_rows]], lo=lo, hi=hi)
    game.extend(
        [[row[j] for row in rows[:first_rows]] for j in range(first_columns, n)],
        rows[first_rows:],
    )
    warm = game.solution()
    cold = solve_matrix_game(rows)
    assert warm.value == pytest.approx(cold.value, abs=1e-12)
    assert certify(rows, warm.row_strategy, warm.column_strategy, 1e-9).certified


def test_exact_double_oracle_ends_at_an_exact_equilibrium() -> None:
    """From a single pure pair, the exact double oracle reaches the rational value."""
    rows = _random_rows(9, 15, 15)
    found = exact_double_oracle(rows, [0], [0])
    assert found.value == _exact_value(rows)
    assert sum(found.row_support.values()) == 1
    assert sum(found.column_support.values()) == 1


def test_exact_method_on_a_larger_game_uses_the_exact_double_oracle() -> None:
    """exact on an 18x18 game: exact double oracle from the float supports, gap 0."""
    rows = _random_rows(10, 18, 18)
    equilibrium = solve(PayoffMatrix.from_rows(rows), exact=True)
    assert equilibrium.solver == "double-oracle-exact"
    assert (equilibrium.gap, equilibrium.exploitability) == (0.0, 0.0)
    assert equilibrium.value == float(_exact_value(rows))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"method": "fastest"}, "unknown solver method 'fastest'", id="method"),
        pytest.param({"tolerance": 0.0}, "between 0 and 1", id="zero-tolerance"),
        pytest.param({"tolerance": 2.0}, "between 0 and 1", id="big-tolerance"),
        pytest.param({"tolerance": True}, "between 0 and 1", id="bool-tolerance"),
        pytest.param(
            {"exact": True, "method": "approximate"}, "exact=True asks", id="exact-and-method"
        ),
    ],
)
def test_bad_solver_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    """Unknown methods and tolerances out of range raise a SolverSettingError (a GameError
    and a ValueError) naming the problem."""
    with pytest.raises(SolverSettingError, match=message) as caught:
        solve(PayoffMatrix.from_rows(RPS), **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, GameError)
    assert isinstance(caught.value, ValueError)


def test_highs_without_highspy_is_a_setting_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """method "highs" without the package names the extra to install."""
    monkeypatch.setattr(matrix_game_module, "highs_available", lambda: False)
    with pytest.raises(SolverSettingError, match=r"monocycle-nash\[highs\]"):
        solve(PayoffMatrix.from_rows(RPS), method="highs")


def test_auto_never_needs_highspy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without highspy, auto solves a dense 70x70 game with the standard library."""
    monkeypatch.setattr(matrix_game_module, "highs_available", lambda: False)
    answer = solve_matrix(_random_rows(11, 70, 70))
    assert answer.solver == "double-oracle"
    assert answer.certificate.certified


def test_roster_methods() -> None:
    """Rosters: simplex builds the matrix; approximate and double-oracle use the roster
    solver; all agree."""
    rng = random.Random(3)
    roster = [
        Character(f"c{i}", rng.gauss(0, 1), (rng.gauss(0, 1), rng.gauss(0, 1))) for i in range(20)
    ]
    by_simplex = solve(roster, method="simplex")
    assert by_simplex.solver == "simplex-devex"
    for method in ("auto", "double-oracle", "approximate"):
        assert solve(roster, method=method).solver == "monocycle-sampling"
    assert solve(roster, method="exact").solver == "monocycle-exact"
    assert by_simplex.row_strategy == pytest.approx(solve(roster).row_strategy, abs=1e-9)


@pytest.mark.parametrize(
    "rows",
    [pytest.param([], id="empty"), pytest.param([[1.0, 2.0], [3.0]], id="ragged")],
)
def test_solve_matrix_refuses_a_table_that_is_not_rectangular(rows: list[list[float]]) -> None:
    """solve_matrix on an empty or ragged table raises ValueError."""
    with pytest.raises(ValueError, match="matrix game"):
        solve_matrix(rows)
