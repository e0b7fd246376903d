"""The main job: solve one game inside a recorded run, from start to finish.

Flow (database first): read the input far enough to know where runs are recorded (the
run config and settings; a game file is not parsed yet), open the database, prepare the
analysis project, start the run (row, folder, input snapshot, meta.json), print its id,
then read and validate the game, solve, write ``output/`` and finish. Bad input found
after the database opened is recorded as a ``fail`` run, so every attempt is part of
the history.

The run begins when its row is written, before a game file is parsed, so the parse of
a large roster counts in the run's duration and Ctrl-C or SIGTERM during it ends the
run ``killed``. Before that (start-up, or a large TOML run config being read) they
record nothing and say so in one line (exit 130 or 143). Every line printed after a
failure states only what the database and the run folder show (a run deleted while it
ran is said to be gone, never "recorded").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from monocycle_nash import GameError, divergences, pure_strategy_payoffs
from monocycle_nash.app.analyses import (
    distance_figures,
    solve_figures,
    solve_game,
    write_approximation,
    write_comparison,
    write_spectrum,
    write_team_outputs,
)
from monocycle_nash.app.cli import Arguments, parse_arguments
from monocycle_nash.app.command_line import PROGRAM, invoked_command, storable
from monocycle_nash.app.errors import (
    ExperimentFailure,
    InputError,
    InputFileError,
    OutputWriteError,
    RunConfigError,
    SecretInSettingsError,
    StorageError,
)
from monocycle_nash.app.experiments import run_experiment
from monocycle_nash.app.outputs import PerStrategy, write_results
from monocycle_nash.app.pictures import write_pictures
from monocycle_nash.app.project import prepare_project
from monocycle_nash.app.resume import check_sweep, reused_trials, stored_input
from monocycle_nash.app.run_config import (
    GameInput,
    InputReading,
    RunInput,
    StorageLocation,
    path_problem,
    read_game,
    read_input,
)
from monocycle_nash.app.summary import (
    details_command,
    display_path,
    format_game,
    format_header,
    format_summary,
)
from monocycle_nash.app.sweeps import run_sweep
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.examples import DEFAULT_RUN_CONFIG, examples_dir
from monocycle_nash.experiments import ExperimentSettings, run_trial
from monocycle_nash.game import Game
from monocycle_nash.game_files import collector_paused
from monocycle_nash.runmeta import (
    DEFAULT_DB_PATH,
    DEFAULT_RESULT_ROOT,
    URL_VARIABLE,
    ArtifactWriteError,
    DatabaseUrl,
    FirstCommitProbe,
    GitCommitProbe,
    InputFile,
    RunContext,
    RunMetaError,
    RunNotFoundError,
    RunSessionService,
    RunTerminated,
    choose_database,
    sigterm_raises,
)
from monocycle_nash.text import fit, plural, printable

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_SUCCESS",
    "EXIT_TERMINATED",
    "main",
    "run_main_job",
]

EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


def main(argv: Sequence[str] | None = None) -> int:
    """Run the main job with ``argv`` (default: the process's arguments); return the exit code."""

    def job(progress: _Progress) -> int:
        arguments = parse_arguments(None if argv is None else list(argv))
        return _main_job(arguments, invoked_command(argv), progress)

    return _guarded(job)


def _error(message: str) -> None:
    print(f"{PROGRAM}: error: {printable(message)}", file=sys.stderr)


def _warning(message: str) -> None:
    print(f"{PROGRAM}: warning: {printable(message)}", file=sys.stderr)


@dataclass(slots=True)
class _Progress:
    """How far the job got: what a line about an interruption may claim."""

    starting: bool = False
    """``record()`` was entered: a row may exist from here on."""
    run_id: int | None = None
    ended: bool = False
    """The run's record was ended (whatever the outcome)."""


def run_main_job(arguments: Arguments, command: str) -> int:
    """Record and run one solve as described by ``arguments``; return the exit code."""
    return _guarded(lambda progress: _main_job(arguments, command, progress))


def _guarded(job: Callable[[_Progress], int]) -> int:
    """Run ``job`` with SIGTERM turned into an exception; report an interruption it left.

    The run reports its own interruptions; what reaches here came before the run
    existed (while a large input is read, say): one line and exit 130 (Ctrl-C) or 143
    (SIGTERM), saying that no run was recorded.
    """
    progress = _Progress()
    try:
        with sigterm_raises():
            return job(progress)
    except (KeyboardInterrupt, RunTerminated) as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        what = "interrupted" if interrupted else "terminated"
        if progress.run_id is not None:
            run = progress.run_id
            when = f"after run {run} had ended" if progress.ended else f"while run {run} ended"
            where = f"{when} (see runmeta show-run --run-id {run})"
        elif progress.starting:
            where = "while the run was starting, before its id was known"
        else:
            where = "before the run started; no run was recorded"
        print(f"{PROGRAM}: {what} {where}", file=sys.stderr)
        return EXIT_INTERRUPTED if interrupted else EXIT_TERMINATED


def _main_job(arguments: Arguments, command: str, progress: _Progress) -> int:
    input_path = arguments.input
    if input_path is None and arguments.resume is not None:
        try:
            input_path = _resumed_input(arguments)
        except (RunMetaError, InputError) as err:
            _error(f"{err} (nothing was recorded)")
            return EXIT_FAILURE
    if input_path is None:
        input_path = examples_dir() / DEFAULT_RUN_CONFIG
    reading = read_input(input_path, arguments.root, project_id=arguments.project_id)
    try:
        storage = reading.storage
        # RUNMETA_DATABASE_URL, then [runmeta] database_url, then the SQLite file.
        database = choose_database(
            None, None, default=storage.db_path, settings_url=storage.database_url
        )
        _check_storage(storage, database_file=not isinstance(database, DatabaseUrl))
        service = RunSessionService.open(
            arguments.root,
            db_path=None if isinstance(database, DatabaseUrl) else database,
            database_url=database if isinstance(database, DatabaseUrl) else None,
            result_root=storage.result_root,
            git_probe=_code_commit_probe(arguments.root),
        )
    except (RunMetaError, StorageError) as err:
        _error(str(err))
        return EXIT_FAILURE
    with service:
        return _run(service, reading, arguments, storable(command), progress)


def _resumed_input(arguments: Arguments) -> Path:
    """``--resume RUN_ID`` without INPUT: the input RUN_ID stored, found in the default
    database under ``--root``."""
    assert arguments.resume is not None
    storage = StorageLocation.default(arguments.root.resolve())
    database = choose_database(None, None, default=storage.db_path)
    if isinstance(database, DatabaseUrl):
        with RunSessionService.open(
            arguments.root, database_url=database, result_root=storage.result_root
        ) as service:
            return stored_input(service, arguments.resume)
    if not storage.db_path.is_file():
        raise InputError(
            f"--resume {arguments.resume}: there is no database at {storage.db_path}; "
            "give the run config of that run as INPUT when it named another database"
        )
    with RunSessionService.open(
        arguments.root, db_path=storage.db_path, result_root=storage.result_root
    ) as service:
        return stored_input(service, arguments.resume)


def _code_commit_probe(root: Path) -> FirstCommitProbe:
    """Return a probe of the commit of the code being run, else of the project root.

    The solver's version is what makes a result reproducible, and ``--root`` is often a
    data folder outside any repository, so the checkout holding this package comes first.
    Whether tracked files differ from the commit is told for the same checkout.
    """
    return FirstCommitProbe(GitCommitProbe(Path(__file__).resolve().parent), GitCommitProbe(root))


def _check_storage(storage: StorageLocation, *, database_file: bool = True) -> None:
    """Refuse, before anything is written, a database or result folder that cannot be used.

    ``database_file``: the database is the SQLite file (not a server) and is checked too.
    """
    checked = [("database", storage.db_path)] if database_file else []
    for what, path in (*checked, ("result folder", storage.result_root)):
        problem = path_problem(path)
        if problem is not None:
            raise StorageError(f"cannot use {what} {fit(str(path), 100, measure=len)}: {problem}")
    root = storage.result_root
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "it" if existing == root else str(existing)
        raise StorageError(f"cannot use result folder {root}: {what} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StorageError(f"cannot use result folder {root}: {existing} is not writable")


def _unstorable_input(files: Sequence[InputFile]) -> InputFileError | None:
    """The error for an input whose name UTF-8 cannot hold (meta.json names every input)."""
    for entry in files:
        name = str(entry.path.absolute())
        if storable(name) != name:
            return InputFileError(
                f"{storable(str(entry.path))}: the file name is not valid UTF-8 text "
                "(shown with \\x escapes), so the run cannot store it; rename the file"
            )
    return None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the run is started with, and the input problem it will end on (if any)."""

    files: tuple[InputFile, ...]
    merged: bytes | None
    project_id: str | None
    problem: InputError | None


def _plan(service: RunSessionService, reading: InputReading) -> _Plan:
    """Decide the run's inputs and project; a problem is kept to fail the run with."""
    run_input = reading.run_input
    problem: InputError | None = reading.error
    if isinstance(problem, SecretInSettingsError):
        return _Plan((), None, None, problem)  # no copy of a file holding a password
    unstorable = _unstorable_input(reading.files)
    if unstorable is not None:
        return _Plan((), None, None, problem or unstorable)
    project_id: str | None = None
    if run_input is not None and run_input.project is not None:
        try:
            project_id = prepare_project(service, run_input.project)
        except InputError as err:
            problem = err
    merged = None if run_input is None else run_input.merged_toml
    return _Plan(reading.files, merged, project_id, problem)


def _run(
    service: RunSessionService,
    reading: InputReading,
    arguments: Arguments,
    command: str,
    progress: _Progress,
) -> int:
    plan = _plan(service, reading)
    note = storable(arguments.note)
    ctx: RunContext | None = None
    progress.starting = True
    try:
        # record() turns SIGTERM into RunTerminated for as long as the run is open.
        with service.record(
            command,
            project_id=plan.project_id,
            note=note,
            inputs=plan.files,
            merged_input=plan.merged,
            parent_run_id=arguments.parent,
        ) as ctx:
            progress.run_id = ctx.run_id
            if arguments.rerun_of is not None:
                ctx.extra["rerun_of"] = arguments.rerun_of
            if note != arguments.note:
                _warning(
                    f"run {ctx.run_id}: the note is not valid UTF-8 text; stored with "
                    f"\\x escapes as {note!r}"
                )
            _work(ctx, reading, plan.problem, _Job(service, arguments))
    except (InputError, GameError, ExperimentFailure):
        return _ended(progress, EXIT_FAILURE)  # the line was printed inside the run
    except OutputWriteError as err:
        _error(f"{err}{_outcome(service, progress.run_id, 'fail')}")
        return _ended(progress, EXIT_FAILURE)
    except (KeyboardInterrupt, RunTerminated) as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        what = "interrupted" if interrupted else "terminated"
        run_id = _run_id(ctx, err)
        where = (
            " while the run was starting, before its id was known"
            if run_id is None
            else _outcome(service, run_id, "killed")
        )
        print(f"{PROGRAM}: {what}{where}", file=sys.stderr)
        return _ended(progress, EXIT_INTERRUPTED if interrupted else EXIT_TERMINATED)
    except RunMetaError as err:
        # Starting or finishing the record failed; the message says what to repair.
        _error(_record_error_message(service, err, ctx))
        return _ended(progress, EXIT_FAILURE)
    except Exception as err:
        # A bug: recorded as fail with its traceback in the run's log; one line here.
        _error(_unexpected_message(service, err, _run_id(ctx, err)))
        return _ended(progress, EXIT_FAILURE)
    return _ended(progress, EXIT_SUCCESS)


@dataclass(frozen=True, slots=True)
class _Job:
    """What the work inside a run needs besides its input."""

    service: RunSessionService
    arguments: Arguments


def _work(ctx: RunContext, reading: InputReading, problem: InputError | None, job: _Job) -> None:
    """The work inside the run: end it on the input problem, or do what the input asks."""
    try:
        if problem is not None:
            raise problem
        run_input = reading.run_input
        if run_input is None:  # pragma: no cover - read_input sets one of the two
            raise RuntimeError("input neither read nor refused")
        resume = job.arguments.resume
        if run_input.sweep is not None:
            _sweep(ctx, run_input, reading.storage, job)
        elif run_input.experiment is not None:
            _experiment(ctx, run_input, run_input.experiment, job)
        elif resume is not None:
            raise RunConfigError(
                f"--resume {resume}: {run_input.path} is not an experiment or a sweep; "
                "only those have finished parts to reuse"
            )
        else:
            # Millions of long-lived objects for a large roster, and few reference cycles:
            # the collector's walks over them cost about a second at 10^6 characters.
            with collector_paused():
                _solve_and_write(ctx, run_input, reading.storage)
    except (InputError, GameError, ExperimentFailure) as err:
        # Inside the run, so the line also lands in logs/stderr.log.
        _error(str(err))
        raise
    except ArtifactWriteError as err:  # the results themselves (disk full, ...)
        raise OutputWriteError(str(err)) from err


def _unexpected_message(service: RunSessionService, err: Exception, run_id: int | None) -> str:
    """``unexpected Type: first line; run N recorded as fail; traceback in <log>``."""
    first_line = next(iter(str(err).splitlines()), "")
    what = f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__
    where = _outcome(service, run_id, "fail") + _traceback_where(service, run_id)
    return f"unexpected {what}{where}"


def _ended(progress: _Progress, code: int) -> int:
    progress.ended = True
    return code


def _run_id(ctx: RunContext | None, err: BaseException) -> int | None:
    """The id of the run an error ended: the open run's, or the one ``start`` had inserted."""
    if ctx is not None:
        return ctx.run_id
    failed = getattr(err, "failed_run_id", None)
    return failed if isinstance(failed, int) else None


def _row_status(service: RunSessionService, run_id: int) -> str | RunMetaError | None:
    """The run's status in the database now; ``None`` when the row is gone."""
    try:
        return service.runs.get(run_id).status
    except RunNotFoundError:
        return None
    except RunMetaError as err:  # e.g. the database stayed locked
        return err


def _outcome(service: RunSessionService, run_id: int | None, status: str) -> str:
    """``; run N recorded as <status>``, or what the database says instead.

    Read back from the database, so a run deleted while it ran (``runmeta delete-run
    --force``) or a database that refused the last write is never said to be recorded.
    """
    if run_id is None:
        return ""
    found = _row_status(service, run_id)
    if found == status:
        return f"; run {run_id} recorded as {status}"
    if found is None:
        return f"; run {run_id} is no longer in the database, so nothing more was recorded"
    if isinstance(found, RunMetaError):
        return f"; whether run {run_id} is recorded as {status} could not be read back: {found}"
    return (
        f"; run {run_id} could not be recorded as {status}: the database says {found}"
        f" (repair: runmeta update-run --run-id {run_id} --status {status})"
    )


def _traceback_where(service: RunSessionService, run_id: int | None) -> str:
    """``; traceback in <log>`` when the run's log really holds a traceback."""
    if run_id is None:
        return ""
    log = service.store.log_path(run_id)
    try:
        with log.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 65536))
            tail = handle.read()
    except OSError:
        return ""
    return f"; traceback in {display_path(log)}" if b"Traceback" in tail else ""


