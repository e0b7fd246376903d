"""Benchmark of the equilibrium solvers (a plain script, not a test).

Four tables, each measured in one run of this script so that its ratios compare like
with like:

1. Monocycle rosters of n = 10^3 .. 10^6 characters, Gaussian (p, x, y ~ N(0, 1)) and
   the worst case for hull methods (v ~ N(0, I), p = -0.05 |v|^2), against one O(n)
   exploitability pass.
2. Dense matrix games (entries uniform in [-1, 1]: general, and antisymmetric), against
   *today's solve*: the Dantzig simplex (``solve_matrix_game(..., pricing="dantzig")``)
   plus the O(n^2) exploitability pass the old ``solve`` made. Compared: the
   standard-library exact path (``solve_matrix(..., allow_highs=False)``, method auto)
   and ``method="approximate"`` at tolerance 1e-3.
3. Team games: every pair of a random 16- or 32-character roster is a team (120 or 496
   teams); a team pays the value of the 2x2 game between the two teams' characters.
4. With the ``highs`` extra: our HiGHS path (``solve_matrix(..., method="highs")``,
   which certifies the answer) against calling highspy directly on the same LP.

    uv run python bench/solver.py            # the tables of document/benchmarks.md
    uv run python bench/solver.py --quick    # under a minute
"""

from __future__ import annotations

import argparse
import importlib
import math
import random
import sys
from collections.abc import Sequence
from functools import partial
from itertools import combinations
from typing import Any

from _harness import best_time, machine_lines, markdown_table
from monocycle_nash import Character, Game, solve
from monocycle_nash.solver import (
    MatrixAnswer,
    MatrixGameSolution,
    roster_arrays,
    solve_matrix,
    solve_matrix_game,
    solve_roster,
    translated_power_excess,
)
from monocycle_nash.solver.highs import highs_available, highs_program

ROSTER_SIZES = (1_000, 10_000, 100_000, 1_000_000)
DENSE_SIZES = (100, 200, 300)
TEAM_ROSTERS = (16, 32)
TEAM_SEEDS = 5
HIGHS_SIZES = (100, 200, 300, 500)
APPROXIMATE_TOLERANCE = 1e-3


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes only (under a minute)")
    parser.add_argument("--max-n", type=int, default=None, help="largest roster size")
    parser.add_argument("--lp-max-n", type=int, default=None, help="largest dense game size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per line; best is shown")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the random data")
    return parser


# --- rosters ------------------------------------------------------------------------


def make_roster(n: int, kind: str, rng: random.Random) -> list[Character]:
    """Random roster: 'gauss' (independent p) or 'hull' (p = -0.05 |v|^2)."""
    characters = []
    for i in range(n):
        x, y = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
        p = rng.gauss(0.0, 1.0) if kind == "gauss" else -0.05 * (x * x + y * y)
        characters.append(Character(f"c{i}", p, (x, y)))
    return characters


def bench_rosters(sizes: Sequence[int], repeat: int, seed: int) -> list[str]:
    """Table lines for the monocycle solver."""
    headers = (
        "roster",
        "n",
        "solve(game) ms",
        "core ms",
        "one pass ms",
        "solve/pass",
        "core/pass",
        "passes",
        "support",
        "exploitability",
        "tolerance",
    )
    table: list[list[str]] = []
    for kind in ("gauss", "hull"):
        for n in sizes:
            characters = make_roster(n, kind, random.Random(seed + n))
            game = Game.of_roster(characters)
            powers, xs, ys = roster_arrays(characters)
            full, equilibrium = best_time(partial(solve, game), repeat)
            core, solution = best_time(partial(solve_roster, powers, xs, ys), repeat)
            support = list(solution.support)
            one_pass, excess = best_time(
                partial(translated_power_excess, powers, xs, ys, support), repeat
            )
            table.append(
                [
                    kind,
                    f"{n:,}",
                    f"{full * 1e3:.1f}",
                    f"{core * 1e3:.1f}",
                    f"{one_pass * 1e3:.2f}",
                    f"{full / one_pass:.1f}",
                    f"{core / one_pass:.1f}",
                    str(solution.passes),
                    str(len(equilibrium.support)),
                    f"{max(excess[3], 0.0):.1e}",
                    f"{solution.tolerance:.1e}",
                ]
            )
            _progress(headers, table)
    return markdown_table(headers, table)


