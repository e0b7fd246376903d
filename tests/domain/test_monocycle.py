"""The monocycle roster solver: the model's facts, exact cases, agreement with the LP."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import pytest

from monocycle_nash import Character, Game, PayoffMatrix, solve
from monocycle_nash.solver import (
    RELATIVE_TOLERANCE,
    SolverFailure,
    roster_arrays,
    roster_scale,
    solve_roster,
    translated_power_excess,
)
from monocycle_nash.solver import monocycle as monocycle_module


def _roster(points: list[tuple[float, float, float]]) -> list[Character]:
    return [Character(f"c{i}", p, (x, y)) for i, (p, x, y) in enumerate(points)]


def _matrix(characters: list[Character]) -> list[list[float]]:
    return [list(row) for row in PayoffMatrix.from_characters(characters).rows]


def _tolerance(characters: list[Character]) -> float:
    return RELATIVE_TOLERANCE * roster_scale(*roster_arrays(characters))


def _assert_optimal(characters: list[Character], strategy: tuple[float, ...]) -> None:
    """Independent check on the full matrix: (A s)_l <= tol for every l, s a distribution."""
    rows = _matrix(characters)
    tol = _tolerance(characters)
    assert min(strategy) >= 0.0
    assert sum(strategy) == pytest.approx(1.0, abs=1e-12)
    worst = max(sum(a * s for a, s in zip(row, strategy, strict=True)) for row in rows)
    assert worst <= tol


def _assert_exactly_optimal(characters: list[Character], strategy: tuple[float, ...]) -> None:
    """Rational check: s (as exact rationals, renormalised) has (A s)_l <= 0 for every l."""
    weights = [Fraction(w) for w in strategy]
    total = sum(weights, Fraction(0))
    weights = [w / total for w in weights]
    exact = [(Fraction(c.power), Fraction(c.vector[0]), Fraction(c.vector[1])) for c in characters]
    for p_l, x_l, y_l in exact:
        payoff = sum(
            (
                w * (p_l - p + x_l * y - y_l * x)
                for w, (p, x, y) in zip(weights, exact, strict=True)
            ),
            Fraction(0),
        )
        # float(w) of an exact weight is off by an ulp: allow round-off of that size
        assert payoff <= Fraction(_tolerance(characters)) / 1000


def _random_roster(rng: random.Random, n: int, kind: str) -> list[Character]:
    points = []
    for _ in range(n):
        x, y = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
        p = rng.gauss(0.0, 1.0) if kind == "gauss" else -0.05 * (x * x + y * y)
        points.append((p, x, y))
    return _roster(points)


RPS_ROSTER = [
    Character("Rock", 0.0, (2.0, 0.0)),
    Character("Paper", 0.0, (-1.0, 1.5)),
    Character("Scissors", 0.0, (-1.0, -1.5)),
]


def test_rock_paper_scissors_roster_is_uniform() -> None:
    """The RPS roster gives 1/3 each (exactly in exact mode), value 0, support of 3."""
    fast = solve(RPS_ROSTER)
    assert fast.solver == "monocycle-sampling"
    assert fast.row_strategy == pytest.approx((1 / 3,) * 3, abs=1e-12)
    assert fast.column_strategy == fast.row_strategy
    assert fast.value == 0.0
    assert fast.support == ("Rock", "Paper", "Scissors")
    exact = solve(RPS_ROSTER, exact=True)
    assert exact.solver == "monocycle-exact"
    assert exact.row_strategy == (1 / 3, 1 / 3, 1 / 3)
    assert exact.translation == (0.0, 0.0)
    assert exact.exploitability == 0.0


def test_monocycle_payoff_formula_and_translation_invariance() -> None:
    """(A s)_l = p_l + v_l x a - P, and translating by any a leaves A unchanged."""
    rng = random.Random(5)
    characters = _random_roster(rng, 12, "gauss")
    rows = _matrix(characters)
    raw = [rng.random() for _ in characters]
    s = [w / sum(raw) for w in raw]
    ax = sum(w * c.vector[0] for w, c in zip(s, characters, strict=True))
    ay = sum(w * c.vector[1] for w, c in zip(s, characters, strict=True))
    mean = sum(w * c.power for w, c in zip(s, characters, strict=True))
    for row, c in zip(rows, characters, strict=True):
        direct = sum(a * w for a, w in zip(row, s, strict=True))
        formula = c.power + c.vector[0] * ay - c.vector[1] * ax - mean
        assert direct == pytest.approx(formula, abs=1e-12)
    shift = (0.7, -1.3)
    moved = [
        Character(
            c.label,
            c.power + c.vector[0] * shift[1] - c.vector[1] * shift[0],
            (c.vector[0] - shift[0], c.vector[1] - shift[1]),
        )
        for c in characters
    ]
    for row, moved_row in zip(rows, _matrix(moved), strict=True):
        assert moved_row == pytest.approx(row, abs=1e-12)


def test_excess_pass_equals_the_largest_entry_of_a_s() -> None:
    """translated_power_excess returns max_l (A s)_l, the exploitability of s."""
    rng = random.Random(8)
    characters = _random_roster(rng, 15, "gauss")
    support = [(0, 0.25), (3, 0.5), (7, 0.25)]
    strategy = [0.0] * 15
    for i, w in support:
        strategy[i] = w
    *_, excess = translated_power_excess(*roster_arrays(characters), support)
    rows = _matrix(characters)
    assert excess == pytest.approx(
        max(sum(a * w for a, w in zip(row, strategy, strict=True)) for row in rows), abs=1e-12
    )


def test_dominant_character_is_played_pure() -> None:
    """A character with min_l A[i][l] >= 0 is an optimal pure strategy, and is found."""
    characters = _roster([(5.0, 0.1, 0.0), (0.0, 1.0, 0.0), (0.2, -0.5, 0.8), (0.1, -0.5, -0.8)])
    rows = _matrix(characters)
    assert min(rows[0]) >= 0.0
    for exact in (False, True):
        equilibrium = solve(characters, exact=exact)
        assert equilibrium.row_strategy == (1.0, 0.0, 0.0, 0.0)
        assert equilibrium.support == ("c0",)
        assert equilibrium.translation == (0.1, 0.0)


def test_hand_built_support_three_weights_and_translation() -> None:
    """Weights (A[j][k], A[k][i], A[i][j]) / D and translation a = -N/D for a cyclic triple."""
    characters = _roster([(0.0, 1.0, 0.0), (0.5, 0.0, 1.0), (0.25, -1.0, -1.0), (-5.0, 0.5, 0.5)])
    rows = _matrix(characters)
    ij, jk, ki = rows[0][1], rows[1][2], rows[2][0]
    assert (ij, jk, ki) == (0.5, 1.25, 1.25)
    d = ij + jk + ki
    expected = (jk / d, ki / d, ij / d, 0.0)
    assert expected == (5 / 12, 5 / 12, 1 / 6, 0.0)
    p = [c.power for c in characters[:3]]
    v = [c.vector for c in characters[:3]]
    n_vec = tuple(
        p[0] * (v[1][k] - v[2][k]) + p[1] * (v[2][k] - v[0][k]) + p[2] * (v[0][k] - v[1][k])
        for k in range(2)
    )
    translation = (-n_vec[0] / d, -n_vec[1] / d)
    assert translation == (0.25, 0.25)
    exact = solve(characters, exact=True)
    assert exact.row_strategy == expected
    assert exact.translation == translation
    fast = solve(characters)
    assert fast.row_strategy == pytest.approx(expected, abs=1e-12)
    assert fast.translation == pytest.approx(translation, abs=1e-12)
    # After translating by a, the three share the highest power.
    powers = [c.power + c.vector[0] * 0.25 - c.vector[1] * 0.25 for c in characters]
    assert powers[:3] == [0.25, 0.25, 0.25]
    assert powers[3] < 0.25


CASES = [
    pytest.param(n, kind, seed, id=f"{kind}-n{n}-seed{seed}")
    for n, seeds in ((3, 6), (4, 4), (5, 4), (8, 3), (13, 2), (30, 2), (60, 1), (120, 1), (200, 1))
    for kind in ("gauss", "paraboloid")
    for seed in range(seeds)
]


@pytest.mark.parametrize(("n", "kind", "seed"), CASES)
def test_random_roster_agrees_with_the_lp(n: int, kind: str, seed: int) -> None:
    """Seeded random rosters: monocycle and LP agree (value, strategy) and both certify."""
    characters = _random_roster(random.Random(1000 * n + seed), n, kind)
    fast = solve(characters)
    lp = solve(PayoffMatrix.from_characters(characters))
    tol = _tolerance(characters)
    assert fast.exploitability <= tol
    assert lp.value == pytest.approx(fast.value, abs=tol)
    _assert_optimal(characters, fast.row_strategy)
    _assert_optimal(characters, lp.row_strategy)
    # Generic data has a unique equilibrium, so both find the same strategy.
    assert fast.row_strategy == pytest.approx(lp.row_strategy, abs=1e-7)
    assert len(fast.support) in (1, 3)


def _grid_roster(seed: int) -> list[Character]:
    rng = random.Random(seed)
    return _roster(
        [
            (float(rng.randint(-1, 1)), float(rng.randint(-2, 2)), float(rng.randint(-2, 2)))
            for _ in range(40)
        ]
    )


DEGENERATE = [
    pytest.param(RPS_ROSTER * 1, id="rps"),
    pytest.param(
        _roster([(0.0, 2.0, 0.0), (0.0, 2.0, 0.0), (0.0, -1.0, 1.5), (0.0, -1.0, -1.5)]),
        id="duplicates",
    ),
    pytest.param(_roster([(0.0, 1.0, 1.0)] * 6), id="all-identical"),
    pytest.param(_roster([(0.0, 0.0, 0.0)] * 3), id="all-zero"),
    pytest.param(_roster([(1.5, -2.0, 3.0)]), id="single-character"),
    pytest.param(_roster([(float(i % 3), 1.0, 2.0) for i in range(9)]), id="equal-vectors"),
    pytest.param(
        _roster([(0.5 * (i % 4), float(i), 2.0 * i) for i in range(-4, 5)]),
        id="collinear-through-origin",
    ),
    pytest.param(
        _roster([(0.3 * ((-1) ** i), float(i), 1.0) for i in range(-4, 5)]),
        id="collinear-off-origin",
    ),
    pytest.param(
        _roster([(0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0), (0.0, 0.0, -1.0)]),
        id="four-tied-square",
    ),
    pytest.param(
        _roster([(0.0, 3.0, 0.0), (0.0, -3.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, -1.0)]),
        id="equal-powers-opposite-pairs",
    ),
    pytest.param(
        _roster([(0.0, 1.0, 0.0), (0.0, -1.0, 0.0), (-1.0, 0.0, 2.0), (-1.0, 0.0, -2.0)]),
        id="support-two-tie",
    ),
    pytest.param(_grid_roster(1), id="integer-grid-1"),
    pytest.param(_grid_roster(2), id="integer-grid-2"),
    pytest.param(
        _roster(
            [
                (1e6 * p, 1e3 * x, 1e3 * y)
                for p, x, y in (
                    (0.0, 2.0, 0.0),
                    (0.1, -1.0, 1.5),
                    (0.0, -1.0, -1.5),
                    (-9.0, 0.1, 0.1),
                )
            ]
        ),
        id="large-scale",
    ),
    pytest.param(
        _roster(
            [
                (1e-6 * p, 1e-3 * x, 1e-3 * y)
                for p, x, y in (
                    (0.0, 2.0, 0.0),
                    (0.1, -1.0, 1.5),
                    (0.0, -1.0, -1.5),
                    (-9.0, 0.1, 0.1),
                )
            ]
        ),
        id="small-scale",
    ),
]


@pytest.mark.parametrize("characters", DEGENERATE)
def test_degenerate_roster_answers_are_certified(characters: list[Character]) -> None:
    """Duplicates, collinear or equal vectors, equal powers, ties: any answer is optimal."""
    fast = solve(characters)
    assert fast.exploitability <= _tolerance(characters)
    _assert_optimal(characters, fast.row_strategy)
    exact = solve(characters, exact=True)
    assert exact.exploitability == 0.0
    _assert_exactly_optimal(characters, exact.row_strategy)


def test_large_roster_goes_through_sampling_and_certifies() -> None:
    """A 20000-character roster uses the sampling path and certifies in O(n) passes."""
    rng = random.Random(77)
    n = 20_000
    ps = [rng.gauss(0.0, 1.0) for _ in range(n)]
    xs = [rng.gauss(0.0, 1.0) for _ in range(n)]
    ys = [rng.gauss(0.0, 1.0) for _ in range(n)]
    solution = solve_roster(ps, xs, ys)
    assert solution.method == "monocycle-sampling"
    assert solution.passes >= 1
    assert sum(w for _, w in solution.support) == pytest.approx(1.0)
    ax, ay, mean, excess = translated_power_excess(ps, xs, ys, solution.support)
    assert excess <= solution.tolerance
    assert (ax, ay) == pytest.approx(solution.translation)
    assert mean == pytest.approx(solution.mean_power)
    # Every support member has the top translated power (within the tolerance).
    for i, _ in solution.support:
        assert ps[i] + xs[i] * ay - ys[i] * ax >= mean + excess - 2 * solution.tolerance


def test_uncertified_fast_answer_falls_back_to_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the fast method cannot certify, the exact method answers and is recorded."""
    monkeypatch.setattr(monocycle_module, "_solve_sampling", lambda *args: None)
    characters = _random_roster(random.Random(3), 25, "gauss")
    equilibrium = solve(characters)
    assert equilibrium.solver == "monocycle-exact-fallback"
    assert equilibrium.exploitability == 0.0
    _assert_optimal(characters, equilibrium.row_strategy)