def _record_error_message(
    service: RunSessionService, err: RunMetaError, ctx: RunContext | None
) -> str:
    """The one line for a failure of the record itself, naming the run when there is one."""
    if ctx is None:
        run_id = _run_id(ctx, err)
        return str(err) + ("" if run_id is None else _outcome(service, run_id, "fail"))
    if _row_status(service, ctx.run_id) is None:
        kept = ctx.run_dir.is_dir()
        gone = (
            f"run {ctx.run_id} is no longer in the database (deleted while it ran?), so "
            "its end was not recorded"
            + (f"; its folder {display_path(ctx.run_dir)} was left as it was" if kept else "")
        )
        return gone if isinstance(err, RunNotFoundError) else f"{err}; {gone}"
    if getattr(err, "run_id", None) == ctx.run_id:  # the message names the run already
        return str(err)
    return f"{err} (run {ctx.run_id})"


def _check_game_copy(ctx: RunContext, game: GameInput) -> None:
    """Refuse a game file that changed between the reading of the run config and its copy.

    The merged input names the game file by the digest read with the run config; the
    run's own copy (hashed by the snapshot) must be those bytes for it to be true.
    """
    if game.sha256 is None or ctx.input is None:
        return
    for stored in ctx.input.files:
        if stored.role == "game" and stored.sha256 != game.sha256:
            raise InputFileError(
                f"{game.source}: the file changed while the run started (its SHA-256 was "
                f"{game.sha256}, its copy's is {stored.sha256}); run again"
            )


