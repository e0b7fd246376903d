"""``runmeta check [--repair]``: every kind of finding, every repair, on real files.

On both backends: the project's SQLite file, or a PostgreSQL database that every
process of the test finds through ``RUNMETA_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monocycle_nash.runmeta import RunSessionService
from monocycle_nash.runmeta.artifact_store import meta_mismatches
from tests.reliability.helpers import connection, read_meta, row, runmeta, runmeta_json
from tests.runmeta.backend_support import Backend


@pytest.fixture
def root(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with two finished runs (run 2 with an input file) in the backend's database."""
    folder = tmp_path / "project"
    folder.mkdir()
    backend.export(monkeypatch)
    game = tmp_path / "game.toml"
    game.write_text("matrix = [[0.0]]\n", encoding="utf-8")
    with RunSessionService.open(folder) as service:
        service.finish_success(service.start("first"))
        ctx = service.start("second", input_path=game)
        ctx.extra["solver"] = "lp"
        service.finish_fail(ctx, "boom")
    return folder


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def _meta_path(root: Path, run_id: int) -> Path:
    return root / "result" / str(run_id) / "meta.json"


def _hand_edit_note(root: Path) -> None:
    with connection(root) as conn:
        conn.execute("UPDATE runs SET note = 'edited by hand' WHERE run_id = 2")


