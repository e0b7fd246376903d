"""Run the main job again on a run's frozen input, then compare the two runs' outputs.

``runmeta rerun ID`` plans (:func:`plan_rerun`), runs (:func:`run_main_job`) and
judges (:func:`judge_rerun`):

1. The input is what run ID stored for a re-run (meta.json ``input.stored_file``): its
   ``merged_input.toml`` for a run config (a valid run config whose ``[runmeta]``
   names the database), else the stored copy of the game file, which must still have
   the digest meta.json recorded.
2. The new run must land in the database and result folder this command reads, or it
   could not be compared. A merged input names them itself: they must be these. A game
   file is recorded by the main job in ``ROOT/.runmeta/run_history.db`` and
   ``ROOT/result``: the command's database and result folder must be laid out so for
   some ROOT, which is passed as ``--root``. Otherwise the rerun is refused before
   anything runs (rewriting the input to move the database would change what is
   recorded as the run's input). On a PostgreSQL database the main job is given it
   through ``RUNMETA_DATABASE_URL`` (which comes before the settings), so only the
   result folder has to match.
3. The main job runs as ``python -m monocycle_nash.app INPUT --rerun-of ID --note ...``
   in this interpreter, its stdout and stderr passed straight through; the new run
   joins run ID's project, if it has one.
4. The new run is the run created since the call whose recording process is the
   child's (host and pid, from its row) and whose meta.json says ``rerun_of: ID``.
5. Its ``output/`` is compared with run ID's, file by file
   (:func:`~monocycle_nash.runmeta.comparison.compare_trees`).

runmeta never imports the solver or the app: the main job is only ever a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from monocycle_nash.runmeta.artifact_store import (
    MERGED_INPUT,
    OUTPUT_DIR,
    RunArtifactStore,
    read_regular_file,
)
from monocycle_nash.runmeta.backends import URL_VARIABLE, DatabaseUrl
from monocycle_nash.runmeta.clock import JstClock
from monocycle_nash.runmeta.comparison import (
    DEFAULT_VALUE_LIMIT,
    RunFilesError,
    RunFolder,
    TreeComparison,
    compare_trees,
    file_digest,
    format_tree,
    load_run,
)
from monocycle_nash.runmeta.db import DEFAULT_DB_PATH, DEFAULT_RESULT_ROOT
from monocycle_nash.runmeta.errors import RunMetaError
from monocycle_nash.runmeta.process import current_host
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.text import plural

TYPE_CHECKING = False
if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = [
    "MAIN_JOB",
    "MainJobExit",
    "RerunOutcome",
    "RerunPlan",
    "RerunRefusedError",
    "find_rerun",
    "format_outcome",
    "judge_rerun",
    "plan_rerun",
    "run_main_job",
]

MAIN_JOB: Final = "monocycle_nash.app"
"""The module the rerun runs with ``python -m``."""

_MERGED_SIZE_LIMIT: Final = 64 << 20


class RerunRefusedError(RunMetaError):
    """The run cannot be rerun here; nothing was run (``runmeta rerun`` exits 2)."""


@dataclass(frozen=True, slots=True)
class RerunPlan:
    """What ``runmeta rerun`` runs: the original run, the input, the whole command."""

    original: RunFolder
    input_path: Path
    command: tuple[str, ...]
    database_url: DatabaseUrl | None = None
    """A PostgreSQL database, handed to the main job in ``RUNMETA_DATABASE_URL``."""


def plan_rerun(
    original: RunFolder,
    *,
    db_path: Path | DatabaseUrl,
    result_root: Path,
    note: str | None = None,
    note_file: str | None = None,
    python: str = sys.executable,
) -> RerunPlan:
    """Return how to rerun ``original`` so that the new run lands in ``db_path`` and
    ``result_root``; raise :class:`RerunRefusedError` (one line) when it cannot be.

    ``note`` (default ``rerun of run ID``) or ``note_file`` (passed on as the main job's
    ``--note-file``) is the new run's note.
    """
    run_id = original.run_id
    if original.record.status == "running":
        raise RerunRefusedError(
            f"run {run_id} is still running; rerun it once it has ended (if its process is"
            " gone, runmeta reap ends it)"
        )
    input_path, merged = _stored_input(original)
    root = _root_of(db_path, result_root)
    if merged:
        _check_merged_input(original, input_path, db_path, result_root, root)
    elif root is None and isinstance(db_path, DatabaseUrl):
        raise RerunRefusedError(
            f"run {run_id} ran a game file, which the main job records in"
            f" ROOT/{DEFAULT_RESULT_ROOT.as_posix()}, but the result folder {result_root} given"
            " here is not named so; give --result-root ROOT/result"
        )
    elif root is None:
        raise RerunRefusedError(
            f"run {run_id} ran a game file, which the main job records in"
            f" ROOT/{DEFAULT_DB_PATH.as_posix()} and ROOT/{DEFAULT_RESULT_ROOT.as_posix()},"
            f" but the database ({db_path}) and result folder ({result_root}) given here are"
            " not laid out so for any ROOT: the rerun would be recorded elsewhere; run"
            " runmeta from the project root, or give --db-path ROOT/.runmeta/run_history.db"
            " --result-root ROOT/result"
        )
    command = [python, "-m", MAIN_JOB, str(input_path), "--rerun-of", str(run_id)]
    if note_file is not None:
        if note_file != "-" and not Path(note_file).is_file():
            raise RerunRefusedError(f"--note-file {note_file}: no such file")
        command += _option("--note-file", note_file)
    else:
        command += _option("--note", f"rerun of run {run_id}" if note is None else note)
    if original.record.project_id is not None:
        command += _option("--project-id", original.record.project_id)
    if root is not None:
        command += _option("--root", str(root))
    url = db_path if isinstance(db_path, DatabaseUrl) else None
    return RerunPlan(original, input_path, tuple(command), url)


def _option(name: str, value: str) -> list[str]:
    """``[name, value]``, or ``[name=value]`` for a value argparse would take for an
    option (a note such as ``-5 %``; ``-`` alone is a value)."""
    return [f"{name}={value}"] if value.startswith("-") and value != "-" else [name, value]


def _stored_input(original: RunFolder) -> tuple[Path, bool]:
    """The file run ``original`` stored for a re-run, and whether it is a merged input."""
    run_id = original.run_id
    info = original.meta.get("input")
    stored = info.get("stored_file") if isinstance(info, dict) else None
    if not isinstance(info, dict) or not isinstance(stored, str):
        raise RerunRefusedError(
            f"run {run_id} recorded no input (meta.json input); nothing to rerun"
        )
    run_dir = original.run_dir
    path = run_dir / stored
    try:
        inside = path.resolve().is_relative_to(run_dir.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside or path.is_symlink():
        raise RerunRefusedError(
            f"run {run_id}'s meta.json names {stored!r} as its input, which is not a file of"
            f" its folder {run_dir}"
        )
    if not path.is_file():
        what = "a folder; the main job takes a file" if path.is_dir() else "missing"
        raise RerunRefusedError(f"run {run_id}'s stored input {path} is {what}")
    recorded = info.get("checksum_sha256")
    digest = file_digest(path).sha256
    if isinstance(recorded, str) and digest != recorded:
        raise RerunRefusedError(
            f"run {run_id}'s stored input {path} has changed since the run stored it (sha256"
            f" {digest[:12]}..., recorded {recorded[:12]}...); it is no longer the frozen input"
        )
    return path.resolve(), path.name == MERGED_INPUT and path.parent.name == "input"


def _root_of(db_path: Path | DatabaseUrl, result_root: Path) -> Path | None:
    """The ROOT with ``db_path`` = ROOT/.runmeta/run_history.db and ``result_root`` =
    ROOT/result, or ``None``: first as written (made absolute), then with symbolic links
    resolved (a result folder that is a link to another disk is still ROOT/result). For
    a PostgreSQL database only the result folder counts."""
    # os.path.abspath folds ".." without resolving links; Path has no such method.
    server = isinstance(db_path, DatabaseUrl)
    database_path = Path() if isinstance(db_path, DatabaseUrl) else db_path
    written = (os.path.abspath(database_path), os.path.abspath(result_root))  # noqa: PTH100
    for database, results in (
        (Path(written[0]), Path(written[1])),
        (database_path.resolve(), result_root.resolve()),
    ):
        root = results
        for _ in DEFAULT_RESULT_ROOT.parts:
            root = root.parent
        if root / DEFAULT_RESULT_ROOT == results and (server or root / DEFAULT_DB_PATH == database):
            return root
    return None


def _check_merged_input(
    original: RunFolder,
    merged: Path,
    db_path: Path | DatabaseUrl,
    result_root: Path,
    root: Path | None,
) -> None:
    """Refuse a merged input that records runs elsewhere than here, or whose game file
    has changed since the run (the main job would refuse it: a failed run for nothing)."""
    run_id = original.run_id
    try:
        document = tomllib.loads(read_regular_file(merged, _MERGED_SIZE_LIMIT).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as err:  # TOMLDecodeError is a ValueError
        raise RerunRefusedError(
            f"run {run_id}'s merged input {merged} cannot be read: {err}"
        ) from err
    _check_storage(run_id, document, db_path, result_root, root)
    _check_game(original, merged, document)


def _check_storage(
    run_id: int,
    document: dict[str, Any],
    db_path: Path | DatabaseUrl,
    result_root: Path,
    root: Path | None,
) -> None:
    table = document.get("runmeta")
    storage: dict[str, Any] = table if isinstance(table, dict) else {}
    base = root if root is not None else Path.cwd()
    if isinstance(db_path, DatabaseUrl):
        # The main job is given the database itself (RUNMETA_DATABASE_URL): only the
        # result folder the merged input names must be this one.
        named_root = storage.get("result_root", str(DEFAULT_RESULT_ROOT))
        if not isinstance(named_root, str) or not named_root:
            raise RerunRefusedError(f"run {run_id}'s merged input has an unusable [runmeta] table")
        folder = (base / Path(named_root).expanduser()).resolve()
        if folder != result_root.resolve():
            raise RerunRefusedError(
                f"run {run_id}'s merged input records its run folders in {folder}, not in"
                f" {result_root} given here; give --result-root {folder} to rerun it there"
            )
        return
    wanted = {
        "db_path": storage.get("db_path", str(DEFAULT_DB_PATH)),
        "result_root": storage.get("result_root", str(DEFAULT_RESULT_ROOT)),
    }
    if not all(isinstance(value, str) and value for value in wanted.values()):
        raise RerunRefusedError(f"run {run_id}'s merged input has an unusable [runmeta] table")
    named = {key: (base / Path(value).expanduser()).resolve() for key, value in wanted.items()}
    if named["db_path"] == db_path.resolve() and named["result_root"] == result_root.resolve():
        return
    if not storage and root is None:
        raise RerunRefusedError(
            f"run {run_id}'s merged input names no database ([runmeta]), so the main job would"
            f" record the rerun in ROOT/{DEFAULT_DB_PATH.as_posix()}; the database {db_path}"
            f" and result folder {result_root} given here are not laid out so"
        )
    raise RerunRefusedError(
        f"run {run_id}'s merged input records its runs in {named['db_path']} and"
        f" {named['result_root']} ([runmeta]), not in the database {db_path} and result folder"
        f" {result_root} given here; give --db-path {named['db_path']} --result-root"
        f" {named['result_root']} to rerun it there"
    )


def _check_game(original: RunFolder, merged: Path, document: dict[str, Any]) -> None:
    game, expected = document.get("game"), document.get("game_sha256")
    if not isinstance(game, str) or not isinstance(expected, str):
        return  # an inline game, or no digest to hold it to: the main job judges
    path = merged.parent / Path(game).expanduser()
    copy = _stored_game(original)
    kept = f"; run {original.run_id}'s copy of it is {copy}" if copy else ""
    if not path.is_file():
        raise RerunRefusedError(
            f"the game file {path} that run {original.run_id}'s merged input names is gone"
            f"{kept}; nothing was run"
        )
    digest = file_digest(path).sha256
    if digest != expected.lower():
        raise RerunRefusedError(
            f"the game file {path} that run {original.run_id}'s merged input names has changed"
            f" since the run (sha256 {digest[:12]}..., the run's {expected[:12]}...){kept};"
            " nothing was run"
        )


def _stored_game(original: RunFolder) -> Path | None:
    """Where run ``original`` keeps its copy of the game file, if it names one."""
    info = original.meta.get("input")
    files = info.get("files") if isinstance(info, dict) else None
    for entry in files if isinstance(files, list) else ():
        if isinstance(entry, dict) and entry.get("role") == "game":
            stored = entry.get("stored_file")
            if isinstance(stored, str):
                return original.run_dir / stored
    return None


# --- running and finding the new run --------------------------------------------------


@dataclass(frozen=True, slots=True)
class MainJobExit:
    """How the main job's process ended: its pid, exit status and the time it started."""

    pid: int
    returncode: int
    started: str


