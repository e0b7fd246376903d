"""Benchmark of the analyses: team games and spectra (a plain script, not a test).

Two tables, each measured in one run of this script so that its ratios compare like
with like:

1. Team games of random rosters of 6, 16 and 32 characters (every pair: 15, 120 and 496
   teams; p ~ U[0, 1), x, y ~ U[-1, 1)). For each: building the team matrix (float and
   exact), its spectrum (Householder + QL), and, as the yardstick, one LP solve of the
   same team game (the Devex simplex on the whole matrix,
   ``solve_matrix(..., method="simplex")``); also ``solve_team_game`` (method auto, the
   double oracle) and the team matrix built the upstream project's way, one general LP
   per 2 x 2 sub-game (``solve_matrix_game`` on each), to show what the closed form saves.
2. Roster spectra in O(n) (``roster-rank4``) against solving the same roster
   (``solve``, the monocycle solver), n = 10^3 .. 10^6.

    uv run python bench/analyses.py            # the tables of document/analyses.md
    uv run python bench/analyses.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from functools import partial

from _harness import best_time, machine_lines, markdown_table
from monocycle_nash import Character, Game, build_team_game, solve, solve_team_game
from monocycle_nash.solver import solve_matrix, solve_matrix_game
from monocycle_nash.spectrum import roster_spectrum, spectrum_of

TEAM_ROSTERS = (6, 16, 32)
ROSTER_SIZES = (1_000, 10_000, 100_000, 1_000_000)
UPSTREAM_MAX_TEAMS = 120  # the LP-per-sub-game build is timed up to this many teams


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes only (a few seconds)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per line; best is shown")
    parser.add_argument("--seeds", type=int, default=3, help="random rosters per team line")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the random data")
    return parser


def random_roster(n: int, rng: random.Random) -> Game:
    """p ~ U[0, 1), x, y ~ U[-1, 1), labels c0, c1, ... (RESEARCH.md section 4)."""
    return Game.of_roster(
        [
            Character(f"c{i}", rng.random(), (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)))
            for i in range(n)
        ]
    )


def upstream_team_matrix(game: Game) -> list[list[float]]:
    """The team matrix of every pair the upstream way: a general LP per 2 x 2 sub-game."""
    rows = game.matrix.rows
    teams = [(i, j) for i in range(game.size) for j in range(i + 1, game.size)]
    matrix = [[0.0] * len(teams) for _ in teams]
    for a, (i, j) in enumerate(teams):
        for b in range(a + 1, len(teams)):
            k, h = teams[b]
            sub = [[rows[i][k], rows[i][h]], [rows[j][k], rows[j][h]]]
            matrix[a][b] = solve_matrix_game(sub).value
            matrix[b][a] = -matrix[a][b]
    return matrix


def bench_teams(rosters: Sequence[int], seeds: int, repeat: int, seed: int) -> list[str]:
    """Table lines: team matrix and spectrum against one LP solve of the team game."""
    headers = (
        "characters",
        "teams",
        "build ms",
        "build exact ms",
        "spectrum ms",
        "LP solve ms",
        "build/LP",
        "spectrum/LP",
        "solve_team_game ms",
        "upstream build ms",
        "upstream/build",
    )
    table: list[list[str]] = []
    for characters in rosters:
        totals = dict.fromkeys(("build", "exact", "spectrum", "lp", "auto", "upstream"), 0.0)
        teams = 0
        for offset in range(seeds):
            game = random_roster(characters, random.Random(seed + 1000 * characters + offset))
            build, team = best_time(partial(build_team_game, game), repeat)
            exact, _ = best_time(partial(build_team_game, game, exact=True), repeat)
            spectrum, _ = best_time(partial(spectrum_of, team.game), min(repeat, 2))
            rows = team.game.matrix.rows
            lp, _ = best_time(
                partial(solve_matrix, rows, method="simplex", allow_highs=False), repeat
            )
            auto, _ = best_time(partial(solve_team_game, team), repeat)
            teams = len(team.labels)
            if teams <= UPSTREAM_MAX_TEAMS:
                upstream, _ = best_time(partial(upstream_team_matrix, game), 1)
                totals["upstream"] += upstream
            for key, value in (
                ("build", build),
                ("exact", exact),
                ("spectrum", spectrum),
                ("lp", lp),
                ("auto", auto),
            ):
                totals[key] += value
        mean = {key: value / seeds for key, value in totals.items()}
        has_upstream = teams <= UPSTREAM_MAX_TEAMS
        table.append(
            [
                str(characters),
                str(teams),
                f"{mean['build'] * 1e3:.1f}",
                f"{mean['exact'] * 1e3:.1f}",
                f"{mean['spectrum'] * 1e3:.1f}",
                f"{mean['lp'] * 1e3:.1f}",
                f"{mean['build'] / mean['lp']:.1f}",
                f"{mean['spectrum'] / mean['lp']:.1f}",
                f"{mean['auto'] * 1e3:.1f}",
                f"{mean['upstream'] * 1e3:.0f}" if has_upstream else "-",
                f"{mean['upstream'] / mean['build']:.0f}" if has_upstream else "-",
            ]
        )
        _progress(headers, table)
    return markdown_table(headers, table)


def bench_roster_spectra(sizes: Sequence[int], repeat: int, seed: int) -> list[str]:
    """Table lines: the O(n) roster spectrum against solving the roster."""
    headers = ("n", "spectrum ms", "solve ms", "spectrum/solve", "levels", "sigma2/sigma1")
    table: list[list[str]] = []
    for n in sizes:
        game = random_roster(n, random.Random(seed + n))
        powers, xs, ys = game.arrays
        spectrum, result = best_time(partial(roster_spectrum, powers, xs, ys), repeat)
        solved, _ = best_time(partial(solve, game), repeat)
        ratio = result.ratio2_to_1
        table.append(
            [
                f"{n:,}",
                f"{spectrum * 1e3:.1f}",
                f"{solved * 1e3:.1f}",
                f"{spectrum / solved:.2f}",
                str(len(result.levels)),
                "-" if ratio is None else f"{ratio:.4f}",
            ]
        )
        _progress(headers, table)
    return markdown_table(headers, table)


def _progress(headers: Sequence[str], table: list[list[str]]) -> None:
    print(markdown_table(headers, table)[-1], file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a Markdown report on stdout."""
    args = build_parser().parse_args(argv)
    rosters: Sequence[int] = (6, 16) if args.quick else TEAM_ROSTERS
    sizes: Sequence[int] = (1_000, 10_000) if args.quick else ROSTER_SIZES
    seeds = 1 if args.quick else args.seeds
    repeat = 1 if args.quick else args.repeat
    command = "uv run python bench/analyses.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    header = [
        *machine_lines(),
        f"command: `{command}` (best of {repeat} per roster, mean over {seeds} rosters;"
        f" seed {args.seed})",
        "",
    ]
    body = [
        *bench_teams(rosters, seeds, repeat, args.seed),
        "",
        *bench_roster_spectra(sizes, repeat, args.seed),
    ]
    print("\n".join(header + body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
