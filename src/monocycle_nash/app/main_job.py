"""The main job: solve one game inside a recorded run, from start to finish.

Flow (database first): read the input far enough to know where runs are recorded,
open the database, prepare the analysis project, start the run (row, folder, input
snapshot, meta.json), then validate the game, solve, write ``output/`` and finish.
Bad input found after the database opened is recorded as a ``fail`` run, so every
attempt is part of the history.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from monocycle_nash import GameError, divergences, parse_game, pure_strategy_payoffs, solve
from monocycle_nash.app.cli import Arguments, parse_arguments
from monocycle_nash.app.command_line import PROGRAM, invoked_command
from monocycle_nash.app.errors import InputError, OutputWriteError, StorageError
from monocycle_nash.app.outputs import write_divergence, write_equilibrium, write_pure_strategy
from monocycle_nash.app.pictures import write_pictures
from monocycle_nash.app.project import prepare_project
from monocycle_nash.app.run_config import (
    InputReading,
    RunInput,
    StorageLocation,
    read_input,
)
from monocycle_nash.app.summary import display_path, format_header, format_summary
from monocycle_nash.examples import DEFAULT_RUN_CONFIG, examples_dir
from monocycle_nash.runmeta import (
    ArtifactWriteError,
    GitCommitProbe,
    RunContext,
    RunMetaError,
    RunSessionService,
    RunTerminated,
)

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
    arguments = parse_arguments(None if argv is None else list(argv))
    return run_main_job(arguments, invoked_command(argv))


def _error(message: str) -> None:
    print(f"{PROGRAM}: error: {message}", file=sys.stderr)


def run_main_job(arguments: Arguments, command: str) -> int:
    """Record and run one solve as described by ``arguments``; return the exit code."""
    input_path = arguments.input or examples_dir() / DEFAULT_RUN_CONFIG
    try:
        reading = read_input(input_path, arguments.root, project_id=arguments.project_id)
        try:
            _check_result_root(reading.storage)
            service = RunSessionService.open(
                arguments.root,
                db_path=reading.storage.db_path,
                result_root=reading.storage.result_root,
                git_probe=_code_commit_probe(arguments.root),
            )
        except (RunMetaError, StorageError) as err:
            _error(str(err))
            return EXIT_FAILURE
        with service:
            return _run(service, reading, arguments, command)
    except KeyboardInterrupt:
        # Before a run exists (a run's own interruption is handled in _run).
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _code_commit_probe(root: Path) -> Callable[[], str | None]:
    """Return a probe of the commit of the code being run, else of the project root.

    The solver's version is what makes a result reproducible, and ``--root`` is often a
    data folder outside any repository, so the checkout holding this package comes first.
    """
    code_probe = GitCommitProbe(Path(__file__).resolve().parent)
    root_probe = GitCommitProbe(root)

    def probe() -> str | None:
        return code_probe() or root_probe()

    return probe


def _check_result_root(storage: StorageLocation) -> None:
    """Refuse, before anything is written, a result folder that cannot be used."""
    root = storage.result_root
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "it" if existing == root else str(existing)
        raise StorageError(f"cannot use result folder {root}: {what} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StorageError(f"cannot use result folder {root}: {existing} is not writable")


def _run(
    service: RunSessionService, reading: InputReading, arguments: Arguments, command: str
) -> int:
    run_input = reading.run_input
    problem: InputError | None = reading.error
    project_id: str | None = None
    if run_input is not None and run_input.project is not None:
        try:
            project_id = prepare_project(service, run_input.project)
        except InputError as err:
            problem = err
    merged = None if run_input is None else run_input.merged_toml
    ctx: RunContext | None = None
    try:
        # record() turns SIGTERM into RunTerminated for as long as the run is open.
        with service.record(
            command,
            project_id=project_id,
            note=arguments.note,
            inputs=reading.files,
            merged_input=merged,
        ) as ctx:
            try:
                if problem is not None:
                    raise problem
                if run_input is None:  # pragma: no cover - read_input sets one of the two
                    raise RuntimeError("input neither read nor refused")
                _solve_and_write(ctx, run_input)
            except (InputError, GameError) as err:
                # Inside the run, so the line also lands in logs/stderr.log.
                _error(str(err))
                raise
            except ArtifactWriteError as err:  # the results themselves (disk full, ...)
                raise OutputWriteError(str(err)) from err
    except (InputError, GameError):
        return EXIT_FAILURE
    except OutputWriteError as err:
        _error(f"{err}{_recorded(ctx, 'fail')}")
        return EXIT_FAILURE
    except (KeyboardInterrupt, RunTerminated) as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        what = "interrupted" if interrupted else "terminated"
        print(f"{PROGRAM}: {what}{_recorded(ctx, 'killed')}", file=sys.stderr)
        return EXIT_INTERRUPTED if interrupted else EXIT_TERMINATED
    except RunMetaError as err:
        # Starting or finishing the record failed; the message says what to repair.
        _error(_record_error_message(err, ctx))
        return EXIT_FAILURE
    except Exception as err:
        # A bug: recorded as fail with its traceback in the run's log; one line here.
        run_id = ctx.run_id if ctx is not None else getattr(err, "failed_run_id", None)
        first_line = next(iter(str(err).splitlines()), "")
        what = f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__
        _error(f"unexpected {what}{_where_recorded(service, run_id)}")
        return EXIT_FAILURE
    return EXIT_SUCCESS


def _record_error_message(err: RunMetaError, ctx: RunContext | None) -> str:
    """The one line for a failure of the record itself, naming the run when there is one."""
    if ctx is not None:
        return f"{err} (run {ctx.run_id})"
    if err.failed_run_id is not None:
        return f"{err} (run {err.failed_run_id} recorded as fail)"
    return str(err)


def _where_recorded(service: RunSessionService, run_id: int | None) -> str:
    """``; run N recorded as fail; traceback in <log>`` for the run an unexpected error ended."""
    if run_id is None:
        return ""
    log = service.store.log_path(run_id)
    where = f"; traceback in {display_path(log)}" if log.parent.is_dir() else ""
    return f"; run {run_id} recorded as fail{where}"


def _recorded(ctx: RunContext | None, status: str) -> str:
    return "" if ctx is None else f"; run {ctx.run_id} recorded as {status}"


def _solve_and_write(ctx: RunContext, run_input: RunInput) -> None:
    game = parse_game(run_input.game, run_input.game_source)
    kind = "monocycle roster" if game.characters is not None else "payoff matrix"
    ctx.extra["game"] = {"source": run_input.game_source, "kind": kind, "size": len(game.labels)}
    game_name = Path(run_input.game_source).name
    # Flushed at once: the user sees the run id while a long solve runs.
    print(format_header(ctx.run_id, game_name, len(game.labels), kind), flush=True)
    equilibrium = solve(game, exact=run_input.exact)
    payoffs = pure_strategy_payoffs(game, equilibrium.column_strategy)
    output_dir = ctx.output_dir
    written = [
        write_equilibrium(output_dir, equilibrium),
        write_pure_strategy(output_dir, game.labels, payoffs),
        write_divergence(output_dir, game.labels, divergences(payoffs)),
        *write_pictures(output_dir, game, equilibrium),
    ]
    ctx.extra["outputs"] = [path.relative_to(ctx.run_dir).as_posix() for path in written]
    ctx.extra["result"] = {
        "support": list(equilibrium.support),
        "value": float(equilibrium.value),
        "exploitability": float(equilibrium.exploitability),
        "solver": equilibrium.solver,
    }
    # `uv run` marks its children; they find the runmeta CLI through uv too.
    runmeta = "uv run runmeta" if "UV_RUN_RECURSION_DEPTH" in os.environ else "runmeta"
    print(format_summary(ctx.run_id, equilibrium, ctx.run_dir, runmeta=runmeta))
