"""Experiments as recorded runs: real main-job processes, trials.csv, summary.json, signals.

Every run here is the real main job (``python src/main.py``) in a temporary project, but
for the trials that fail on purpose: no trial function but ``run_trial`` is reachable
from the command line, so those run ``run_experiment`` in-process inside a real
``RunSessionService.record`` (with real worker processes).
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.app.errors import ExperimentFailure
from monocycle_nash.app.experiments import run_experiment
from monocycle_nash.app.trial_pool import TrialFailure, TrialFunction, run_trials
from monocycle_nash.experiments import (
    format_row,
    parse_experiment,
    parse_row,
    rerun_trial,
    run_trial,
    summarise,
    trial_columns,
    trial_seed,
)
from monocycle_nash.game import parse_game
from monocycle_nash.runmeta import RunSessionService
from monocycle_nash.toml_writer import dumps
from tests.app import db_rows
from tests.app.experiment_trials import (
    BAD_TRIAL,
    HANDSHAKE,
    Process,
    alive,
    descendants,
    exit_on_bad_trial,
    exit_on_go,
    finished_lines,
    raise_on_bad_trial,
    start_main_job,
    survivors,
    wait_for_lines,
)
from tests.app.main_process import run_main_job
from tests.app.test_main_job_e2e import assert_one_line_error
from tests.reliability.helpers import db_path, read_meta, row, runmeta

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals, /proc"),
]

TEAM = {"kind": "team_spectrum", "trials": 200, "seed": 7, "character_count": 6}
APPROXIMATION = {"kind": "approximation_quality", "trials": 200, "seed": 5, "size": 6}
SLOW_TRIALS = 16
# About 0.1 s a trial: a signal finds the run with trials both finished and to come.
SLOW = {
    "kind": "team_spectrum",
    "trials": SLOW_TRIALS,
    "seed": 3,
    "character_count": 16,
    "workers": 2,
}
FAILING = {"kind": "team_spectrum", "trials": 8, "seed": 11, "character_count": 6}
KILLED_LINE = {signal.SIGTERM: "terminated", signal.SIGINT: "interrupted"}

# RESEARCH.md section 1: the roster R, P, S, D; section 2: the levels of its team matrix.
RPSD_ROSTER = """\
characters = [
  { label = "R", p = 0.0, v = [1.0, 0.0] },
  { label = "P", p = 0.0, v = [-1.0, -1.0] },
  { label = "S", p = 0.0, v = [0.0, 1.0] },
  { label = "D", p = -0.5, v = [1.0, 1.0] },
]
"""
RPSD_LEVELS = (1.9809853516888472, 0.8208680909879961, 0.028826150025094897)


def write_config(folder: Path, experiment: Mapping[str, object], **top: object) -> Path:
    """A run config ``folder/exp.toml`` holding ``top`` and the ``[experiment]`` table."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.toml"
    path.write_text(dumps({**top, "experiment": dict(experiment)}), encoding="utf-8")
    return path


def output(root: Path, run_id: int, name: str) -> Path:
    """``result/<run_id>/output/<name>`` below ``root``."""
    return root / "result" / str(run_id) / "output" / name


def read_json(path: Path) -> Any:
    """The JSON document at ``path``."""
    return json.loads(path.read_text(encoding="utf-8"))


def trial_rows(path: Path, kind: str) -> list[dict[str, object]]:
    """The rows of a trials.csv, read back with ``parse_row`` (the header checked)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header, *lines = list(csv.reader(handle))
    assert tuple(header) == trial_columns(kind)
    return [parse_row(kind, fields) for fields in lines]


def recomputed(summary: Mapping[str, Any], rows: list[dict[str, object]]) -> dict[str, Any]:
    """``summarise`` of ``rows`` with the settings (and fixed game) summary.json names."""
    settings = parse_experiment(summary["settings"], "summary.json")
    fixed = summary.get("fixed_game")
    game = None if fixed is None else parse_game(fixed["game"], fixed["source"])
    return summarise(settings, rows, summary["failed"], fixed_game=game)


def without_schema(summary: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json without its ``schema_version`` (checked), as ``summarise`` gives it."""
    assert summary["schema_version"] == 1
    return {key: value for key, value in summary.items() if key != "schema_version"}