def test_breakdown_inside_the_fast_method_falls_back_to_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SolverFailure in the restricted simplex ends in the exact fallback."""

    def broken(*args: object) -> None:
        raise SolverFailure("simulated breakdown")

    monkeypatch.setattr(monocycle_module, "_restricted_game", broken)
    game = Game.of_roster(RPS_ROSTER)
    equilibrium = solve(game)
    assert equilibrium.solver == "monocycle-exact-fallback"
    assert equilibrium.row_strategy == (1 / 3, 1 / 3, 1 / 3)


def test_stalled_search_keeps_an_answer_within_the_tolerance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the search stalls after a pass within 1e-9 S (not 1e-12 S), that answer is kept."""
    characters = _random_roster(random.Random(21), 20, "gauss")
    powers, xs, ys = roster_arrays(characters)
    reference = solve_roster(powers, xs, ys)
    shortfall = 0.5 * reference.tolerance
    real = monocycle_module._double_oracle
    calls = {"count": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] > 1:
            raise SolverFailure("simulated stall")
        support, ax, ay, mean = real(*args, **kwargs)
        return support, ax, ay, mean - shortfall  # looks half a tolerance exploitable

    monkeypatch.setattr(monocycle_module, "_double_oracle", flaky)
    solution = solve_roster(powers, xs, ys)
    assert calls["count"] == 2
    assert solution.method == "monocycle-sampling"
    assert solution.exploitability == pytest.approx(shortfall, rel=1e-3)
    assert solution.exploitability <= solution.tolerance
    assert solution.support == reference.support