def _write_answer(
    output_dir: Path, game: Game, equilibrium: Equilibrium, per_strategy: PerStrategy
) -> list[Path]:
    """Write the results; the per-strategy payoffs are gone before the pictures are drawn."""
    payoffs = pure_strategy_payoffs(game, equilibrium.column_strategy)
    return write_results(output_dir, equilibrium, payoffs, divergences(payoffs), per_strategy)


def _experiment(
    ctx: RunContext, run_input: RunInput, settings: ExperimentSettings, job: _Job
) -> None:
    """Run an ``[experiment]``: its trials, trials.csv, summary.json and summary.svg."""
    print(f"Run {ctx.run_id}: experiment {printable(run_input.path.name)}", flush=True)
    fixed_game = None
    if run_input.game is not None:
        _check_game_copy(ctx, run_input.game)
        fixed_game = read_game(run_input.game)
        print(
            f"Every trial analyses the fixed game {printable(run_input.game.source)}.",
            flush=True,
        )
    if fixed_game is not None:
        # Every trial analyses the same game: one trial here refuses a game that does
        # not suit the experiment (one line) before any worker starts.
        run_trial(settings, 0, fixed_game)
    resume = job.arguments.resume
    reused = (
        None if resume is None else reused_trials(job.service, resume, settings, run_input.game)
    )
    lines = run_experiment(ctx, settings, fixed_game=fixed_game, reused=reused)
    for line in lines:
        print(printable(line))
    print(f"Results: {printable(display_path(ctx.run_dir))}")
    print(f"Details: {printable(_details(ctx, run_input.storage))}")


