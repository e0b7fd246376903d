"""Benchmark of experiments: trials per second on one core and with ``workers = 2``.

Each line runs one experiment (a run config with ``[experiment]``) through the main job
as a real process, ``python -m monocycle_nash.app``, into a fresh folder, with
``workers = 1`` (the baseline: one core) and then ``workers = 2``, back to back, so the
speed-up compares like with like. The time is the whole command: start-up, spawning the
workers, the trials, trials.csv, summary.json and summary.svg. The upstream project's
figures (one core, a general LP per 2x2 sub-game: about 2 s per 6-character trial and
20 s per 16-character trial, RESEARCH.md section 4) are printed beside them for scale;
they were not measured here.

    uv run python bench/experiments.py            # the table of document/benchmarks.md
    uv run python bench/experiments.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _harness import child_env, machine_lines, markdown_table, warm_bytecode


@dataclass(frozen=True, slots=True)
class Case:
    """One experiment of the table: its kind, generation settings and trial counts."""

    kind: str
    settings: dict[str, object]
    trials: int
    quick_trials: int
    upstream_per_trial: float | None  # seconds, RESEARCH.md section 4 (not measured)

    def config(self, trials: int, seed: int, workers: int) -> str:
        """The run config's text."""
        lines = [
            "[experiment]",
            f'kind = "{self.kind}"',
            f"trials = {trials}",
            f"seed = {seed}",
            f"workers = {workers}",
        ]
        lines += [f"{key} = {value}" for key, value in self.settings.items()]
        return "\n".join(lines) + "\n"


CASES = (
    Case("team_spectrum", {"character_count": 6}, 2000, 200, 2.0),
    Case("team_spectrum", {"character_count": 16}, 50, 6, 20.0),
    Case("approximation_quality", {"size": 30}, 500, 50, None),
)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer trials (a few seconds)")
    parser.add_argument("--seed", type=int, default=2026, help="the experiments' seed")
    return parser


def timed_run(config: str) -> float:
    """Seconds of one main-job run of the run config ``config``, in a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="bench-experiment-") as name:
        folder = Path(name)
        path = folder / "experiment.toml"
        path.write_text(config, encoding="utf-8")
        command = [sys.executable, "-m", "monocycle_nash.app", str(path), "--root", str(folder)]
        start = time.perf_counter()
        done = subprocess.run(
            command, cwd=folder, env=child_env(), capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"the experiment failed: {done.stderr.strip()}")
        return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a Markdown report on stdout."""
    args = build_parser().parse_args(argv)
    warm_bytecode(["monocycle_nash.app", "monocycle_nash.experiments"])
    headers = (
        "experiment",
        "trials",
        "1 worker s",
        "trials/s (1)",
        "2 workers s",
        "trials/s (2)",
        "speed-up",
        "upstream s (1 core)",
    )
    table: list[list[str]] = []
    for case in CASES:
        trials = case.quick_trials if args.quick else case.trials
        one = timed_run(case.config(trials, args.seed, 1))
        two = timed_run(case.config(trials, args.seed, 2))
        what = f"{case.kind} " + ", ".join(f"{k} {v}" for k, v in case.settings.items())
        upstream = case.upstream_per_trial
        table.append(
            [
                what,
                f"{trials:,}",
                f"{one:.1f}",
                f"{trials / one:.1f}",
                f"{two:.1f}",
                f"{trials / two:.1f}",
                f"{one / two:.2f}",
                "-" if upstream is None else f"{upstream * trials:,.0f}",
            ]
        )
        print(markdown_table(headers, table)[-1], file=sys.stderr, flush=True)
    command = "uv run python bench/experiments.py" + "".join(
        f" {a}" for a in (argv or sys.argv[1:])
    )
    print(
        "\n".join(
            [
                *machine_lines(),
                f"command: `{command}` (seed {args.seed})",
                "",
                *markdown_table(headers, table),
            ]
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