# --- matrix games -------------------------------------------------------------------


def todays_solve(rows: Sequence[Sequence[float]]) -> tuple[MatrixGameSolution[float], float]:
    """What ``solve(matrix)`` did before: the Dantzig simplex, then the exploitability
    from both players' payoffs (a dense O(n^2) pass with ``fsum``)."""
    solution = solve_matrix_game(rows, pricing="dantzig")
    x, y, value = solution.row_strategy, solution.column_strategy, solution.value
    row_payoffs = [math.fsum(a * w for a, w in zip(row, y, strict=True)) for row in rows]
    column_payoffs = [
        math.fsum(w * row[j] for w, row in zip(x, rows, strict=True)) for j in range(len(y))
    ]
    return solution, max(max(row_payoffs) - value, value - min(column_payoffs), 0.0)


def dense_game(n: int, kind: str, rng: random.Random) -> list[list[float]]:
    """n x n entries uniform in [-1, 1]: 'general', or 'antisymmetric' (A^T = -A)."""
    if kind == "general":
        return [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(n)]
    rows = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rows[i][j] = rng.uniform(-1.0, 1.0)
            rows[j][i] = -rows[i][j]
    return rows


def bench_dense(sizes: Sequence[int], repeat: int, seed: int) -> list[str]:
    """Table lines: today's solve against the standard-library exact path and approximate."""
    headers = (
        "game",
        "n",
        "today ms",
        "exact path ms",
        "today/exact",
        "exact path solver",
        "gap",
        f"approximate {APPROXIMATE_TOLERANCE:g} ms",
        "today/approx",
        "approx gap",
        "approx tolerance",
    )
    table: list[list[str]] = []
    for kind in ("general", "antisymmetric"):
        for n in sizes:
            rows = dense_game(n, kind, random.Random(seed + n))
            runs = 1 if n > 150 else repeat
            today, _ = best_time(partial(todays_solve, rows), runs)
            exact, answer = best_time(
                partial(solve_matrix, rows, allow_highs=False), min(runs, repeat)
            )
            approx, rough = best_time(
                partial(solve_matrix, rows, method="approximate", tolerance=APPROXIMATE_TOLERANCE),
                repeat,
            )
            table.append(
                [
                    kind,
                    str(n),
                    f"{today * 1e3:.0f}",
                    f"{exact * 1e3:.0f}",
                    f"{today / exact:.1f}",
                    answer.solver,
                    f"{answer.certificate.gap:.1e}",
                    f"{approx * 1e3:.0f}",
                    f"{today / approx:.1f}",
                    f"{rough.certificate.gap:.1e}",
                    f"{rough.certificate.tolerance:.1e}",
                ]
            )
            _progress(headers, table)
    return markdown_table(headers, table)


def _value_2x2(a: float, b: float, c: float, d: float) -> float:
    """The value of [[a, b], [c, d]]: its saddle value, else the mixed formula."""
    low = max(min(a, b), min(c, d))
    high = min(max(a, c), max(b, d))
    return low if low == high else (a * d - b * c) / (a + d - b - c)