def _sweep(ctx: RunContext, run_input: RunInput, storage: StorageLocation, job: _Job) -> None:
    """Run a ``[sweep]``: one child run per (condition, seed), then sweep.csv."""
    assert run_input.sweep is not None
    print(f"Run {ctx.run_id}: sweep {printable(run_input.path.name)}", flush=True)
    if job.arguments.resume is not None:
        check_sweep(job.service, job.arguments.resume)
    lines = run_sweep(
        ctx,
        run_input,
        service=job.service,
        root=job.arguments.root,
        resume=job.arguments.resume,
    )
    for line in lines:
        print(printable(line))
    print(f"Results: {printable(display_path(ctx.run_dir))}")
    print(f"Details: {printable(_details(ctx, storage))}")


def _details(ctx: RunContext, storage: StorageLocation) -> str:
    """The ``runmeta show-run`` command that finds this run from here."""
    # `uv run` marks its children; they find the runmeta CLI through uv too.
    runmeta = "uv run runmeta" if "UV_RUN_RECURSION_DEPTH" in os.environ else "runmeta"
    url = _shown_url(storage)
    return details_command(
        ctx.run_id,
        runmeta=runmeta,
        db_path=None if url is not None else storage.db_path,
        result_root=storage.result_root,
        defaults=(DEFAULT_DB_PATH, DEFAULT_RESULT_ROOT),
        db_url=url,
    )


