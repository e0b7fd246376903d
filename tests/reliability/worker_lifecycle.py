"""Real processes for the integrity tests: runs that loop, wait, die or edit on cue.

``python worker_lifecycle.py MODE ROOT ARG...``, through the public library only (the
``edit`` mode calls the ``runmeta`` command in-process):

- ``zygote ROOT COUNT``: import everything, print ``zygote ready``, then read commands
  on stdin: ``fork`` starts a child process (``os.fork``: no second interpreter start)
  that opens the service, prints ``ready PID`` and records COUNT short runs (every
  third one fails), each writing an output and extra meta.json fields, then exits; a
  test kills it at a random moment of this loop. ``wait PID`` collects a child and
  prints ``exited PID STATUS``.
- ``many ROOT COUNT``: record COUNT runs as a ``zygote`` child does.
- ``finish-on ROOT FLAG GO BUSY``: start a run, write its id to FLAG, wait until the
  file GO exists, then finish it ``success`` with a busy timeout of BUSY seconds;
  exit 3 (and the error on stderr) when the database could not record the end.
- ``die ROOT WHERE``: start a run and SIGKILL itself at WHERE: ``after-insert`` (no
  folder yet) or ``after-mkdir`` (a folder, no meta.json yet).
- ``edit ROOT STOP SEED``: until the file STOP exists, run ``runmeta update-run
  --run-id N --note ...`` on random existing runs.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import sys
import time
from pathlib import Path

from monocycle_nash.runmeta import DatabaseWriteError, RunArtifactStore, RunSessionService

_GIVE_UP = 60.0  # seconds: a worker nobody stops ends by itself


class _Planned(Exception):
    """The failure a ``loop`` run ends with on purpose."""


def _record_runs(service: RunSessionService, count: int, tag: str) -> None:
    for index in range(count):
        try:
            with service.record(f"{tag} run {index}") as run:
                (run.output_dir / "answer.txt").write_text(f"{index}\n", encoding="utf-8")
                print(f"run {index}")
                run.extra["result"] = {"index": index}
                run.extra["outputs"] = ["output/answer.txt"]
                time.sleep(0.002)
                if index % 3 == 2:
                    raise _Planned(f"planned failure {index}")
        except _Planned:
            pass


def _zygote(root: Path, count: int) -> int:
    sys.stdout.write("zygote ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        command, *args = line.split()
        if command == "fork":
            if os.fork() == 0:
                _child(root, count)  # never returns
        elif command == "wait":
            _, status = os.waitpid(int(args[0]), 0)
            sys.stdout.write(f"exited {args[0]} {status}\n")
            sys.stdout.flush()
    return 0


def _child(root: Path, count: int) -> None:
    """A forked child: record runs until done or killed; never returns to the zygote."""
    code = 0
    try:
        with RunSessionService.open(root) as service:
            sys.stdout.write(f"ready {os.getpid()}\n")
            sys.stdout.flush()
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115, PTH123
            _record_runs(service, count, f"child {os.getpid()}")
    except BaseException:  # RunTerminated ends the child: its run was recorded
        code = 1
    os._exit(code)


def _many(root: Path, count: int) -> int:
    with RunSessionService.open(root) as service:
        _record_runs(service, count, f"many {os.getpid()}")
    return 0


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + _GIVE_UP
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(4)
        time.sleep(0.005)


def _finish_on(root: Path, flag: Path, go: Path, busy: float) -> int:
    with RunSessionService.open(root, busy_timeout=busy) as service:
        ctx = service.start("finishes on cue")
        ctx.extra["result"] = {"value": 0.5}
        temp = flag.with_name(flag.name + ".tmp")
        temp.write_text(str(ctx.run_id), encoding="utf-8")
        temp.replace(flag)
        _wait_for(go)
        try:
            service.finish_success(ctx)
        except DatabaseWriteError as err:
            print(f"worker: {err}", file=sys.stderr)
            return 3
    return 0


def _die(root: Path, where: str) -> int:
    original = RunArtifactStore.create_run_dir

    def kill_around_mkdir(store: RunArtifactStore, run_id: int) -> Path:
        if where == "after-insert":
            os.kill(os.getpid(), signal.SIGKILL)
        run_dir = original(store, run_id)
        os.kill(os.getpid(), signal.SIGKILL)
        return run_dir  # pragma: no cover - never reached

    RunArtifactStore.create_run_dir = kill_around_mkdir  # type: ignore[method-assign]
    with RunSessionService.open(root) as service:
        service.start("dies while starting")
    return 5  # pragma: no cover - the process is dead by now


def _edit(root: Path, stop: Path, seed: int) -> int:
    from monocycle_nash.runmeta.cli import main  # noqa: PLC0415

    chooser = random.Random(seed)  # a test's choices, not secrets
    database = root / ".runmeta" / "run_history.db"
    deadline = time.monotonic() + _GIVE_UP
    edits = 0
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115, PTH123
    sys.stdout = sys.stderr = devnull
    while not stop.exists() and time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            try:
                newest = conn.execute("SELECT max(run_id) FROM runs").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:
            newest = None
        if not newest:
            time.sleep(0.01)
            continue
        # The newest runs are the ones finishing right now.
        run_id = chooser.randint(max(1, newest - 3), newest)
        main(
            [
                "--db-path",
                str(database),
                "--result-root",
                str(root / "result"),
                "update-run",
                "--run-id",
                str(run_id),
                "--note",
                f"edit {edits} by {os.getpid()}",
            ]
        )
        edits += 1
    return 0


def main() -> int:
    """Run the mode named by the first argument."""
    mode, root, *rest = sys.argv[1:]
    if mode == "zygote":
        return _zygote(Path(root), int(rest[0]))
    if mode == "many":
        return _many(Path(root), int(rest[0]))
    if mode == "finish-on":
        return _finish_on(Path(root), Path(rest[0]), Path(rest[1]), float(rest[2]))
    if mode == "die":
        return _die(Path(root), rest[0])
    if mode == "edit":
        return _edit(Path(root), Path(rest[0]), int(rest[1]))
    raise SystemExit(f"worker_lifecycle.py: unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main())