def team_game(characters: int, rng: random.Random) -> list[list[float]]:
    """The team game of a random roster: all pairs, each paying its 2x2 sub-game's value."""
    roster = [(rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(characters)]
    payoff = [[p - q + x * w - y * v for q, v, w in roster] for p, x, y in roster]
    teams = list(combinations(range(characters), 2))
    rows = [[0.0] * len(teams) for _ in teams]
    for a, (i, j) in enumerate(teams):
        for b in range(a + 1, len(teams)):
            k, h = teams[b]
            value = _value_2x2(payoff[i][k], payoff[i][h], payoff[j][k], payoff[j][h])
            rows[a][b], rows[b][a] = value, -value
    return rows


def bench_teams(rosters: Sequence[int], seeds: int, repeat: int, seed: int) -> list[str]:
    """Table lines: today's solve against the exact path on team games (small supports)."""
    headers = (
        "characters",
        "teams",
        "games",
        "today ms (total)",
        "exact path ms (total)",
        "today/exact",
        "worst game today/exact",
        "supports",
        "largest gap",
    )
    table: list[list[str]] = []
    for characters in rosters:
        todays: list[float] = []
        ours: list[float] = []
        answers: list[MatrixAnswer] = []
        for offset in range(seeds):
            rows = team_game(characters, random.Random(seed + 1000 * characters + offset))
            today, _ = best_time(partial(todays_solve, rows), repeat)
            exact, answer = best_time(partial(solve_matrix, rows, allow_highs=False), repeat)
            todays.append(today)
            ours.append(exact)
            answers.append(answer)
        supports = sorted({sum(w > 0 for w in a.row_strategy) for a in answers})
        table.append(
            [
                str(characters),
                str(len(answers[0].row_strategy)),
                str(seeds),
                f"{sum(todays) * 1e3:.1f}",
                f"{sum(ours) * 1e3:.1f}",
                f"{sum(todays) / sum(ours):.0f}",
                f"{min(t / o for t, o in zip(todays, ours, strict=True)):.0f}",
                ", ".join(map(str, supports)),
                f"{max(a.certificate.gap for a in answers):.1e}",
            ]
        )
        _progress(headers, table)
    return markdown_table(headers, table)


def direct_highs(rows: Sequence[Sequence[float]]) -> Any:
    """Call highspy directly on the same LP as ours: build, run, read the solution."""
    highspy: Any = importlib.import_module("highspy")  # optional: imported on use
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("small_matrix_value", 1e-12)
    solver.passModel(highs_program(rows))
    solver.run()
    return solver.getSolution()


def bench_highs(sizes: Sequence[int], repeat: int, seed: int) -> list[str]:
    """Table lines: our certified HiGHS path against highspy called directly."""
    headers = ("game", "n", "ours ms", "direct ms", "ours/direct", "solver", "gap")
    table: list[list[str]] = []
    for n in sizes:
        rows = dense_game(n, "antisymmetric", random.Random(seed + n))
        solve_matrix(rows, method="highs")  # the first Highs object of the process
        ours, answer = best_time(partial(solve_matrix, rows, method="highs"), repeat)
        direct, _ = best_time(partial(direct_highs, rows), repeat)
        table.append(
            [
                "antisymmetric",
                str(n),
                f"{ours * 1e3:.0f}",
                f"{direct * 1e3:.0f}",
                f"{ours / direct:.2f}",
                answer.solver,
                f"{answer.certificate.gap:.1e}",
            ]
        )
        _progress(headers, table)
    return markdown_table(headers, table)


def _progress(headers: Sequence[str], table: list[list[str]]) -> None:
    print(markdown_table(headers, table)[-1], file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a Markdown report on stdout."""
    args = build_parser().parse_args(argv)
    roster_sizes: Sequence[int] = (1_000, 10_000) if args.quick else ROSTER_SIZES
    dense_sizes: Sequence[int] = (100, 150) if args.quick else DENSE_SIZES
    highs_sizes: Sequence[int] = (100, 200) if args.quick else HIGHS_SIZES
    team_seeds = 2 if args.quick else TEAM_SEEDS
    if args.max_n is not None:
        roster_sizes = [n for n in roster_sizes if n <= args.max_n]
    if args.lp_max_n is not None:
        dense_sizes = [n for n in dense_sizes if n <= args.lp_max_n]
        highs_sizes = [n for n in highs_sizes if n <= args.lp_max_n]
    command = "uv run python bench/solver.py" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    header = [
        *machine_lines(),
        f"command: `{command}` (best of {args.repeat}, one run for dense games above 150;"
        f" seed {args.seed})",
        "",
    ]
    body = [
        *bench_rosters(roster_sizes, args.repeat, args.seed),
        "",
        *bench_dense(dense_sizes, args.repeat, args.seed),
        "",
        *bench_teams(TEAM_ROSTERS, team_seeds, args.repeat, args.seed),
        "",
    ]
    if highs_available():
        body += bench_highs(highs_sizes, args.repeat, args.seed)
    else:
        body.append(
            "highspy is not installed: the HiGHS table is skipped (`uv sync --extra highs`)."
        )
    print("\n".join(header + body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
