"""Benchmark of the main job end to end on CSV rosters (a plain script, not a test).

For Gaussian rosters (p, x, y ~ N(0, 1)) of 10^5 and 10^6 characters written as CSV
(``label,p,x,y``), each case runs in its own child process, timed from its start to
its exit, its peak memory the child's own ``ru_maxrss`` (``os.wait4``):

- **bare csv** (the baseline): ``for row in csv.reader(file): pass`` over the roster;
- **read roster**: ``game_files.read_roster_csv`` (read, check, build the game);
- **main job**: ``python src/main.py roster.csv --root TMP``, all default outputs (the
  JSON results and the pictures), with the time until its first line (the run id)
  appears on stdout and the run's own recorded duration (``meta.json``, whole seconds:
  the range over the rounds);
- **main job, per_strategy csv / none**: the same through a run config with
  ``[output] per_strategy = "csv"`` or ``"none"``.

Each line gives the best of ``--repeat`` runs and its ratio to the bare csv read of the
same roster measured in the same run. ``--profile N`` prints the main job's cProfile
(cumulative, top 25) for a roster of N characters instead.

    uv run python bench/end_to_end.py            # 10^5 and 10^6 (about 2 minutes)
    uv run python bench/end_to_end.py --quick    # 10^5 only (about 15 s)
    uv run python bench/end_to_end.py --profile 1000000
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from _harness import child_env, machine_lines, markdown_table, warm_bytecode

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "src" / "main.py"
SIZES = (100_000, 1_000_000)
BARE_CSV = "import csv, sys\nfor _ in csv.reader(open(sys.argv[1], newline='')): pass\n"
READ_ROSTER = (
    "import sys\nfrom monocycle_nash.game_files import read_roster_csv\n"
    "read_roster_csv(sys.argv[1])\n"
)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10^5 characters only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per line; best is shown")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the random rosters")
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile the main job on N characters instead"
    )
    return parser


def write_roster(path: Path, size: int, seed: int) -> None:
    """Write a Gaussian CSV roster of ``size`` characters to ``path``."""
    rng = random.Random(seed)
    gauss = rng.gauss
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("label,p,x,y\n")
        for block in range(0, size, 10_000):
            handle.write(
                "".join(
                    f"c{index:07d},{gauss(0, 1)!r},{gauss(0, 1)!r},{gauss(0, 1)!r}\n"
                    for index in range(block, min(size, block + 10_000))
                )
            )


@dataclass(frozen=True, slots=True)
class Timing:
    """One child process: wall seconds, peak memory, when its first line came, its output."""

    seconds: float
    peak_mb: float
    first_line: float | None
    stdout: str


def run_child(command: Sequence[str], cwd: Path) -> Timing:
    """Run ``command``; time it, catch its first stdout line, read its own peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    first_line = time.perf_counter() - start if first else None
    rest = process.stdout.read()
    errors = process.stderr.read()
    # wait4, not wait: the rusage of this child alone (RUSAGE_CHILDREN keeps the maximum
    # over every child so far).
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{command[-1]} failed: {errors.decode(errors='replace')}")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    peak = usage.ru_maxrss * scale / 2**20
    return Timing(seconds, peak, first_line, (first + rest).decode())


def best(timings: Sequence[Timing]) -> Timing:
    """The fastest run, with the highest peak memory of all runs."""
    fastest = min(timings, key=lambda timing: timing.seconds)
    peak = max(timing.peak_mb for timing in timings)
    return Timing(fastest.seconds, peak, fastest.first_line, fastest.stdout)


def recorded_seconds(root: Path) -> float:
    """The duration the newest run under ``root`` recorded (ended_at - started_at)."""
    newest = max((root / "result").iterdir(), key=lambda path: int(path.name))
    meta = json.loads((newest / "meta.json").read_text("utf-8"))
    started = datetime.fromisoformat(meta["started_at"])
    ended = datetime.fromisoformat(meta["ended_at"])
    return (ended - started).total_seconds()


