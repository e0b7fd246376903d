"""Many processes recording runs at once on a missing database, with readers listing.

On both backends: a missing SQLite file, or an empty PostgreSQL database (no tables yet),
so that the writers race to create the schema as well as to record their runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from monocycle_nash.runmeta import RunArtifactStore
from monocycle_nash.runmeta.artifact_store import meta_mismatches
from monocycle_nash.runmeta.repositories import RunsRepository
from tests.runmeta.backend_support import Backend

_WORKER = Path(__file__).with_name("worker_runs.py")
_WRITERS = 8
_RUNS_EACH = 25
_READERS = 3
_NOTHING_YET = re.compile(r"runmeta: no run database at \S+ \(nothing recorded yet\)\n")


def _wait_for(paths: list[Path], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in paths):
        assert all(p.poll() is None for p in processes), "a worker ended before the start"
        assert time.monotonic() < deadline, "workers did not get ready"
        time.sleep(0.005)


def _list_runs(backend: Backend) -> subprocess.Popen[bytes]:
    # The writers find the database through the environment, the readers by option only.
    runmeta = [sys.executable, "-m", "monocycle_nash.runmeta", *backend.cli_options()]
    return subprocess.Popen(
        [*runmeta, "list-runs", "--json"],
        cwd=backend.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_eight_writers_and_readers_on_a_missing_database(backend: Backend) -> None:
    """8 processes x 25 runs started together: ids 1..200, 200 folders, all agree, no lock."""
    root = backend.root
    flags = root / "flags"
    flags.mkdir()
    start = flags / "start"
    ready = [flags / f"ready-{index}" for index in range(_WRITERS)]
    writers = [
        subprocess.Popen(
            [sys.executable, str(_WORKER), str(root), str(flag), str(start), str(_RUNS_EACH)],
            env=backend.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for flag in ready
    ]
    readers: list[subprocess.Popen[bytes]] = []
    try:
        _wait_for(ready, writers)
        assert not (root / ".runmeta").exists()
        start.touch()
        # Readers keep listing (the first ones may find no database yet) while writers run.
        while any(writer.poll() is None for writer in writers):
            running = sum(reader.poll() is None for reader in readers)
            readers.extend(_list_runs(backend) for _ in range(_READERS - running))
            time.sleep(0.01)
    finally:
        outputs = [(w, w.communicate(timeout=120)[1].decode()) for w in writers]
        reader_outputs = [(r, r.communicate(timeout=60)[1].decode()) for r in readers]
    for writer, stderr in outputs:
        assert writer.returncode == 0, stderr
        assert "locked" not in stderr
    assert readers
    for reader, stderr in reader_outputs:
        assert reader.returncode == 0, stderr
        # A reader may start before the first writer made the database (the file; on
        # PostgreSQL, its tables): it says so in one line; anything else is an error.
        assert stderr == "" or _NOTHING_YET.fullmatch(stderr), stderr

    total = _WRITERS * _RUNS_EACH
    with backend.connect() as conn:
        runs = RunsRepository(conn).list_runs()
    assert sorted(run.run_id for run in runs) == list(range(1, total + 1))
    assert {run.status for run in runs} == {"success"}
    store = RunArtifactStore(root / "result")
    assert store.run_ids_on_disk() == list(range(1, total + 1))
    for run in runs:
        assert meta_mismatches(store.read_meta(run.run_id), run) == [], run.run_id
        answer = store.run_dir(run.run_id) / "output" / "answer.txt"
        assert answer.read_text(encoding="utf-8") == f"{run.command.rsplit(' ', 1)[1]}\n"
    assert len({run.command for run in runs}) == total