def csv_line(row: Mapping[str, object]) -> str:
    """``row`` as the line trials.csv holds."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(format_row(row))
    return buffer.getvalue()


# --- the same trials whatever the workers -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Runs:
    """One experiment run with several worker counts: (workers asked, run id) in ``root``."""

    root: Path
    kind: str
    runs: tuple[tuple[int | None, int], ...]


@pytest.fixture(scope="module", params=[TEAM, APPROXIMATION], ids=lambda table: table["kind"])
def runs_by_workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Runs:
    """The experiment run with 1, 2 and 3 workers (team spectrum) or 1, 3 and the default
    (approximation quality), each a real main job in one project."""
    table: dict[str, object] = request.param
    counts: tuple[int | None, ...] = (1, 2, 3) if table is TEAM else (1, 3, None)
    root = tmp_path_factory.mktemp(str(table["kind"]))
    runs = []
    for run_id, workers in enumerate(counts, start=1):
        extra = {} if workers is None else {"workers": workers}
        config = write_config(root / f"w{workers}", {**table, **extra})
        result = run_main_job(root, str(config))
        assert result.returncode == 0, result.stderr
        runs.append((workers, run_id))
    return Runs(root, str(table["kind"]), tuple(runs))


def test_trials_csv_is_byte_identical_whatever_the_workers(runs_by_workers: Runs) -> None:
    """1, 2, 3 or the default workers: the same trials.csv bytes, sorted by trial; the
    summaries differ only in ``settings.workers`` (absent when not given)."""
    root, runs = runs_by_workers.root, runs_by_workers.runs
    first = output(root, 1, "trials.csv").read_bytes()
    rows = trial_rows(output(root, 1, "trials.csv"), runs_by_workers.kind)
    assert [entry["trial"] for entry in rows] == list(range(200))
    summaries = []
    for workers, run_id in runs:
        assert output(root, run_id, "trials.csv").read_bytes() == first, workers
        summary = read_json(output(root, run_id, "summary.json"))
        settings = summary["settings"]
        assert settings.pop("workers", None) == workers
        summaries.append(summary)
        experiment = read_meta(root, run_id)["experiment"]
        assert experiment["workers"] == (workers or len(os.sched_getaffinity(0)))
        assert (experiment["completed"], experiment["failed"]) == (200, 0)
    assert all(summary == summaries[0] for summary in summaries)


def test_summary_json_is_the_summary_of_trials_csv(runs_by_workers: Runs) -> None:
    """``parse_row`` of every trials.csv line, then ``summarise``: exactly summary.json,
    and meta.json's ``result`` repeats its headline figures."""
    root, kind = runs_by_workers.root, runs_by_workers.kind
    for _, run_id in runs_by_workers.runs:
        summary = read_json(output(root, run_id, "summary.json"))
        rows = trial_rows(output(root, run_id, "trials.csv"), kind)
        assert recomputed(summary, rows) == without_schema(summary)
        result = read_meta(root, run_id)["result"]
        assert result["completed"] == summary["completed"] == 200
        if kind == "team_spectrum":
            assert result["support_3_rate"] == summary["support_rates"]["equal_3"]
            assert result["gap_support_pearson"] == summary["gap_support_correlation"]["pearson"]
        else:
            assert result["distance_mean"] == summary["distance"]["mean"]


# --- interrupted, then resumed --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finished:
    """What an uninterrupted run of ``SLOW`` wrote."""

    trials_csv: bytes
    summary: dict[str, Any]

    def lines(self) -> list[str]:
        """trials.csv's lines, each with its newline."""
        return self.trials_csv.decode("utf-8").splitlines(keepends=True)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """``SLOW`` run from start to end, once for every test that compares with it."""
    root = tmp_path_factory.mktemp("uninterrupted")
    result = run_main_job(root, str(write_config(root, SLOW)))
    assert result.returncode == 0, result.stderr
    return Finished(
        output(root, 1, "trials.csv").read_bytes(), read_json(output(root, 1, "summary.json"))
    )


def interrupt(process: subprocess.Popen[str], signum: signal.Signals) -> tuple[str, str]:
    """SIGTERM to the main job, or Ctrl-C (SIGINT to its whole process group, as a
    terminal sends it); return its output once it ended."""
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    return process.communicate(timeout=60)


def workers_of(tree: list[Process]) -> list[Process]:
    """The pool's worker processes among ``tree`` (not the resource tracker)."""
    return [process for process in tree if "multiprocessing.spawn" in process.command]