def output_mb(root: Path) -> float:
    """Size of the newest run's output/ folder in MB."""
    newest = max((root / "result").iterdir(), key=lambda path: int(path.name))
    return sum(path.stat().st_size for path in (newest / "output").iterdir()) / 2**20


def measure(size: int, folder: Path, repeat: int, seed: int) -> list[list[str]]:
    """The table rows of one roster size."""
    roster = folder / f"roster_{size}.csv"
    write_roster(roster, size, seed)
    configs = {}
    for mode in ("csv", "none"):
        config = folder / f"run_{size}_{mode}.toml"
        config.write_text(
            f'game = "{roster.name}"\n[output]\nper_strategy = "{mode}"\n', encoding="utf-8"
        )
        configs[mode] = config
    cases: dict[str, list[Timing]] = {}
    durations: dict[str, list[float]] = {}
    outputs: dict[str, float] = {}
    main_cases = {
        "main job": roster,
        "main job, per_strategy csv": configs["csv"],
        "main job, per_strategy none": configs["none"],
    }
    # Interleaved round by round, so that a change of load hits every case alike.
    for round_number in range(repeat):
        python = sys.executable
        cases.setdefault("bare csv", []).append(
            run_child([python, "-c", BARE_CSV, str(roster)], folder)
        )
        cases.setdefault("read roster", []).append(
            run_child([python, "-c", READ_ROSTER, str(roster)], folder)
        )
        for name, argument in main_cases.items():
            root = folder / f"root_{size}"
            timing = run_child([python, str(MAIN), str(argument), "--root", str(root)], folder)
            cases.setdefault(name, []).append(timing)
            durations.setdefault(name, []).append(recorded_seconds(root))
            outputs[name] = output_mb(root)
        print(f"  n = {size:,}: round {round_number + 1} of {repeat} done", file=sys.stderr)
    baseline = best(cases["bare csv"]).seconds
    rows = []
    for name, timings in cases.items():
        timing = best(timings)
        recorded = _whole_seconds(durations[name]) if name in durations else "-"
        first = "-" if timing.first_line is None else f"{timing.first_line:.2f}"
        written = f"{outputs[name]:.0f}" if name in outputs else "-"
        rows.append(
            [
                f"{size:,}",
                name,
                f"{timing.seconds:.2f}",
                f"{timing.seconds / baseline:.1f}",
                f"{timing.peak_mb:.0f}",
                first,
                recorded,
                written,
            ]
        )
    return rows


def _whole_seconds(values: Sequence[float]) -> str:
    """``8`` or ``8-9``: the range of recorded durations (whole seconds in meta.json)."""
    low, high = min(values), max(values)
    return f"{low:.0f}" if low == high else f"{low:.0f}-{high:.0f}"


def profile(size: int, seed: int) -> None:
    """Print the main job's cProfile (cumulative, top 25) on a roster of ``size``."""
    sys.path.insert(0, str(REPO / "src"))
    from monocycle_nash.app import main  # noqa: PLC0415 - after the path is set

    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as name:
        folder = Path(name)
        roster = folder / "roster.csv"
        write_roster(roster, size, seed)
        profiler = cProfile.Profile()
        with redirect_stdout(io.StringIO()):
            profiler.runcall(main, [str(roster), "--root", str(folder)])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the machine and the table."""
    args = build_parser().parse_args(argv)
    if args.profile is not None:
        profile(args.profile, args.seed)
        return 0
    sizes = SIZES[:1] if args.quick else SIZES
    repeat = min(args.repeat, 2) if args.quick else args.repeat
    warm_bytecode(["monocycle_nash.app.main_job", "monocycle_nash.plot"])
    for line in machine_lines():
        print(line)
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as name:
        for size in sizes:
            rows += measure(size, Path(name), repeat, args.seed)
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print()
    headers = [
        "characters",
        "case",
        "seconds",
        "/ bare csv",
        "peak MB",
        "first line s",
        "recorded s",
        "output MB",
    ]
    print("\n".join(markdown_table(headers, rows, align="llrrrrrr")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