def test_solve_roster_refuses_mismatched_arrays() -> None:
    """Parallel lists of different lengths are a programming error (ValueError)."""
    with pytest.raises(ValueError, match="equal-length"):
        solve_roster([0.0, 1.0], [0.0], [0.0, 1.0])


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed{seed}") for seed in (2, 54, 65)])
def test_integer_roster_support_has_no_round_off_member(seed: int) -> None:
    """Integer rosters whose LP left 1e-16 specks: the support holds only real weights."""
    rng = random.Random(seed)
    size = rng.randint(2, 300)
    characters = [
        Character(str(i), float(rng.randint(-3, 3)), (rng.randint(-3, 3), rng.randint(-3, 3)))
        for i in range(size)
    ]
    equilibrium = solve(characters)
    assert min(w for w in equilibrium.row_strategy if w > 0) > 1e-9
    _assert_optimal(characters, equilibrium.row_strategy)


@pytest.mark.parametrize("exact", [pytest.param(False, id="float"), pytest.param(True, id="exact")])
@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed{seed}") for seed in range(4)])
def test_tiny_roster_is_solved_like_its_normal_sized_copy(seed: int, exact: bool) -> None:
    """Vectors near 1e-170 (their cross products underflow) solve like the roster x 2^565."""
    rng = random.Random(seed)
    normal = [Character(c.label, 0.0, c.vector) for c in _random_roster(rng, 30, "gauss")]
    tiny = [
        Character(c.label, 0.0, (math.ldexp(c.vector[0], -565), math.ldexp(c.vector[1], -565)))
        for c in normal
    ]
    expected = solve(normal, exact=exact)
    got = solve(tiny, exact=exact)
    assert got.row_strategy == pytest.approx(expected.row_strategy, abs=1e-12)
    assert got.translation is not None and expected.translation is not None
    assert got.translation == pytest.approx(
        tuple(math.ldexp(a, -565) for a in expected.translation), rel=1e-9, abs=1e-200
    )
