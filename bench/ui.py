"""Benchmark of ``runmeta ui``'s pages on a large history (a plain script).

Builds a history of 10^5 runs (``listing.build_database``: the same data as
``bench/listing.py``), serves it with the run browser on a free port of 127.0.0.1, and
asks each page ``--repeat`` times over HTTP. Prints, per page, the median server time
(the ``Server-Timing`` header: from the request's arrival to its headers, connection
opening and HTML included) and the median round trip seen by ``http.client``, against
the bare listing query measured in the same run: ``RunsRepository.list_runs(limit=50)``
on an open connection, and the same with the read-only connection opened and closed
around it as each request does.

    uv run python bench/ui.py                 # 10^5 runs
    uv run python bench/ui.py --runs 10000    # quicker
"""

from __future__ import annotations

import argparse
import http.client
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _harness import machine_lines, markdown_table, median
from listing import build_database
from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.runmeta.ui.server import running


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the history")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the random data")
    return parser


def _timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``action`` in milliseconds (after one warm-up call)."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return median(times)


def _page_times(port: int, path: str, repeat: int) -> tuple[float, float, int]:
    """Median server time and round trip (ms) of ``GET path``, and its size in bytes."""
    server: list[float] = []
    round_trip: list[float] = []
    size = 0
    for attempt in range(repeat + 1):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        connection.close()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}")
        if attempt:  # the first one warms caches
            timing = response.getheader("Server-Timing", "app;dur=nan")
            server.append(float(timing.split("dur=")[1]))
            round_trip.append(elapsed)
        size = len(body)
    return median(server), median(round_trip), size


def main(argv: list[str] | None = None) -> int:
    """Build the history, time the pages, print the table."""
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="runmeta-ui-bench-") as folder:
        db_path = Path(folder) / "run_history.db"
        result_root = Path(folder) / "result"
        result_root.mkdir()
        started = time.perf_counter()
        build_database(db_path, args.runs, args.seed)
        print(f"built {args.runs:,} runs in {time.perf_counter() - started:.1f} s")
        factory = SQLiteConnectionFactory(db_path)
        conn = factory.connect(read_only=True)
        try:
            repository = RunsRepository(conn)
            bare = _timed(lambda: repository.list_runs(limit=50), args.repeat)
            middle = repository.list_runs(limit=args.runs // 2)[-1].run_id
            newest = repository.list_runs(limit=1)[0].run_id
        finally:
            conn.close()

        def open_list_close() -> None:
            connection = factory.connect(read_only=True)
            try:
                RunsRepository(connection).list_runs(limit=50)
            finally:
                connection.close()

        bare_opened = _timed(open_list_close, args.repeat)
        pages = [
            ("runs, first page", "/"),
            ("runs, status=fail", "/?status=fail"),
            ("runs, project", "/?project=proj-07"),
            ("runs, one month", "/?from=2026-03-01&to=2026-03-31"),
            ("runs, search 'try 12'", "/?q=try+12"),
            ("runs, a page in the middle", f"/?after={middle}"),
            ("runs, newer than the middle", f"/?before={middle}"),
            ("projects (50)", "/projects"),
            ("one run", f"/runs/{newest}"),
            ("compare two runs", f"/compare?run={middle}&run={newest}"),
        ]
        rows = [
            ["bare list_runs(limit=50)", f"{bare:.2f}", "", "", "1.0"],
            [
                "bare, connection opened and closed",
                f"{bare_opened:.2f}",
                "",
                "",
                f"{bare_opened / bare:.1f}",
            ],
        ]
        with running(db_path, result_root) as server:
            port = server.server_address[1]
            for label, path in pages:
                server_ms, trip_ms, size = _page_times(port, path, args.repeat)
                rows.append(
                    [
                        label,
                        f"{server_ms:.2f}",
                        f"{trip_ms:.2f}",
                        f"{size:,}",
                        f"{server_ms / bare:.1f}",
                    ]
                )
    print()
    headers = ["page", "server ms (median)", "round trip ms", "bytes", "x bare"]
    for line in markdown_table(headers, rows):
        print(line)
    print()
    for line in machine_lines():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
