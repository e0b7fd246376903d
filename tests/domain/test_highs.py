"""The optional HiGHS path (the ``highs`` extra): skipped when highspy is not installed."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from monocycle_nash import PayoffMatrix, solve
from monocycle_nash.solver import certify, solve_matrix, solve_matrix_game
from monocycle_nash.solver import highs as highs_module

pytest.importorskip("highspy")


def _random_rows(seed: int, m: int, n: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(m)]


@pytest.mark.parametrize(("m", "n"), [(1, 1), (3, 8), (25, 25), (40, 17)])
def test_highs_answers_are_certified_at_the_simplex_value(m: int, n: int) -> None:
    """method "highs" gives a certified answer at the standard-library simplex's value."""
    rows = _random_rows(m + 31 * n, m, n)
    answer = solve_matrix(rows, method="highs")
    assert answer.solver == "highs"
    assert answer.certificate.certified
    simplex = solve_matrix_game(rows)
    reference = certify(rows, simplex.row_strategy, simplex.column_strategy, 1e-9).value
    assert answer.certificate.value == pytest.approx(reference, abs=1e-12)


def test_highs_wrong_value_on_a_wide_range_game_is_refined() -> None:
    """HiGHS concedes 1 on [[0, 1e17], [-1, 0]]; the certificate catches it and the exact
    refinement gives value 0."""
    equilibrium = solve(PayoffMatrix.from_rows([[0.0, 1e17], [-1.0, 0.0]]), method="highs")
    assert equilibrium.solver == "highs+exact"  # the refinement did run
    assert equilibrium.value == 0.0
    assert equilibrium.gap == 0.0


def test_auto_hands_a_dense_game_to_highs() -> None:
    """auto uses HiGHS for a dense game of at least HIGHS_MIN_SIZE strategies a side."""
    size = highs_module.HIGHS_MIN_SIZE
    answer = solve_matrix(_random_rows(12, size, size))
    assert answer.solver == "highs"
    assert answer.certificate.certified


def test_auto_keeps_small_dense_games_and_small_supports_away_from_highs() -> None:
    """Below HIGHS_MIN_SIZE, or with a small support, auto stays in the standard library."""
    size = highs_module.HIGHS_MIN_SIZE - 1
    assert solve_matrix(_random_rows(13, size, size)).solver == "double-oracle"
    saddle = [[float(i - j) for j in range(80)] for i in range(80)]
    assert solve_matrix(saddle).solver == "double-oracle"


def test_highs_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """HiGHS's banner and log never reach the console (file descriptors 1 and 2)."""
    solve_matrix(_random_rows(14, 5, 5), method="highs")
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_highs_is_only_imported_when_used() -> None:
    """A solve that does not use HiGHS never imports highspy, even where it is installed."""
    script = (
        "import sys\n"
        "from monocycle_nash.solver import solve_matrix\n"
        "answer = solve_matrix([[0.0, 1.0, -1.0], [-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]])\n"
        "print(answer.solver, 'highspy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    solver, imported = result.stdout.split()
    assert solver != "highs"
    assert imported == "False"
