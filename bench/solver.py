"""Benchmark of the equilibrium solvers (a plain script, not a test).

Monocycle rosters of n = 10^3 .. 10^6 characters, Gaussian (p, x, y ~ N(0, 1)) and the
worst case for hull methods (v ~ N(0, I), p = -0.05 |v|^2: every point is on the upper
hull), and the simplex on random n x n matrices (entries uniform in [-1, 1]). Each line
gives the best of ``--repeat`` runs and its ratio to one O(n) exploitability pass (one
O(n^2) payoff pass for matrices) measured in the same run.

    uv run python bench/solver.py            # the full table of document/benchmarks.md
    uv run python bench/solver.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from _harness import markdown_table
from monocycle_nash import Character, Game, PayoffMatrix, solve
from monocycle_nash.solver import (
    matrix_exploitability,
    roster_arrays,
    solve_matrix_game,
    solve_roster,
    translated_power_excess,
)

_T = TypeVar("_T")

ROSTER_SIZES = (1_000, 10_000, 100_000, 1_000_000)
LP_SIZES = (10, 50, 100, 300)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes only (seconds)")
    parser.add_argument("--max-n", type=int, default=None, help="largest roster size")
    parser.add_argument("--lp-max-n", type=int, default=None, help="largest LP matrix size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per line; best is shown")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the random data")
    return parser


def best_time(action: Callable[[], _T], repeat: int) -> tuple[float, _T]:
    """Run ``action`` ``repeat`` times; return the fastest wall time and the last result."""
    best = float("inf")
    result: _T | None = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


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
            print(markdown_table(headers, table)[-1], file=sys.stderr, flush=True)
    return markdown_table(headers, table)


def bench_lp(sizes: Sequence[int], repeat: int, seed: int) -> list[str]:
    """Table lines for the simplex on random general matrices."""
    headers = ("LP n x n", "solve ms", "one payoff pass ms", "ratio", "pivots", "exploitability")
    align = "r" * len(headers)
    table: list[list[str]] = []
    for n in sizes:
        rng = random.Random(seed + n)
        rows = [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(n)]
        matrix = PayoffMatrix.from_rows(rows)
        runs = 1 if n > 150 else repeat
        elapsed, solution = best_time(partial(solve_matrix_game, matrix.rows), runs)
        one_pass, gap = best_time(
            partial(
                matrix_exploitability,
                matrix.rows,
                solution.row_strategy,
                solution.column_strategy,
                solution.value,
            ),
            repeat,
        )
        table.append(
            [
                str(n),
                f"{elapsed * 1e3:.1f}",
                f"{one_pass * 1e3:.2f}",
                f"{elapsed / one_pass:.0f}",
                str(solution.pivots),
                f"{gap:.1e}",
            ]
        )
        print(markdown_table(headers, table, align=align)[-1], file=sys.stderr, flush=True)
    return markdown_table(headers, table, align=align)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a Markdown report on stdout."""
    args = build_parser().parse_args(argv)
    roster_sizes: Sequence[int] = (1_000, 10_000) if args.quick else ROSTER_SIZES
    lp_sizes: Sequence[int] = (10, 50) if args.quick else LP_SIZES
    if args.max_n is not None:
        roster_sizes = [n for n in roster_sizes if n <= args.max_n]
    if args.lp_max_n is not None:
        lp_sizes = [n for n in lp_sizes if n <= args.lp_max_n]
    command = "uv run python bench/solver.py" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    header = [
        f"Machine: {platform.machine()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()}",
        f"Command: `{command}` (best of {args.repeat}, seed {args.seed})",
        "",
    ]
    body = [
        *bench_rosters(roster_sizes, args.repeat, args.seed),
        "",
        *bench_lp(lp_sizes, args.repeat, args.seed),
    ]
    print("\n".join(header + body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
