"""One history on a server, runs of several hosts: what ``check`` and ``reap`` do with them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from monocycle_nash.runmeta import RunSessionService
from monocycle_nash.runmeta.cli import main
from monocycle_nash.runmeta.process import ProcessIdentity

_OTHER = ProcessIdentity("another-machine", 4242, "boot:1", "2026-02-14T19:00:00+09:00")


def _other_host(root: Path, url: str) -> RunSessionService:
    """The service of a process on another machine, recording below ``root``."""
    return RunSessionService.open(root, database_url=url, process_identity=lambda: _OTHER)


def _runmeta(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_result_folders_kept_per_machine(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Other hosts' runs without a folder here are counted, not problems; reap leaves them."""
    here, there = tmp_path / "here", tmp_path / "there"
    with _other_host(there, postgres_url) as other:
        with other.record("done there"):
            pass
        other.start("still running there")  # its process lives on the other machine
    with RunSessionService.open(here, database_url=postgres_url) as service, service.record("x"):
        pass
    options = ["--db-url", postgres_url, "--result-root", str(here / "result")]
    code, out, err = _runmeta(capsys, *options, "check")
    assert (code, err) == (0, "")
    elsewhere = "2 of other hosts, with their folders elsewhere"
    assert out == f"checked 3 runs ({elsewhere}) and 1 folder: consistent\n"
    code, out, _ = _runmeta(capsys, *options, "check", "--json")
    assert (code, json.loads(out)["runs_elsewhere"]) == (0, 2)
    code, out, err = _runmeta(capsys, *options, "reap", "--json")
    assert (code, err) == (0, "")
    [finding] = json.loads(out)["runs"]
    assert (finding["run_id"], finding["outcome"], finding["host"]) == (
        2,
        "other-host",
        "another-machine",
    )


def test_a_shared_result_folder(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a folder every machine sees, another host's running run and fresh temp files are
    left to it; its old temp files are leftovers."""
    root = tmp_path / "shared"
    with _other_host(root, postgres_url) as other:
        ctx = other.start("running there")
    (ctx.run_dir / "meta.json").unlink()  # as if that machine were still starting it
    fresh = ctx.run_dir / f".meta.json.{_OTHER.pid}.0123456789ab.tmp"
    old = ctx.output_dir / f".table.csv.{_OTHER.pid}.ba9876543210.tmp"
    for path in (fresh, old):
        path.write_text("partial", encoding="utf-8")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    options = ["--db-url", postgres_url, "--result-root", str(root / "result")]
    code, out, err = _runmeta(capsys, *options, "check", "--repair", "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert [(f["kind"], f["repaired"]) for f in report["findings"]] == [("temp-file", True)]
    assert "older than 600 s" in report["findings"][0]["detail"]
    assert fresh.exists()
    assert not old.exists()
    assert not (ctx.run_dir / "meta.json").exists()  # never rebuilt behind a live run's back
