"""Benchmark of searching the run history at 10^4, 10^5 and 10^6 runs (a plain script).

Builds databases through the real schema (migrated by ``SQLiteConnectionFactory``),
filled with ``executemany``: run times spread over two years (a few bursts a day),
statuses mostly ``success`` (about 88 %, 8 % fail, 3.9 % killed, 0.1 % running), 50
projects holding about 60 % of the runs, and three figures for every successful run
(``support_size`` 1, 2 or 3, ``value`` uniform in [0, 1), ``solver`` one of three
words). Then times, in this process through ``RunsRepository``, a 50-row page and full
listings filtered by project, by status, by a date range, by figures (``--where``: a
common and a rare condition) and by a text (``--search``), and the unfiltered count,
each with its ``EXPLAIN QUERY PLAN``; and, as whole processes, ``runmeta list-runs
--limit 50`` (also with ``--status``, ``--project-id`` and ``--where``) against a bare
``python -c "import sqlite3, json"`` of the same interpreter. The package's bytecode
is compiled once before timing (as an installed package has it); the databases live
in a temporary folder deleted at the end, unless ``--cache-dir`` keeps them for the
next run.

    uv run python bench/listing.py            # the tables of document/benchmarks.md
    uv run python bench/listing.py --quick    # 10^4 and 10^5 runs only
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from _harness import child_env, load_average, machine_lines, markdown_table, median, warm_bytecode
from monocycle_nash.runmeta.clock import JST
from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.metrics import parse_where
from monocycle_nash.runmeta.repositories import RunsRepository

SIZES = (10_000, 100_000, 1_000_000)
PROJECTS = 50
START = datetime(2025, 1, 1, 9, 0, 0, tzinfo=JST)
SPAN_DAYS = 730
STATUS_WEIGHTS = (("success", 880), ("fail", 80), ("killed", 39), ("running", 1))
COMMANDS = (
    "python src/main.py",
    "monocycle-nash --config settings.toml",
    "monocycle-nash --config sweep.toml --exact",
    "python -m notebooks.sweep",
)
PROJECT = "proj-07"
"""The project whose runs the project filters ask for."""
RANGE_FROM = "2026-03-01T00:00:00+09:00"
RANGE_TO = "2026-03-31T23:59:59+09:00"
"""A one-month range (about 1/24 of the runs)."""
SOLVERS = ("lp", "monocycle", "double-oracle")
COMMON = "support_size=3"
"""A --where condition met by about 29 % of the runs (a third of the successful ones)."""
RARE = "value>0.999"
"""A --where condition met by about 0.09 % of the runs."""
SEARCH = "try 42"
"""A --search text in about 0.1 % of the notes ('try 42', 'try 420'...): pages scan far."""


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 runs only")
    parser.add_argument("--max-runs", type=int, default=None, help="largest database size")
    parser.add_argument(
        "--repeat", type=int, default=None, help="timings per query (default 15, quick 5)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="keep the databases here and reuse them next time (default: a temporary folder)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the random data")
    return parser


# --- building a database --------------------------------------------------------------


def _rows(count: int, seed: int) -> Iterator[tuple[object, ...]]:
    """The runs, oldest first: (created, started, ended, status, command, commit, note,
    project, updated)."""
    rng = random.Random(seed)
    statuses = [name for name, weight in STATUS_WEIGHTS for _ in range(weight)]
    commits = [f"{rng.getrandbits(160):040x}" for _ in range(max(1, count // 2000))]
    projects = [f"proj-{index:02d}" for index in range(PROJECTS)]
    span = SPAN_DAYS * 86_400
    # Sorted random instants: ids grow with time, as AUTOINCREMENT gives them.
    offsets = sorted(rng.randrange(span) for _ in range(count))
    base = START.timestamp()
    for offset in offsets:
        created = datetime.fromtimestamp(base + offset, JST).isoformat(timespec="seconds")
        status = rng.choice(statuses)
        if status == "running":
            ended = None
            updated = created
        else:
            ended = datetime.fromtimestamp(base + offset + rng.randrange(1, 3600), JST).isoformat(
                timespec="seconds"
            )
            updated = ended
        project = rng.choice(projects) if rng.random() < 0.6 else None
        note = "" if rng.random() < 0.9 else f"try {rng.randrange(1000)}"
        yield (
            created,
            created,
            ended,
            status,
            rng.choice(COMMANDS),
            rng.choice(commits),
            note,
            project,
            updated,
        )


def _metric_rows(run_ids: list[int], seed: int) -> Iterator[tuple[object, ...]]:
    """Three figures of each run: (run_id, key, number, text), as ``run_metrics`` holds them."""
    rng = random.Random(seed + 1)
    for run_id in run_ids:
        yield run_id, "support_size", rng.choice((1, 2, 3)), None
        yield run_id, "value", rng.random(), None
        yield run_id, "solver", None, rng.choice(SOLVERS)


def build_database(path: Path, count: int, seed: int) -> None:
    """Create ``path`` through the real schema and fill it with ``count`` runs."""
    if path.exists():
        path.unlink()
    SQLiteConnectionFactory(path).connect().close()  # creates and migrates
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO projects (project_id, project_path, created_at, note)"
            " VALUES (?, ?, ?, '')",
            [
                (f"proj-{index:02d}", f"/analysis/proj-{index:02d}", START.isoformat())
                for index in range(PROJECTS)
            ],
        )
        conn.executemany(
            "INSERT INTO runs (created_at, started_at, ended_at, status, command, git_commit,"
            " note, project_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _rows(count, seed),
        )
        successful = [
            row[0] for row in conn.execute("SELECT run_id FROM runs WHERE status = 'success'")
        ]
        conn.executemany(
            "INSERT INTO run_metrics (run_id, key, number, text) VALUES (?, ?, ?, ?)",
            _metric_rows(successful, seed),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def database_for(folder: Path, count: int, seed: int) -> tuple[Path, float | None]:
    """The database of ``count`` runs in ``folder``, built unless cached; (path, build s)."""
    path = folder / f"runs-{count}-seed{seed}-v5.db"  # v5: with figures
    if path.exists():
        return path, None
    start = time.perf_counter()
    temp = path.with_suffix(".building")
    build_database(temp, count, seed)
    temp.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{temp}{suffix}").unlink(missing_ok=True)
    return path, time.perf_counter() - start


# --- in-process queries ---------------------------------------------------------------


def _timed(action: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median milliseconds of ``action`` over ``repeat`` calls, and its last result."""
    times = []
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - start) * 1000.0)
    return median(times), result