def _shown_url(storage: StorageLocation) -> str | None:
    """The ``--db-url`` that finds the run's server database from a shell, if it needs one.

    ``None`` on SQLite, and when ``RUNMETA_DATABASE_URL`` names the database (runmeta
    finds it there too). Else the settings' URL without its password: libpq takes that
    from ``PGPASSWORD`` or ``~/.pgpass``; a password is never printed.
    """
    if os.environ.get(URL_VARIABLE, "").strip() or storage.database_url is None:
        return None
    return DatabaseUrl(storage.database_url).public


def _write_analyses(
    ctx: RunContext, run_input: RunInput, game: Game, equilibrium: Equilibrium
) -> tuple[list[Path], list[str]]:
    """The spectrum, and the approximation and comparison a run config asks for: their
    files and summary lines; their figures go into the run's metrics."""
    output_dir, metrics = ctx.output_dir, ctx.metrics
    written, line, figures = write_spectrum(output_dir, game)
    metrics.update(figures)
    lines = [line]
    settings = run_input.analyses
    compared = (game, equilibrium)  # what [compare] compares with its reference
    if settings.approximation is not None:
        files, line, approximation = write_approximation(
            output_dir, game, equilibrium, settings.approximation
        )
        written += files
        lines.append(line)
        if approximation is not None:
            metrics["dominant_eigen_ratio"] = approximation.dominant_eigen_ratio
            metrics.update(distance_figures("approximation", approximation.distances.distances()))
            if settings.compare_approximation:
                compared = (approximation.roster, approximation.roster_equilibrium)
    if settings.reference is not None:
        files, line, figures = write_comparison(output_dir, *compared, settings.reference)
        written += files
        lines.append(line)
        metrics.update(figures)
    return written, lines


