"""Many processes recording runs at once on a missing database, with readers listing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from monocycle_nash.runmeta import RunArtifactStore, SQLiteConnectionFactory
from monocycle_nash.runmeta.artifact_store import meta_mismatches
from monocycle_nash.runmeta.repositories import RunsRepository

_WORKER = Path(__file__).with_name("worker_runs.py")
_WRITERS = 8
_RUNS_EACH = 25
_READERS = 3


def _wait_for(paths: list[Path], processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in paths):
        assert all(p.poll() is None for p in processes), "a worker ended before the start"
        assert time.monotonic() < deadline, "workers did not get ready"
        time.sleep(0.005)


def _list_runs(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "monocycle_nash.runmeta", "list-runs", "--json"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_eight_writers_and_readers_on_a_missing_database(tmp_path: Path) -> None:
    """8 processes x 25 runs started together: ids 1..200, 200 folders, all agree, no lock."""
    root = tmp_path / "project"
    root.mkdir()
    start = tmp_path / "start"
    ready = [tmp_path / f"ready-{index}" for index in range(_WRITERS)]
    writers = [
        subprocess.Popen(
            [sys.executable, str(_WORKER), str(root), str(flag), str(start), str(_RUNS_EACH)],
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
            readers.extend(_list_runs(root) for _ in range(_READERS - running))
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
        assert stderr == ""

    total = _WRITERS * _RUNS_EACH
    conn = SQLiteConnectionFactory(root / ".runmeta" / "run_history.db").connect()
    try:
        runs = RunsRepository(conn).list_runs()
    finally:
        conn.close()
    assert sorted(run.run_id for run in runs) == list(range(1, total + 1))
    assert {run.status for run in runs} == {"success"}
    store = RunArtifactStore(root / "result")
    assert store.run_ids_on_disk() == list(range(1, total + 1))
    for run in runs:
        assert meta_mismatches(store.read_meta(run.run_id), run) == [], run.run_id
        answer = store.run_dir(run.run_id) / "output" / "answer.txt"
        assert answer.read_text(encoding="utf-8") == f"{run.command.rsplit(' ', 1)[1]}\n"
    assert len({run.command for run in runs}) == total
