"""Pure-strategy payoffs against the equilibrium, divergences, dispatch and layering."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

import monocycle_nash
from monocycle_nash import (
    Character,
    Game,
    PayoffMatrix,
    divergences,
    load_game,
    pure_strategy_payoffs,
    solve,
)

DOMAIN = Path(monocycle_nash.__file__).parent


def _roster(seed: int, n: int) -> list[Character]:
    rng = random.Random(seed)
    return [
        Character(f"c{i}", rng.gauss(0, 1), (rng.gauss(0, 1), rng.gauss(0, 1))) for i in range(n)
    ]


def test_roster_payoffs_match_the_matrix_product() -> None:
    """(A y)_i computed in O(n) for a roster equals the product with the built matrix."""
    characters = _roster(4, 30)
    rng = random.Random(9)
    raw = [rng.random() for _ in characters]
    y = [w / sum(raw) for w in raw]
    fast = pure_strategy_payoffs(characters, y)
    via_game = pure_strategy_payoffs(Game.of_roster(characters), y)
    via_matrix = pure_strategy_payoffs(PayoffMatrix.from_characters(characters), y)
    assert fast == pytest.approx(via_matrix, abs=1e-12)
    assert via_game == fast


def test_payoffs_of_a_matrix_game() -> None:
    """(A y)_i for a matrix game given as a Game or a PayoffMatrix."""
    matrix = PayoffMatrix.from_rows([[3.0, -1.0], [-2.0, 1.0]])
    y = (2 / 7, 5 / 7)
    expected = pytest.approx((1 / 7, 1 / 7), abs=1e-12)
    assert pure_strategy_payoffs(matrix, y) == expected
    assert pure_strategy_payoffs(Game.of_matrix(matrix), y) == expected


def test_divergences_are_zero_on_the_support_and_positive_off_it() -> None:
    """Against the equilibrium, support members diverge by ~0 and the rest by more."""
    characters = _roster(12, 50)
    equilibrium = solve(characters)
    payoffs = pure_strategy_payoffs(characters, equilibrium.column_strategy)
    gaps = divergences(payoffs)
    assert min(gaps) == 0.0
    assert max(payoffs) == pytest.approx(equilibrium.value, abs=1e-9)
    assert 0 < len(equilibrium.support) < len(equilibrium.labels)  # both branches below run
    for label, gap in zip(equilibrium.labels, gaps, strict=True):
        if label in equilibrium.support:
            assert gap == pytest.approx(0.0, abs=1e-9)
        else:
            assert gap > 0.0


def test_divergences_of_plain_numbers() -> None:
    """divergences(payoffs) = max(payoffs) - payoff_i."""
    assert divergences([1.0, -0.5, 1.0, 0.25]) == (0.0, 1.5, 0.0, 0.75)
    with pytest.raises(ValueError, match="at least one"):
        divergences([])


def test_column_strategy_of_the_wrong_length_is_refused() -> None:
    """A strategy with the wrong number of entries is a ValueError."""
    with pytest.raises(ValueError, match="2 entries for 3 strategies"):
        pure_strategy_payoffs(_roster(1, 3), [0.5, 0.5])


def test_solve_dispatches_by_kind_of_game(tmp_path: Path) -> None:
    """Roster files go to the monocycle solver, small matrix files to the simplex."""
    roster = tmp_path / "roster.toml"
    roster.write_text(
        "characters = [\n"
        '  { label = "A", p = 0.0, v = [2.0, 0.0] },\n'
        '  { label = "B", p = 0.0, v = [-1.0, 1.7] },\n'
        '  { label = "C", p = 0.0, v = [-1.0, -1.7] },\n'
        "]\n",
        encoding="utf-8",
    )
    matrix = tmp_path / "matrix.toml"
    matrix.write_text("matrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n", encoding="utf-8")
    by_roster = solve(load_game(roster))
    by_matrix = solve(load_game(matrix))
    assert by_roster.solver == "monocycle-sampling"
    assert by_roster.translation is not None
    assert by_roster.labels == ("A", "B", "C")
    assert by_matrix.solver == "simplex-devex"
    assert by_matrix.translation is None
    assert by_matrix.labels == ("s0", "s1", "s2")
    # The roster's matrix, built on demand, gives the same answer through the LP.
    via_lp = solve(load_game(roster).matrix)
    assert via_lp.row_strategy == pytest.approx(by_roster.row_strategy, abs=1e-9)


def test_solve_refuses_a_roster_with_repeated_labels() -> None:
    """A plain character sequence with a repeated label raises a GameError."""
    twin = Character("A", 0.0, (1.0, 0.0))
    with pytest.raises(monocycle_nash.GameError, match="repeats the label 'A'"):
        solve([twin, Character("B", 0.0, (0.0, 1.0)), twin])


def test_domain_never_imports_runmeta() -> None:
    """No domain module imports monocycle_nash.runmeta (the layers stay apart)."""
    domain_files = [
        *DOMAIN.glob("*.py"),
        *(DOMAIN / "solver").glob("*.py"),
    ]
    assert len(domain_files) >= 9
    for path in domain_files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                names += [f"{node.module}.{alias.name}" for alias in node.names]
            assert not any("runmeta" in name for name in names), path


def test_roster_game_caches_its_arrays_and_matrix_game_has_none() -> None:
    """Game.arrays is built once for a roster; a matrix game has no arrays."""
    characters = _roster(2, 4)
    game = Game.of_roster(characters)
    powers, xs, ys = game.arrays
    assert powers == [c.power for c in characters]
    assert xs == [c.vector[0] for c in characters]
    assert ys == [c.vector[1] for c in characters]
    assert game.arrays is game.arrays
    with pytest.raises(ValueError, match="no character arrays"):
        _ = Game.of_matrix(PayoffMatrix.from_rows([[0.0]])).arrays