def _solve_and_write(ctx: RunContext, run_input: RunInput, storage: StorageLocation) -> None:
    game_input = run_input.game
    if game_input is None:  # pragma: no cover - read_input refuses a run config without one
        raise RuntimeError("a solve without a game")
    # Flushed at once: the user sees the run id while a large game is read and solved.
    print(format_header(ctx.run_id, Path(game_input.source).name), flush=True)
    _check_game_copy(ctx, game_input)
    game = read_game(game_input)
    kind = "monocycle roster" if game.characters is not None else "payoff matrix"
    ctx.extra["game"] = {"source": game_input.source, "kind": kind, "size": len(game.labels)}
    print(format_game(len(game.labels), kind), flush=True)
    solved = solve_game(
        game, exact=run_input.exact, method=run_input.method, tolerance=run_input.tolerance
    )
    game, equilibrium, team = solved.game, solved.equilibrium, solved.team
    output_dir = ctx.output_dir
    per_strategy = run_input.per_strategy
    ctx.extra["output"] = {"per_strategy": per_strategy}
    # The answer first: a picture that fails afterwards costs only itself.
    written = _write_answer(output_dir, game, equilibrium, per_strategy)
    metrics = ctx.metrics
    metrics.update(solve_figures(equilibrium))
    if team is not None:
        ctx.extra["teams"] = {"count": len(team.labels), "characters": len(team.characters)}
        metrics["team_count"] = len(team.labels)
        print(f"Played as its team game: {plural(len(team.labels), 'team')}.", flush=True)
        written += write_team_outputs(output_dir, team, equilibrium)
    files, analysis_lines = _write_analyses(ctx, run_input, game, equilibrium)
    written += files
    ctx.extra["result"] = {
        "support": list(equilibrium.support),
        "value": float(equilibrium.value),
        "exploitability": float(equilibrium.exploitability),
        "gap": float(equilibrium.gap),
        "tolerance": float(equilibrium.tolerance),
        "solver": equilibrium.solver,
    }
    pictures, warnings = write_pictures(output_dir, game, equilibrium)
    written += pictures
    ctx.extra["outputs"] = [path.relative_to(ctx.run_dir).as_posix() for path in written]
    if warnings:
        # Kept in meta.json's "warnings" when the run ends (see RunContext.extra).
        ctx.extra["warnings"] = warnings
    for warning in warnings:
        _warning(f"run {ctx.run_id}: {warning}")
    details = _details(ctx, storage)
    print(
        format_summary(
            ctx.run_id,
            equilibrium,
            ctx.run_dir,
            details=details,
            per_strategy=per_strategy,
            analyses=tuple(analysis_lines),
        )
    )