def test_consistent_project(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two healthy runs: exit 0, no finding, one summary line."""
    assert runmeta(capsys, root, "check") == (
        0,
        "checked 2 runs and 2 folders: consistent\n",
        "",
    )
    report = runmeta_json(capsys, root, "check")
    assert report == {"consistent": True, "runs_checked": 2, "folders_checked": 2, "findings": []}


def _remove_folder(root: Path) -> None:
    import shutil  # noqa: PLC0415

    shutil.rmtree(root / "result" / "2")


def _orphan_folder(root: Path) -> None:
    (root / "result" / "9" / "output").mkdir(parents=True)
    (root / "result" / "9" / "output" / "keep.txt").write_text("precious", encoding="utf-8")


def _foreign_meta(root: Path) -> None:
    path = _meta_path(root, 2)
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(created_at="2020-01-01T00:00:00+09:00", command="an older run 2")
    path.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "kind"),
    [
        pytest.param(_remove_folder, "missing-folder", id="row-without-folder"),
        pytest.param(_orphan_folder, "orphan-folder", id="folder-without-row"),
        pytest.param(_foreign_meta, "foreign-meta", id="meta-of-another-run"),
    ],
)
def test_findings_that_repair_leaves_alone(
    root: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[Path], None], kind: str
) -> None:
    """Rows without folders, folders without rows, foreign meta.json: reported, never deleted."""
    damage(root)
    files_before = sorted(p.relative_to(root) for p in root.rglob("*") if ".runmeta" not in p.parts)
    bytes_before = {p: (root / p).read_bytes() for p in files_before if (root / p).is_file()}
    for extra in ([], ["--repair"]):
        report = runmeta_json(capsys, root, "check", *extra, code=1)
        assert report["consistent"] is False
        (finding,) = report["findings"]
        assert (finding["kind"], finding["repairable"], finding["repaired"]) == (kind, False, False)
        code, out, err = runmeta(capsys, root, "check", *extra)
        assert (code, err) == (1, "")
        assert out.splitlines()[1].split()[1:3] == [kind, "left"]
        assert out.endswith("1 problem left\n")
    files_after = sorted(p.relative_to(root) for p in root.rglob("*") if ".runmeta" not in p.parts)
    assert files_after == files_before
    assert {p: (root / p).read_bytes() for p in bytes_before} == bytes_before
    assert row(root, 1).status == "success"
    assert row(root, 2).status == "fail"


def _delete_meta(root: Path) -> None:
    _meta_path(root, 2).unlink()


def _corrupt_meta(root: Path) -> None:
    _meta_path(root, 2).write_bytes(b'{"run_id": 2, "stat')


def _stale_meta(root: Path) -> None:
    _hand_edit_note(root)


def _truncated_meta(root: Path) -> None:
    # Valid JSON that lost most fields (created_at among them): damage, not another run.
    _meta_path(root, 2).write_text('{"run_id": 2, "status": "fail"}', encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "kind"),
    [
        pytest.param(_delete_meta, "missing-meta", id="missing-meta"),
        pytest.param(_corrupt_meta, "unreadable-meta", id="unreadable-meta"),
        pytest.param(_stale_meta, "stale-meta", id="disagreeing-meta"),
        pytest.param(_truncated_meta, "stale-meta", id="meta-missing-fields"),
    ],
)
def test_meta_findings_are_repaired_from_the_database(
    root: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[Path], None], kind: str
) -> None:
    """Missing, unreadable or disagreeing meta.json: exit 1, then --repair makes it agree."""
    damage(root)
    code, out, err = runmeta(capsys, root, "check")
    assert (code, err) == (1, "")
    assert out.splitlines()[1].split()[:3] == ["2", kind, "repairable"]
    assert out.endswith("1 problem left, 1 repairable with --repair\n")

    code, out, err = runmeta(capsys, root, "check", "--repair")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split()[:3] == ["2", kind, "repaired"]
    assert out.endswith("checked 2 runs and 2 folders: 1 repaired, now consistent\n")
    meta = read_meta(root, 2)
    assert meta_mismatches(meta, row(root, 2)) == []
    if damage is _truncated_meta:
        assert meta["status"] == "fail" and meta["created_at"] == row(root, 2).created_at
    elif kind == "stale-meta":
        # What only meta.json knew is kept.
        assert meta["note"] == "edited by hand"
        assert (meta["solver"], meta["reason"]) == ("lp", "boom")
        assert meta["input"]["stored_file"] == "input/game.toml"
    else:
        assert meta["warnings"][-1].startswith("meta.json rebuilt from the database by runmeta")
    if kind == "unreadable-meta":
        kept = root / "result" / "2" / "meta.json.unreadable"
        assert kept.read_bytes() == b'{"run_id": 2, "stat'
    assert runmeta(capsys, root, "check")[0] == 0


def test_leftover_temp_file_is_removed_but_a_live_write_is_not(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A temp file of a dead writer is a finding removed by --repair; a live writer's is not."""
    leftover = root / "result" / "1" / f".meta.json.{_dead_pid()}.0.tmp"
    leftover.write_text("{", encoding="utf-8")
    live = root / "result" / "2" / f".meta.json.{os.getpid()}.7.tmp"
    live.write_text("{", encoding="utf-8")
    (finding,) = runmeta_json(capsys, root, "check", code=1)["findings"]
    assert (finding["run_id"], finding["kind"]) == (1, "temp-file")
    assert leftover.exists()
    code, _, err = runmeta(capsys, root, "check", "--repair")
    assert (code, err) == (0, "")
    assert not leftover.exists()
    assert live.exists()


def test_leftover_temp_file_of_an_output_is_found_and_removed(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An interrupted output write's temp file (below output/) is found; --repair removes it."""
    output = root / "result" / "2" / "output"
    leftover = output / f".equilibrium.json.{_dead_pid()}.0.tmp"
    leftover.write_text('{"value": 0.', encoding="utf-8")
    kept = output / "equilibrium.json"
    kept.write_text('{"value": 0.5}', encoding="utf-8")
    (finding,) = runmeta_json(capsys, root, "check", code=1)["findings"]
    assert (finding["run_id"], finding["kind"], finding["repairable"]) == (2, "temp-file", True)
    assert finding["detail"].startswith(f"{leftover} was left by an interrupted write")
    code, out, err = runmeta(capsys, root, "check", "--repair")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split()[:3] == ["2", "temp-file", "repaired"]
    assert not leftover.exists()
    assert kept.read_text(encoding="utf-8") == '{"value": 0.5}'
    assert runmeta(capsys, root, "check")[0] == 0


_CRASH_AT_FINAL_META = """
import os, sys
from monocycle_nash.runmeta import RunSessionService
with RunSessionService.open(sys.argv[1]) as service:
    ctx = service.start("dies while writing its final meta.json")
    # The temp file gets written; the process dies before renaming it over meta.json.
    os.replace = lambda source, target: os._exit(9)
    service.finish_success(ctx)
"""


def test_a_real_crash_between_row_and_meta_is_found_and_repaired(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A process dying mid meta.json write leaves a temp file and an old meta.json; repaired."""
    crash = subprocess.run(
        [sys.executable, "-c", _CRASH_AT_FINAL_META, str(root)],
        capture_output=True,
        check=False,
    )
    assert crash.returncode == 9, crash.stderr
    assert row(root, 3).status == "success"
    assert read_meta(root, 3)["status"] == "running"
    report = runmeta_json(capsys, root, "check", code=1)
    kinds = [(f["run_id"], f["kind"]) for f in report["findings"]]
    assert kinds == [(3, "stale-meta"), (3, "temp-file")]
    assert "status" in report["findings"][0]["detail"]
    repaired = runmeta_json(capsys, root, "check", "--repair")
    assert repaired["consistent"] is True
    assert all(f["repaired"] for f in repaired["findings"])
    assert meta_mismatches(read_meta(root, 3), row(root, 3)) == []
    assert not list((root / "result" / "3").glob(".meta.json.*"))


def test_summary_counts_one_run_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One run and one folder read 'checked 1 run and 1 folder', not '1 runs'."""
    with RunSessionService.open(tmp_path) as service:
        service.finish_success(service.start("only"))
    assert runmeta(capsys, tmp_path, "check") == (
        0,
        "checked 1 run and 1 folder: consistent\n",
        "",
    )


@pytest.mark.parametrize(
    ("owner", "kinds"),
    [
        pytest.param("alive", [], id="finishing-now-is-skipped"),
        pytest.param("dead", [(3, "stale-meta")], id="dead-owner-is-stale"),
    ],
)
def test_disagreement_on_a_running_run_is_skipped_while_its_process_lives(
    root: Path, capsys: pytest.CaptureFixture[str], owner: str, kinds: list[tuple[int, str]]
) -> None:
    """A running run whose recording process lives may be mid-write: no finding; dead: stale."""
    with RunSessionService.open(root) as service:
        ctx = service.start("still running")
        meta = read_meta(root, ctx.run_id)
        if owner == "dead":  # recorded by a process that is gone, in the row and meta.json
            meta["process"]["pid"] = _dead_pid()
            with connection(root) as conn:
                conn.execute(
                    "UPDATE runs SET pid = ? WHERE run_id = ?",
                    (meta["process"]["pid"], ctx.run_id),
                )
        meta["note"] = "written before the row changed"
        _meta_path(root, ctx.run_id).write_text(json.dumps(meta), encoding="utf-8")
        report = runmeta_json(capsys, root, "check", code=1 if kinds else 0)
    assert [(f["run_id"], f["kind"]) for f in report["findings"]] == kinds