def assert_gone(tree: list[Process]) -> None:
    """No process of ``tree`` runs on: the pool's workers were waited for before the main
    job ended; the resource tracker gets a moment to see its pipe close."""
    assert not [process for process in workers_of(tree) if alive(process)]
    assert survivors(tree, within=30) == []


def assert_partial_outputs(root: Path, run_id: int, finished: Finished) -> int:
    """A killed run's trials.csv: lines of the uninterrupted run, sorted; its
    summary.json summarises exactly them. Return how many trials finished."""
    trials_csv = output(root, run_id, "trials.csv")
    lines = trials_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = trial_rows(trials_csv, "team_spectrum")
    indices = [int(str(entry["trial"])) for entry in rows]
    assert indices == sorted(indices)
    assert 2 <= len(rows) < SLOW_TRIALS
    reference = finished.lines()
    assert lines[0] == reference[0]
    assert [reference[1 + index] for index in indices] == lines[1:]
    summary = read_json(output(root, run_id, "summary.json"))
    assert summary["completed"] == len(rows)
    assert recomputed(summary, rows) == without_schema(summary)
    experiment = read_meta(root, run_id)["experiment"]
    assert (experiment["completed"], experiment["failed"]) == (len(rows), 0)
    return len(rows)


def assert_resumed(root: Path, run_id: int, earlier: int, reused: int, finished: Finished) -> None:
    """Run ``run_id`` resumed ``earlier`` and equals the uninterrupted run."""
    assert row(root, run_id).status == "success"
    experiment = read_meta(root, run_id)["experiment"]
    assert experiment["resumed_from"] == earlier
    assert experiment["reused_trials"] == reused
    assert (experiment["completed"], experiment["failed"]) == (SLOW_TRIALS, 0)
    assert output(root, run_id, "trials.csv").read_bytes() == finished.trials_csv
    assert read_json(output(root, run_id, "summary.json")) == finished.summary


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [
        pytest.param(signal.SIGTERM, 143, id="sigterm-to-the-main-job"),
        pytest.param(signal.SIGINT, 130, id="ctrl-c-to-the-process-group"),
    ],
)
def test_signal_mid_experiment_keeps_the_finished_trials_and_resume_completes_it(
    tmp_path: Path, uninterrupted: Finished, signum: signal.Signals, exit_code: int
) -> None:
    """SIGTERM or Ctrl-C mid-experiment: run 1 killed with 143 / 130, its finished trials
    sorted in trials.csv and summarised, no worker left; ``--resume 1`` completes it as
    run 2, equal to an uninterrupted run."""
    process = start_main_job(tmp_path, str(write_config(tmp_path, SLOW)))
    try:
        wait_for_lines(process, output(tmp_path, 1, "trials.csv"), 3)
        tree = descendants(process.pid)
        assert len(workers_of(tree)) == SLOW["workers"]
        _, stderr = interrupt(process, signum)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == exit_code, stderr
    assert stderr == f"monocycle-nash: {KILLED_LINE[signum]}; run 1 recorded as killed\n"
    assert row(tmp_path, 1).status == "killed"
    assert read_meta(tmp_path, 1)["status"] == "killed"
    assert_gone(tree)
    finished = assert_partial_outputs(tmp_path, 1, uninterrupted)

    resumed = run_main_job(tmp_path, "--resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert "Run 2: experiment merged_input.toml" in resumed.stdout
    assert_resumed(tmp_path, 2, 1, finished, uninterrupted)


@dataclass(frozen=True, slots=True)
class Killed:
    """A main job killed with SIGKILL mid-experiment: its project and its process tree."""

    root: Path
    tree: list[Process]
    trials_csv: list[str]


@pytest.fixture(scope="module")
def sigkilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Killed]:
    """``SLOW`` killed with SIGKILL (the out-of-memory killer, say) after two trials;
    whatever it leaves running is killed at the end of the module."""
    root = tmp_path_factory.mktemp("sigkilled")
    process = start_main_job(root, str(write_config(root, SLOW)))
    tree: list[Process] = []
    try:
        wait_for_lines(process, output(root, 1, "trials.csv"), 3)
        tree = descendants(process.pid)
        process.kill()
        # Not communicate(): the workers left behind hold its output pipes open.
        process.wait(timeout=60)
        yield Killed(root, tree, finished_lines(output(root, 1, "trials.csv")))
    finally:
        process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        for orphan in tree:
            if alive(orphan):
                os.kill(orphan.pid, signal.SIGKILL)