def run_main_job(plan: RerunPlan) -> MainJobExit:
    """Run the plan's command with this process's stdin, stdout and stderr; wait for it.

    Ctrl-C reaches the main job too (same terminal): it records its run as killed and
    ends, and this waits for that before re-raising ``KeyboardInterrupt``.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # our lines so far come before the main job's
    started = JstClock().timestamp()
    # This interpreter and environment: the main job runs on the code runmeta runs on.
    environment = None
    if plan.database_url is not None:
        environment = {**os.environ, URL_VARIABLE: plan.database_url.secret}
    process = subprocess.Popen(plan.command, env=environment)
    try:
        returncode = process.wait()
    except KeyboardInterrupt:
        process.wait()
        raise
    return MainJobExit(process.pid, returncode, started)


def find_rerun(
    connection: Connection, result_root: Path, original_id: int, job: MainJobExit
) -> int | None:
    """The id of the run the main job recorded, or ``None`` when it recorded none.

    It is the run created since the job started whose row names the job's process (this
    host, its pid) and whose meta.json says ``rerun_of: original_id``; of several (a
    sweep's children name their own processes), the first.
    """
    runs = RunsRepository(connection)
    store = RunArtifactStore(result_root)
    host = current_host()
    for record in reversed(runs.list_runs(from_at=job.started)):  # oldest first
        bookkeeping = runs.bookkeeping(record.run_id)
        try:
            meta = store.read_meta(record.run_id)
        except RunMetaError:
            meta = {}  # unreadable: the row alone decides, and the comparison says why
        if bookkeeping.pid is not None:
            ours = (bookkeeping.host, bookkeeping.pid) == (host, job.pid)
        else:  # a row of an older schema: the process meta.json names
            process = meta.get("process")
            ours = isinstance(process, dict) and (process.get("host"), process.get("pid")) == (
                host,
                job.pid,
            )
        if ours and meta.get("rerun_of", original_id) == original_id:
            return record.run_id
    return None


# --- the verdict ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RerunOutcome:
    """The rerun judged: the new run (``None`` when none was recorded), the main job's
    exit status, and the comparison of the outputs (``None`` when the rerun failed)."""

    original: RunFolder
    new_run_id: int | None
    new_status: str | None
    returncode: int
    outputs: TreeComparison | None
    failure: str | None = None

    @property
    def identical(self) -> bool:
        """Whether the rerun succeeded and every output is byte-identical."""
        return self.failure is None and self.outputs is not None and self.outputs.identical


def judge_rerun(
    connection: Connection,
    result_root: Path,
    plan: RerunPlan,
    job: MainJobExit,
    *,
    limit: int = DEFAULT_VALUE_LIMIT,
) -> RerunOutcome:
    """Find the new run and compare its outputs with the original's."""
    original = plan.original
    run_id = original.run_id
    new_id = find_rerun(connection, result_root, run_id, job)
    if new_id is None:
        return RerunOutcome(
            original,
            None,
            None,
            job.returncode,
            None,
            f"the rerun of run {run_id} failed: the main job exited {job.returncode}"
            " without recording a run",
        )
    record = RunsRepository(connection).get(new_id)
    if job.returncode != 0 or record.status != "success":
        earlier = original.record.status
        if earlier == "success":
            was = ""
        elif earlier == record.status:
            was = f", as run {run_id} had"
        else:
            was = f"; run {run_id} had ended {earlier}"
        return RerunOutcome(
            original,
            new_id,
            record.status,
            job.returncode,
            None,
            f"the rerun of run {run_id} failed: run {new_id} ended {record.status} (the main"
            f" job exited {job.returncode}){was}; its outputs were not compared",
        )
    try:
        rerun = load_run(connection, result_root, new_id)
        outputs = compare_trees(
            original.run_dir / OUTPUT_DIR, rerun.run_dir / OUTPUT_DIR, limit=limit
        )
    except RunFilesError as err:
        return RerunOutcome(
            original,
            new_id,
            record.status,
            job.returncode,
            None,
            f"the outputs of runs {run_id} and {new_id} cannot be compared: {err}",
        )
    return RerunOutcome(original, new_id, record.status, job.returncode, outputs)


def format_outcome(outcome: RerunOutcome) -> Iterator[str]:
    """Yield the report printed after the main job's own output (a successful rerun)."""
    run_id, new_id = outcome.original.run_id, outcome.new_run_id
    outputs = outcome.outputs
    if outputs is None or new_id is None:
        return
    yield f"Rerun of run {run_id}: run {new_id} ({outcome.new_status})."
    files = plural(len(outputs.files), "output file")
    if outputs.identical:
        yield f"Outputs: identical ({files}, byte for byte)."
        return
    yield f"Outputs: different ({len(outputs.differing)} of {files})."
    yield from format_tree(outputs, f"run {run_id}", f"run {new_id}")