def _plan(conn: sqlite3.Connection, action: Callable[[], int]) -> str:
    """The query plan of the SELECT that ``action`` runs, as the repository wrote it."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)  # SQL with the bound values filled in
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    rows = conn.execute(f"EXPLAIN QUERY PLAN {selects[-1]}").fetchall()
    text = "; ".join(str(row[3]) for row in rows)
    for long, short in (
        ("SEARCH ", ""),
        ("SCAN ", ""),
        ("USING COVERING INDEX", "covering"),
        ("USING INTEGER PRIMARY KEY", "by id"),
        ("USING INDEX", "index"),
        ("; p index sqlite_autoindex_projects_1 (project_id=?) LEFT-JOIN", " + project by key"),
        ("USE TEMP B-TREE FOR ORDER BY", "**TEMP B-TREE (sort)**"),
        (
            "; CORRELATED SCALAR SUBQUERY 1; m USING PRIMARY KEY (run_id=? AND key=?)",
            " + figure by key",
        ),
        ("r by id (rowid=?); LIST SUBQUERY 1; m covering ", "figures: "),
        ("run_metrics USING PRIMARY KEY (run_id=?)", "figures of the page by key"),
    ):
        text = text.replace(long, short)
    return text


def queries(conn: sqlite3.Connection, repeat: int, full_repeat: int) -> list[list[str]]:
    """Rows of the in-process table for one database."""
    runs = RunsRepository(conn)
    common, rare = parse_where(COMMON), parse_where(RARE)
    pages: list[tuple[str, Callable[[], int]]] = [
        ("page of 50, no filter", lambda: len(runs.list_runs(limit=50))),
        ("page of 50, --status fail", lambda: len(runs.list_runs(status="fail", limit=50))),
        (
            f"page of 50, --project-id {PROJECT}",
            lambda: len(runs.list_runs(project_id=PROJECT, limit=50)),
        ),
        (
            "page of 50, one month",
            lambda: len(runs.list_runs(from_at=RANGE_FROM, to_at=RANGE_TO, limit=50)),
        ),
        (
            "page of 50, --status fail, one month",
            lambda: len(
                runs.list_runs(status="fail", from_at=RANGE_FROM, to_at=RANGE_TO, limit=50)
            ),
        ),
        (
            f"page of 50, --status killed --project-id {PROJECT}",
            lambda: len(runs.list_runs(status="killed", project_id=PROJECT, limit=50)),
        ),
        (f"page of 50, --where {COMMON}", lambda: len(runs.list_runs(where=common, limit=50))),
        (f"page of 50, --where {RARE}", lambda: len(runs.list_runs(where=rare, limit=50))),
        (
            f"page of 50 with figures, --where {COMMON}",
            lambda: len(list(runs.iter_listing(where=common, limit=50))),
        ),
        (f"page of 50, --search '{SEARCH}'", lambda: len(runs.list_runs(search=SEARCH, limit=50))),
    ]
    full: list[tuple[str, Callable[[], int]]] = [
        (f"all runs of {PROJECT}", lambda: len(runs.list_runs(project_id=PROJECT))),
        ("all runs with status fail", lambda: len(runs.list_runs(status="fail"))),
        (
            "all runs of one month",
            lambda: len(runs.list_runs(from_at=RANGE_FROM, to_at=RANGE_TO)),
        ),
        (f"all runs with {COMMON}", lambda: len(runs.list_runs(where=common))),
        ("count, no filter", runs.count_runs),
        (f"count, --where {COMMON}", lambda: runs.count_runs(where=common)),
    ]
    rows = []
    for cases, times in ((pages, repeat), (full, full_repeat)):
        for label, action in cases:
            ms, result = _timed(action, times)
            listing = cases is full and not label.startswith("count")
            per_row = f"{ms * 1000 / result:.2f}" if listing and result else "-"
            rows.append([label, f"{ms:.3f}", f"{result:,}", per_row, _plan(conn, action)])
    return rows


# --- whole processes ------------------------------------------------------------------


def _run_once(command: Sequence[str], cwd: Path) -> float:
    """Wall seconds of one child process, from start to exit, output discarded."""
    start = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def _runmeta_command() -> list[str]:
    script = Path(sys.executable).parent / "runmeta"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "monocycle_nash.runmeta.cli"]


def processes(database: Path, folder: Path, repeat: int) -> list[list[str]]:
    """Rows of the whole-process table for one database."""
    runmeta = [*_runmeta_command(), "--db-path", str(database), "--result-root", "result"]
    module = [sys.executable, "-m", "monocycle_nash.runmeta.cli", "--db-path", str(database)]
    cases: list[tuple[str, list[str]]] = [
        ('python -c "import sqlite3, json"', [sys.executable, "-c", "import sqlite3, json"]),
        ("runmeta list-runs --limit 50", [*runmeta, "list-runs", "--limit", "50"]),
        (
            "runmeta list-runs --limit 50 --status fail",
            [*runmeta, "list-runs", "--limit", "50", "--status", "fail"],
        ),
        (
            f"runmeta list-runs --limit 50 --project-id {PROJECT}",
            [*runmeta, "list-runs", "--limit", "50", "--project-id", PROJECT],
        ),
        (
            "python -m monocycle_nash.runmeta.cli list-runs --limit 50",
            [*module, "list-runs", "--limit", "50"],
        ),
        (
            "runmeta list-runs --limit 50 --json",
            [*runmeta, "list-runs", "--limit", "50", "--json"],
        ),
        (
            f"runmeta list-runs --limit 50 --where {COMMON}",
            [*runmeta, "list-runs", "--limit", "50", "--where", COMMON],
        ),
        (
            f"runmeta list-runs --limit 50 --where '{RARE}'",
            [*runmeta, "list-runs", "--limit", "50", "--where", RARE],
        ),
        (
            f"runmeta list-runs --limit 50 --where {COMMON} --format csv",
            [*runmeta, "list-runs", "--limit", "50", "--where", COMMON, "--format", "csv"],
        ),
        (
            f"runmeta list-runs --project-id {PROJECT} (all rows)",
            [*runmeta, "list-runs", "--project-id", PROJECT],
        ),
    ]
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    for _, command in cases:  # one untimed start each: page cache, bytecode
        _run_once(command, folder)
    for _ in range(repeat):  # interleaved, so that load changes hit every line alike
        for label, command in cases:
            times[label].append(_run_once(command, folder) * 1000.0)
    bare = median(times[cases[0][0]])
    bare_min = min(times[cases[0][0]])
    return [
        [
            label,
            f"{median(times[label]):.1f}",
            f"{min(times[label]):.1f}",
            f"{median(times[label]) / bare:.2f}",
            f"{min(times[label]) / bare_min:.2f}",
        ]
        for label, _ in cases
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    args = build_parser().parse_args(argv)
    sizes = [size for size in SIZES if size <= (args.max_runs or SIZES[-1])]
    if args.quick:
        sizes = [size for size in sizes if size <= 100_000]
    repeat = args.repeat or (5 if args.quick else 15)
    warm_bytecode(["monocycle_nash.runmeta.cli", "monocycle_nash.runmeta.service"])
    for line in machine_lines():
        print(line)
    print(f"sizes {', '.join(f'{size:,}' for size in sizes)}; {repeat} timings per line")
    with tempfile.TemporaryDirectory(prefix="runmeta-listing-") as temp:
        folder = args.cache_dir if args.cache_dir is not None else Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            database, built = database_for(folder, size, args.seed)
            how = "cached" if built is None else f"built in {built:.1f} s"
            megabytes = database.stat().st_size / 1e6
            print(f"\n### {size:,} runs ({how}, {megabytes:.0f} MB)\n")
            conn = SQLiteConnectionFactory(database).connect()
            try:
                rows = queries(conn, repeat, repeat if size < 1_000_000 else max(3, repeat // 3))
            finally:
                conn.close()
            headers = ["in-process, RunsRepository", "median ms", "rows", "us/row", "query plan"]
            for line in markdown_table(headers, rows, align="lrrrl"):
                print(line)
            print()
            headers = ["whole process", "median ms", "min ms", "median / bare", "min / bare min"]
            for line in markdown_table(headers, processes(database, Path(temp), repeat)):
                print(line)
    print(f"\nload average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