def test_no_worker_outlives_a_main_job_killed_with_sigkill(sigkilled: Killed) -> None:
    """SIGKILL of the main job: its worker processes end too (they have no one to work for)."""
    assert len(workers_of(sigkilled.tree)) == SLOW["workers"]
    assert survivors(sigkilled.tree, within=2) == []


def test_sigkilled_run_is_resumed_after_reap(
    sigkilled: Killed, uninterrupted: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run killed with SIGKILL stays running: --resume refuses it until runmeta reap
    marks it killed; then its unsorted trials.csv is reused and the result is exact."""
    root = sigkilled.root
    assert row(root, 1).status == "running"
    lines = sigkilled.trials_csv
    assert lines[0] == uninterrupted.lines()[0]
    assert set(lines[1:]) <= set(uninterrupted.lines()[1:])

    refused = run_main_job(root, "--resume", "1")
    assert_one_line_error(refused)
    assert "run 1 is still running" in refused.stderr
    assert "runmeta reap" in refused.stderr

    code, _, err = runmeta(capsys, root, "reap")
    assert (code, err) == (0, "")
    assert row(root, 1).status == "killed"
    resumed = run_main_job(root, "--resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert_resumed(root, 2, 1, len(lines) - 1, uninterrupted)


# --- a trial that fails -------------------------------------------------------------------


def run_in_process(root: Path, table: Mapping[str, object], trial_function: TrialFunction) -> None:
    """``run_experiment`` inside a real recorded run (run 1 of ``root``)."""
    settings = parse_experiment(table, "test")
    with RunSessionService.open(root) as service, service.record("pytest: experiment") as ctx:
        run_experiment(ctx, settings, trial_function=trial_function)


def expected_lines(table: Mapping[str, object], indices: list[int]) -> list[str]:
    """The trials.csv lines ``run_trial`` gives for ``indices`` (header first)."""
    settings = parse_experiment(table, "test")
    header = ",".join(trial_columns(settings.kind)) + "\n"
    return [header, *(csv_line(run_trial(settings, index)) for index in indices)]


BAD_SEED = trial_seed(int(str(FAILING["seed"])), BAD_TRIAL)
RAISED = "ValueError: trial three is broken"
DIED = "its worker process died (a crash or a kill)"


@pytest.mark.parametrize(
    ("trial_function", "workers", "error"),
    [
        pytest.param(raise_on_bad_trial, 1, RAISED, id="raises-in-process"),
        pytest.param(raise_on_bad_trial, 2, RAISED, id="raises-in-a-worker"),
        pytest.param(exit_on_bad_trial, 2, DIED, id="kills-its-worker"),
    ],
)
def test_failed_trial_fails_the_run_naming_trial_and_seed(
    tmp_path: Path, trial_function: TrialFunction, workers: int, error: str
) -> None:
    """A trial that raises or kills its worker: ExperimentFailure, one line naming the
    trial and its seed; run 1 fail; trials.csv holds the other trials that finished."""
    table = {**FAILING, "workers": workers}
    with pytest.raises(ExperimentFailure) as caught:
        run_in_process(tmp_path, table, trial_function)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"trial {BAD_TRIAL} (trial seed {BAD_SEED}) failed: {error};")
    assert "skip_failed_trials = true" in message
    assert row(tmp_path, 1).status == "fail"
    rows = trial_rows(output(tmp_path, 1, "trials.csv"), "team_spectrum")
    indices = [int(str(entry["trial"])) for entry in rows]
    assert BAD_TRIAL not in indices
    if workers == 1:
        assert indices == list(range(BAD_TRIAL))  # in order, up to the failed one
    lines = output(tmp_path, 1, "trials.csv").read_text(encoding="utf-8").splitlines(True)
    assert lines == expected_lines(table, indices)
    experiment = read_meta(tmp_path, 1)["experiment"]
    assert (experiment["completed"], experiment["failed"]) == (len(rows), 1)
    summary = read_json(output(tmp_path, 1, "summary.json"))
    assert summary["failed"] == [{"trial": BAD_TRIAL, "trial_seed": BAD_SEED, "error": error}]
    assert recomputed(summary, rows) == without_schema(summary)


@pytest.mark.parametrize(
    ("trial_function", "error"),
    [
        pytest.param(raise_on_bad_trial, RAISED, id="raises"),
        pytest.param(exit_on_bad_trial, DIED, id="kills-its-worker"),
    ],
)
def test_skipped_failed_trial_is_listed_and_the_others_finish(
    tmp_path: Path, trial_function: TrialFunction, error: str
) -> None:
    """skip_failed_trials = true: the run succeeds with every other trial, and
    summary.json lists the failed one with its seed and error."""
    table = {**FAILING, "workers": 2, "skip_failed_trials": True}
    run_in_process(tmp_path, table, trial_function)
    assert row(tmp_path, 1).status == "success"
    others = [index for index in range(8) if index != BAD_TRIAL]
    lines = output(tmp_path, 1, "trials.csv").read_text(encoding="utf-8").splitlines(True)
    assert lines == expected_lines(table, others)
    summary = read_json(output(tmp_path, 1, "summary.json"))
    assert summary["failed"] == [{"trial": BAD_TRIAL, "trial_seed": BAD_SEED, "error": error}]
    assert summary["completed"] == len(others)
    experiment = read_meta(tmp_path, 1)["experiment"]
    assert (experiment["completed"], experiment["failed"]) == (len(others), 1)


def test_worker_dying_while_a_finished_trial_is_reported_is_isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker dies while the main process reports another trial's row (so the pool is
    broken before the next chunk is submitted): the dead trial is still found and
    reported, and every other trial finishes."""
    monkeypatch.setenv(HANDSHAKE, str(tmp_path))
    settings = parse_experiment({**FAILING, "workers": 2, "skip_failed_trials": True}, "test")
    rows: list[dict[str, object]] = []
    failures: list[TrialFailure] = []

    def on_row(row: dict[str, object]) -> None:
        rows.append(row)
        go = tmp_path / "go"
        if not go.exists():
            workers = workers_of(descendants(os.getpid()))
            go.touch()
            # The pool marks itself broken before it terminates the surviving worker.
            assert survivors(workers, within=60) == []

    run_trials(
        settings,
        list(range(8)),
        workers=2,
        fixed_game=None,
        on_row=on_row,
        on_failure=failures.append,
        trial_function=exit_on_go,
    )
    assert sorted(int(str(row["trial"])) for row in rows) == [0, 1, 2, 4, 5, 6, 7]
    assert [(failure.trial, failure.error) for failure in failures] == [(BAD_TRIAL, DIED)]


# --- resume refused -------------------------------------------------------------------------


def test_resume_of_an_unknown_run_without_a_database_records_nothing(tmp_path: Path) -> None:
    """--resume in a project without a database: one line, exit 1, no database made."""
    result = run_main_job(tmp_path, "--resume", "4")
    assert_one_line_error(result)
    assert "there is no database" in result.stderr
    assert not db_path(tmp_path).exists()


def test_resume_of_an_unknown_run_records_nothing(tmp_path: Path) -> None:
    """--resume 9 when run 9 does not exist: one line, exit 1, no run recorded."""
    assert run_main_job(tmp_path).returncode == 0
    result = run_main_job(tmp_path, "--resume", "9")
    assert_one_line_error(result)
    assert "there is no run 9 in the database (nothing was recorded)" in result.stderr
    assert [entry["run_id"] for entry in db_rows.rows(db_path(tmp_path))] == [1]
    assert not (tmp_path / "result" / "2").exists()


def test_resume_of_a_run_that_was_no_experiment_fails(tmp_path: Path) -> None:
    """--resume of the built-in example's run: one line, exit 1, recorded as fail."""
    assert run_main_job(tmp_path).returncode == 0
    result = run_main_job(tmp_path, "--resume", "1")
    assert_one_line_error(result)
    assert "is not an experiment or a sweep" in result.stderr
    assert row(tmp_path, 2).status == "fail"


def test_resume_with_another_experiment_as_input_fails(tmp_path: Path) -> None:
    """--resume 1 with an INPUT whose seed differs: one line naming it, exit 1, fail;
    workers and skip_failed_trials may differ."""
    table = {**FAILING, "trials": 2, "workers": 1}
    assert run_main_job(tmp_path, str(write_config(tmp_path / "a", table))).returncode == 0
    other = write_config(tmp_path / "b", {**table, "seed": 12})
    result = run_main_job(tmp_path, str(other), "--resume", "1")
    assert_one_line_error(result)
    assert "run 1 is a different experiment (seed was 11, now 12)" in result.stderr
    assert row(tmp_path, 2).status == "fail"

    same = write_config(tmp_path / "c", {**table, "workers": 2, "skip_failed_trials": True})
    accepted = run_main_job(tmp_path, str(same), "--resume", "1")
    assert accepted.returncode == 0, accepted.stderr
    assert read_meta(tmp_path, 3)["experiment"]["reused_trials"] == 2


@pytest.mark.parametrize(
    "earlier_game",
    [
        pytest.param(None, id="random-games-then-a-fixed-roster"),
        pytest.param("other.toml", id="another-fixed-roster"),
    ],
)
def test_resume_with_another_fixed_game_is_refused_or_runs_afresh(
    tmp_path: Path, earlier_game: str | None
) -> None:
    """--resume 1 with an INPUT whose fixed game differs from run 1's: refused in one
    line, or the result is that of an uninterrupted run (nothing of run 1 reused)."""
    (tmp_path / "roster.toml").write_text(RPSD_ROSTER, encoding="utf-8")
    (tmp_path / "other.toml").write_text(RPSD_ROSTER.replace("p = -0.5", "p = 0.5"), "utf-8")
    table = {"kind": "team_spectrum", "trials": 2, "workers": 1, "character_count": 4}
    top = {} if earlier_game is None else {"game": f"../{earlier_game}"}
    assert run_main_job(tmp_path, str(write_config(tmp_path / "a", table, **top))).returncode == 0
    fixed = write_config(tmp_path / "b", table, game="../roster.toml")
    alone = tmp_path / "alone"
    assert run_main_job(alone, str(fixed)).returncode == 0

    result = run_main_job(tmp_path, str(fixed), "--resume", "1")
    if result.returncode == 0:
        assert output(tmp_path, 2, "trials.csv").read_bytes() == (
            output(alone, 1, "trials.csv").read_bytes()
        )
    else:
        assert_one_line_error(result)


@pytest.mark.parametrize(
    ("earlier", "now"),
    [
        pytest.param("sweep", "experiment", id="experiment-resuming-a-sweep"),
        pytest.param("experiment", "sweep", id="sweep-resuming-an-experiment"),
    ],
)
def test_resume_of_a_sweep_as_an_experiment_and_back_is_refused(
    tmp_path: Path, earlier: str, now: str
) -> None:
    """A sweep and a single experiment are not the same experiment, even with the same
    [experiment] table: --resume across them is one line, exit 1."""
    table = {"kind": "team_spectrum", "trials": 2, "workers": 1}
    sweep = {"sweep": {"seeds": [0], "conditions": [{"name": "base"}]}}
    configs = {
        "experiment": write_config(tmp_path / "experiment", table),
        "sweep": write_config(tmp_path / "sweep", table, **sweep),
    }
    assert run_main_job(tmp_path, str(configs[earlier])).returncode == 0
    result = run_main_job(tmp_path, str(configs[now]), "--resume", "1")
    assert_one_line_error(result)


# --- RESEARCH.md's worked example ---------------------------------------------------------


def test_research_example_as_a_one_trial_experiment_on_a_fixed_roster(tmp_path: Path) -> None:
    """The roster of RESEARCH.md section 1 as the fixed game of one trial: its team
    matrix's levels (section 2) within 1e-12, support 3 (RP, RS, PS), unique."""
    (tmp_path / "roster.toml").write_text(RPSD_ROSTER, encoding="utf-8")
    config = write_config(
        tmp_path, {"kind": "team_spectrum", "trials": 1, "workers": 1}, game="roster.toml"
    )
    result = run_main_job(tmp_path, str(config))
    assert result.returncode == 0, result.stderr
    assert "Every trial analyses the fixed game" in result.stdout
    [trial] = trial_rows(output(tmp_path, 1, "trials.csv"), "team_spectrum")
    assert (trial["character_count"], trial["team_count"]) == (4, 6)
    levels = (trial["sigma_1"], trial["sigma_2"], trial["sigma_3"])
    assert levels == pytest.approx(RPSD_LEVELS, rel=1e-12, abs=0)
    assert (trial["support_size"], trial["unique"]) == (3, True)
    assert trial["value"] == pytest.approx(0.0, abs=1e-12)
    summary = read_json(output(tmp_path, 1, "summary.json"))
    assert summary["fixed_game"]["source"].endswith("roster.toml")
    assert recomputed(summary, [trial]) == without_schema(summary)
    assert rerun_trial(summary, 0) == trial
