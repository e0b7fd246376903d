"""Benchmark of the cost of recording a run (a plain script, not a test).

Compares ``RunSessionService.start`` + ``finish_success`` with a "floor": plain
``sqlite3`` and ``os`` calls doing exactly the per-run work of the design and nothing
else (INSERT + commit, the run folder and its ``input/ output/ logs/``, meta.json
written through a temporary file and ``os.replace``, UPDATE + commit, meta.json again;
WAL journal, ``synchronous=NORMAL``, the same table and indexes). Both run in this
process, interleaved round by round, so they share the machine's state; the ratio is
taken per round and its median reported.

Cases: no input and a small input file (the floor then also copies and hashes it),
each with the project folder outside any git repository and inside a throwaway one
(``git init`` + one commit). Then 8 processes recording at once into one database,
against 8 processes running the floor. Everything happens in a temporary folder that is
deleted at the end.

The PostgreSQL columns time the same service on a PostgreSQL server (``pgserver``, a
development dependency, started in the temporary folder; local socket), one database
per case, against a floor of bare psycopg statements: ``INSERT ... RETURNING run_id``
and ``UPDATE`` in autocommit, nothing else (no files). Without pgserver and psycopg,
or with ``--no-postgres``, those columns are ``-``.

    uv run python bench/recording.py            # the table of document/benchmarks.md
    uv run python bench/recording.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import (
    child_env,
    load_average,
    machine_lines,
    make_git_repo,
    markdown_table,
    median,
    warm_bytecode,
)
from monocycle_nash.runmeta.clock import JST
from monocycle_nash.runmeta.db import MIGRATIONS, migrate
from monocycle_nash.runmeta.service import RunSessionService

if TYPE_CHECKING:
    import psycopg

INPUT_TEXT = "\n".join(
    [
        "[game]",
        'name = "bench"',
        *(f"c{i} = {{ power = {i}.5, x = 0.{i}, y = -0.{i} }}" for i in range(20)),
    ]
).encode()
"""About 1 KB of TOML: the size of a typical game file."""

_SUBFOLDERS = ("input", "output", "logs")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few runs (seconds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per case (default 7)")
    parser.add_argument("--runs", type=int, default=None, help="runs per round (default 300)")
    parser.add_argument("--processes", type=int, default=8, help="concurrent processes")
    parser.add_argument(
        "--runs-per-process", type=int, default=None, help="runs per process (default 150)"
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="leave out the PostgreSQL columns"
    )
    parser.add_argument(
        "--worker", nargs=3, metavar=("KIND", "ROOT", "RUNS"), help=argparse.SUPPRESS
    )
    return parser


# --- the floor ------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(JST).isoformat(timespec="seconds")


def _write_json(folder: str, payload: dict[str, object]) -> None:
    temp = f"{folder}/.meta.json.{os.getpid()}.tmp"
    with open(temp, "w", encoding="utf-8") as handle:  # noqa: PTH123 - the floor: plain os
        handle.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    os.replace(temp, f"{folder}/meta.json")  # noqa: PTH105


class Floor:
    """The design's per-run work in plain ``sqlite3`` and ``os`` calls."""

    def __init__(self, root: Path) -> None:
        self.result_root = str(root / "floor-result")
        os.makedirs(self.result_root, exist_ok=True)  # noqa: PTH103
        database = root / ".floor" / "runs.db"
        database.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(database, timeout=30.0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        migrate(self.conn, MIGRATIONS)  # the same table and indexes as runmeta's

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def run(self, input_path: str | None = None) -> None:
        """Record one run start to end; with ``input_path``, copy and hash that file."""
        started = _now()
        cursor = self.conn.execute(
            "INSERT INTO runs (created_at, started_at, status, command, note, updated_at)"
            " VALUES (?, ?, 'running', 'bench', '', ?)",
            (started, started, started),
        )
        run_id = cursor.lastrowid
        folder = f"{self.result_root}/{run_id}"
        os.mkdir(folder)  # noqa: PTH102
        for name in _SUBFOLDERS:
            os.mkdir(f"{folder}/{name}")  # noqa: PTH102
        snapshot: dict[str, object] | None = None
        if input_path is not None:
            with open(input_path, "rb") as source:  # noqa: PTH123
                data = source.read()
            with open(f"{folder}/input/game.toml", "xb") as target:  # noqa: PTH123
                target.write(data)
            snapshot = {
                "stored_file": "input/game.toml",
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        meta: dict[str, object] = {
            "schema_version": 1,
            "run_id": run_id,
            "created_at": started,
            "started_at": started,
            "ended_at": None,
            "status": "running",
            "command": "bench",
            "git_commit": None,
            "note": "",
            "project_id": None,
            "updated_at": started,
            "project_path": None,
            "input": snapshot,
            "process": {"pid": os.getpid()},
            "reason": None,
            "warnings": [],
        }
        _write_json(folder, meta)
        ended = _now()
        self.conn.execute(
            "UPDATE runs SET status = 'success', ended_at = ?, updated_at = ? WHERE run_id = ?",
            (ended, ended, run_id),
        )
        meta.update(status="success", ended_at=ended, updated_at=ended)
        _write_json(folder, meta)


class PostgresFloor:
    """The design's database work on PostgreSQL in bare psycopg: INSERT, then UPDATE."""

    def __init__(self, url: str) -> None:
        import psycopg  # noqa: PLC0415 - a development dependency, only with a server

        self.conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
        # The schema the service made in the same database (same table and indexes).
        RunSessionService.open(tempfile.gettempdir(), database_url=url).close()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def run(self) -> None:
        """One run's two statements."""
        started = _now()
        row = self.conn.execute(
            "INSERT INTO runs (created_at, started_at, status, command, note, updated_at)"
            " VALUES (%s, %s, 'running', 'bench', '', %s) RETURNING run_id",
            (started, started, started),
        ).fetchone()
        assert row is not None
        ended = _now()
        self.conn.execute(
            "UPDATE runs SET status = 'success', ended_at = %s, updated_at = %s WHERE run_id = %s",
            (ended, ended, row[0]),
        )


class PostgresServer:
    """A throwaway PostgreSQL server (pgserver) below ``folder``, one database per case."""

    def __init__(self, folder: Path) -> None:
        import warnings  # noqa: PLC0415

        import psycopg  # noqa: PLC0415

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset
            import pgserver  # noqa: PLC0415

            self.server = pgserver.get_server(folder, cleanup_mode="stop")  # type: ignore[attr-defined]
        self._connect = psycopg.connect
        self._count = 0

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        self._count += 1
        name = f"bench_{self._count}"
        with self._connect(self.server.get_uri(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        url: str = self.server.get_uri(name)
        return url

    def stop(self) -> None:
        """Stop the server."""
        self.server.cleanup()


def start_postgres(folder: Path) -> PostgresServer | None:
    """A server for the PostgreSQL columns, or ``None`` (said on stderr) when there is none."""
    try:
        return PostgresServer(folder)
    except Exception as err:
        sys.stderr.write(f"no PostgreSQL columns: {type(err).__name__}: {err}\n")
        return None


# --- one process ----------------------------------------------------------------------


def _per_run_ms(action: Callable[[], None], runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        action()
    return (time.perf_counter() - start) * 1000.0 / runs


class Case:
    """One measured line: the service at ``root`` against the floor, with or without input."""

    def __init__(
        self, label: str, root: Path, *, with_input: bool, postgres: PostgresServer | None = None
    ) -> None:
        self.label = label
        root.mkdir(parents=True, exist_ok=True)
        self.input_path = str(root / "game.toml") if with_input else None
        if self.input_path is not None:
            Path(self.input_path).write_bytes(INPUT_TEXT)
        self.service = RunSessionService.open(root)
        self.floor = Floor(root)
        self.service_ms: list[float] = []
        self.floor_ms: list[float] = []
        self.pg_service: RunSessionService | None = None
        self.pg_floor: PostgresFloor | None = None
        if postgres is not None:
            self.pg_service = RunSessionService.open(
                root,
                database_url=postgres.new_database(),
                result_root=root / "pg-result",
            )
            self.pg_floor = PostgresFloor(postgres.new_database())
        self.pg_service_ms: list[float] = []
        self.pg_floor_ms: list[float] = []

    def service_run(self) -> None:
        """One recorded run through the service."""
        ctx = self.service.start("bench", input_path=self.input_path)
        self.service.finish_success(ctx)

    def floor_run(self) -> None:
        """One run of the floor."""
        self.floor.run(self.input_path)

    def pg_service_run(self) -> None:
        """One recorded run through the service on the PostgreSQL server."""
        assert self.pg_service is not None
        self.pg_service.finish_success(self.pg_service.start("bench", input_path=self.input_path))

    def round(self, runs: int) -> None:
        """Time ``runs`` runs of each, the floor first."""
        self.floor_ms.append(_per_run_ms(self.floor_run, runs))
        self.service_ms.append(_per_run_ms(self.service_run, runs))
        if self.pg_floor is not None:
            self.pg_floor_ms.append(_per_run_ms(self.pg_floor.run, runs))
            self.pg_service_ms.append(_per_run_ms(self.pg_service_run, runs))

    def warm_up(self, runs: int) -> None:
        """Caches, first folders, page cache, the server's buffers."""
        for _ in range(runs):
            self.floor_run()
            self.service_run()
            if self.pg_floor is not None:
                self.pg_floor.run()
                self.pg_service_run()

    def close(self) -> None:
        """Close every database."""
        self.service.close()
        self.floor.close()
        if self.pg_service is not None:
            self.pg_service.close()
        if self.pg_floor is not None:
            self.pg_floor.close()

    def row(self) -> list[str]:
        """The table row: medians, per-round ratio, spread."""
        ratios = [s / f for s, f in zip(self.service_ms, self.floor_ms, strict=True)]
        postgres = ["-", "-", "-"]
        if self.pg_service_ms:
            pg_ratios = [s / f for s, f in zip(self.pg_service_ms, self.pg_floor_ms, strict=True)]
            postgres = [
                f"{median(self.pg_service_ms):.3f}",
                f"{median(self.pg_floor_ms):.3f}",
                f"{median(pg_ratios):.2f}",
            ]
        return [
            self.label,
            f"{median(self.service_ms):.3f}",
            f"{median(self.floor_ms):.3f}",
            f"{median(ratios):.2f}",
            f"{min(ratios):.2f}-{max(ratios):.2f}",
            *postgres,
        ]


def single_process(
    base: Path, rounds: int, runs: int, postgres: PostgresServer | None = None
) -> list[str]:
    """Table of the single-process cases (PostgreSQL columns with a server)."""
    outside = base / "plain"
    inside = base / "repo"
    outside.mkdir(parents=True)
    commit = make_git_repo(inside)
    cases = [
        Case("no input, no git", outside / "a", with_input=False, postgres=postgres),
        Case("input file, no git", outside / "b", with_input=True, postgres=postgres),
        Case("no input, in a git repository", inside / "a", with_input=False, postgres=postgres),
        Case("input file, in a git repository", inside / "b", with_input=True, postgres=postgres),
    ]
    try:
        for case in cases:
            case.warm_up(max(1, runs // 10))
        for _ in range(rounds):
            for case in cases:
                case.round(runs)
        recorded = cases[2].service.runs.get(cases[2].service.runs.count_runs())
        if recorded.git_commit != commit:
            raise SystemExit(f"the service recorded {recorded.git_commit}, expected {commit}")
    finally:
        for case in cases:
            case.close()
    headers = [
        "case",
        "service ms/run",
        "floor ms/run",
        "ratio (median)",
        "ratio range",
        "PostgreSQL service ms/run",
        "psycopg floor ms/run",
        "PostgreSQL ratio",
    ]
    return markdown_table(headers, [case.row() for case in cases])


# --- several processes ----------------------------------------------------------------


def worker(kind: str, root: str, runs: int) -> None:
    """Child process: set up, say ready, wait for go, record ``runs`` runs, print times."""
    folder = Path(root)
    if kind == "service":
        service = RunSessionService.open(folder)

        def one() -> None:
            service.finish_success(service.start("bench"))

        close: Callable[[], None] = service.close
    else:
        floor = Floor(folder)
        one = floor.run
        close = floor.close
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    start = time.perf_counter()
    for _ in range(runs):
        one()
    elapsed = time.perf_counter() - start
    close()
    sys.stdout.write(f"{elapsed}\n")


def concurrent(kind: str, root: Path, processes: int, runs: int) -> tuple[float, float]:
    """Run ``processes`` workers together; return (wall seconds, slowest worker seconds)."""
    if kind == "service":
        RunSessionService.open(root).close()  # create the database before the race
    else:
        Floor(root).close()
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", kind, str(root), str(runs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for _ in range(processes)
    ]
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("a worker failed to start")
    start = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    slowest = 0.0
    for child in children:
        out, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"a worker failed with exit code {child.returncode}")
        slowest = max(slowest, float(out.strip()))
    return time.perf_counter() - start, slowest


def concurrency(base: Path, processes: int, runs: int, rounds: int) -> list[str]:
    """Table of the concurrent cases: throughput of the service against the floor."""
    walls: dict[str, list[float]] = {"floor": [], "service": []}
    for index in range(rounds):
        for kind in ("floor", "service"):
            root = base / f"{kind}-{index}"
            root.mkdir()
            wall, _ = concurrent(kind, root, processes, runs)
            walls[kind].append(wall)
    total = processes * runs
    floor_wall = median(walls["floor"])
    service_wall = median(walls["service"])
    rows = [
        [
            f"{processes} processes x {runs} runs, service",
            f"{total / service_wall:.0f}",
            f"{service_wall * 1000 / total:.3f}",
            f"{service_wall / floor_wall:.2f}",
        ],
        [
            f"{processes} processes x {runs} runs, floor",
            f"{total / floor_wall:.0f}",
            f"{floor_wall * 1000 / total:.3f}",
            "1.00",
        ],
    ]
    headers = ["case", "runs/s (all processes)", "wall ms/run", "time ratio to floor"]
    return markdown_table(headers, rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables."""
    args = build_parser().parse_args(argv)
    if args.worker is not None:
        kind, root, runs = args.worker
        worker(kind, root, int(runs))
        return 0
    rounds = args.rounds or (3 if args.quick else 7)
    runs = args.runs or (40 if args.quick else 300)
    per_process = args.runs_per_process or (20 if args.quick else 150)
    # Child processes load the package from cached bytecode, as an installation would.
    warm_bytecode(["monocycle_nash.runmeta.service", "monocycle_nash.runmeta.clock"])
    for line in machine_lines():
        print(line)
    print(f"rounds {rounds}, runs per round {runs}; {args.processes} processes x {per_process}")
    with tempfile.TemporaryDirectory(prefix="runmeta-bench-") as temp:
        base = Path(temp)
        postgres = None if args.no_postgres else start_postgres(base / "postgres")
        print()
        try:
            for line in single_process(base / "single", rounds, runs, postgres):
                print(line)
        finally:
            if postgres is not None:
                postgres.stop()
        print()
        concurrent_base = base / "concurrent"
        concurrent_base.mkdir()
        concurrent_rounds = max(1, rounds // 2)
        for line in concurrency(concurrent_base, args.processes, per_process, concurrent_rounds):
            print(line)
    print(f"\nload average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
