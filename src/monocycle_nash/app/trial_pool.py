"""Run an experiment's trials in worker processes; report each finished trial at once.

Trials are independent and seeded from ``(seed, trial index)``, so they can run in any
order on any number of processes with the same results. The pool
(``concurrent.futures.ProcessPoolExecutor`` over *spawned* processes: a fork would copy
the run's open database connection and output-capture threads) gets chunks of a few
trials, at most two chunks per worker in flight, so an interruption wastes little and
memory stays flat. Workers ignore SIGINT: Ctrl-C reaches the whole process group, and
only this process decides what happens (it stops the pool and terminates the workers);
SIGINT stays blocked while a worker is spawned, so none sees it before it ignores it.
Workers die with this process (Linux's parent-death signal): a main job killed by
SIGKILL or the out-of-memory killer leaves no worker waiting on its queue forever.

A trial that raises is reported with its index and seed. A worker that dies (a crash,
the out-of-memory killer) breaks the pool; the finished chunks are kept, and the trials
that were in flight are run again one at a time in a pool of one worker (a new one only
after a death), so the trial that kills its process is found and reported like a trial
that raised, and the others are not lost. ``workers = 1`` runs the trials in this
process, without a pool: a trial that kills its process kills the run (which
``runmeta reap`` then ends as ``killed``).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.process
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass

from monocycle_nash.experiments import ExperimentSettings, run_trial, trial_seed
from monocycle_nash.game import Game

__all__ = ["TrialFailure", "TrialFunction", "TrialStopped", "default_workers", "run_trials"]

TrialFunction = Callable[[ExperimentSettings, int, Game | None], dict[str, object]]
"""``run_trial``'s signature: (settings, trial index, fixed game) -> one trials.csv row."""

_CHUNKS_PER_WORKER = 16  # aim: each worker gets this many chunks of the whole experiment
_LARGEST_CHUNK = 64
_IN_FLIGHT_PER_WORKER = 2
_TERMINATE_WAIT = 5.0  # seconds a terminated worker gets to exit before it is killed
_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


@dataclass(frozen=True, slots=True)
class TrialFailure:
    """A trial that raised, or whose worker process died while it ran."""

    trial: int
    trial_seed: int
    error: str

    def describe(self) -> str:
        """``trial 17 (seed 123...) failed: ZeroDivisionError: ...``."""
        return f"trial {self.trial} (trial seed {self.trial_seed}) failed: {self.error}"

    def to_json(self) -> dict[str, object]:
        """The failure as summary.json lists it."""
        return {"trial": self.trial, "trial_seed": self.trial_seed, "error": self.error}


class TrialStopped(Exception):
    """A trial failed and failed trials are not skipped: the experiment stops."""

    def __init__(self, failure: TrialFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def default_workers() -> int:
    """The machine's cores available to this process (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_trials(
    settings: ExperimentSettings,
    indices: Sequence[int],
    *,
    workers: int,
    fixed_game: Game | None,
    on_row: Callable[[dict[str, object]], None],
    on_failure: Callable[[TrialFailure], None],
    trial_function: TrialFunction = run_trial,
) -> None:
    """Run the trials ``indices``; call ``on_row`` with each finished row (in this
    process, in the order they finish) and ``on_failure`` with each failed trial.

    With ``settings.skip_failed_trials`` false the first failure raises
    :class:`TrialStopped` after ``on_failure``. ``workers = 1`` runs the trials in this
    process. An interruption (``KeyboardInterrupt``, or the run's SIGTERM exception)
    stops the workers and propagates; the rows reported so far are what finished.
    """

    def report(results: list[_Result]) -> None:
        for index, row, error in results:
            if row is not None:
                on_row(row)
            else:
                failure = TrialFailure(index, trial_seed(settings.seed, index), error or "")
                on_failure(failure)
                if not settings.skip_failed_trials:
                    raise TrialStopped(failure)

    if not indices:
        return
    if workers <= 1:
        for index in indices:
            report(_run_chunk(trial_function, settings, fixed_game, (index,)))
        return
    size = max(1, min(_LARGEST_CHUNK, len(indices) // (workers * _CHUNKS_PER_WORKER)))
    chunks = deque(tuple(indices[at : at + size]) for at in range(0, len(indices), size))
    job = _Job(settings, fixed_game, trial_function, report)
    while chunks:
        suspects = _run_in_pool(job, chunks, workers)
        if suspects:
            # One at a time in a pool of one: a trial that kills its worker is found.
            _isolate(job, deque(suspects))


@dataclass(frozen=True, slots=True)
class _Job:
    """What every chunk of one experiment is run with, and where its results go."""

    settings: ExperimentSettings
    fixed_game: Game | None
    trial_function: TrialFunction
    report: Callable[[list[_Result]], None]

    def submit(self, pool: ProcessPoolExecutor, chunk: tuple[int, ...]) -> Future[list[_Result]]:
        """Submit a chunk with SIGINT blocked: a worker spawned by this submit inherits
        the mask, so Ctrl-C cannot reach it before it ignores SIGINT."""
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return pool.submit(
                _run_chunk, self.trial_function, self.settings, self.fixed_game, chunk
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _run_in_pool(job: _Job, chunks: deque[tuple[int, ...]], workers: int) -> list[int]:
    """Run chunks until none is left, or until a worker dies: then return the trials
    whose results were lost with it (the others finished are reported)."""
    with _worker_pool(min(workers, len(chunks))) as pool:
        in_flight: dict[Future[list[_Result]], tuple[int, ...]] = {}
        while chunks or in_flight:
            while chunks and len(in_flight) < _IN_FLIGHT_PER_WORKER * workers:
                chunk = chunks.popleft()
                try:
                    in_flight[job.submit(pool, chunk)] = chunk
                except BrokenProcessPool:  # a worker died since the last wait
                    return [*chunk, *_salvage(job, in_flight)]
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            lost: list[int] = []
            for future in done:
                chunk = in_flight.pop(future)
                try:
                    results = future.result()
                except BrokenProcessPool:
                    lost.extend(chunk)
                    continue
                job.report(results)
            if lost:
                return [*lost, *_salvage(job, in_flight)]
    return []


def _salvage(job: _Job, in_flight: dict[Future[list[_Result]], tuple[int, ...]]) -> list[int]:
    """Report the chunks of a broken pool that had finished; return the others' trials."""
    lost: list[int] = []
    for future, chunk in in_flight.items():
        if future.done() and future.exception() is None:
            job.report(future.result())
        else:
            lost.extend(chunk)
    return lost


def _isolate(job: _Job, suspects: deque[int]) -> None:
    """Run each suspect trial alone in a one-worker pool (a new pool only after a
    death); a trial whose worker dies is reported as failed."""
    while suspects:
        with _worker_pool(1) as pool:
            while suspects:
                index = suspects[0]
                try:
                    results = job.submit(pool, (index,)).result()
                except BrokenProcessPool:
                    suspects.popleft()
                    job.report([(index, None, "its worker process died (a crash or a kill)")])
                    break
                suspects.popleft()
                job.report(results)


_Result = tuple[int, dict[str, object] | None, str | None]


def _run_chunk(
    trial_function: TrialFunction,
    settings: ExperimentSettings,
    fixed_game: Game | None,
    indices: Sequence[int],
) -> list[_Result]:
    """Run trials in a worker; a trial that raises gives its error's first line."""
    results: list[_Result] = []
    for index in indices:
        try:
            results.append((index, trial_function(settings, index, fixed_game), None))
        except Exception as err:  # a trial's failure is data: reported with its seed
            first_line = next(iter(str(err).splitlines()), "")
            what = f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__
            results.append((index, None, what))
    return results


def _worker_start(parent: int) -> None:
    """Worker start-up: ignore Ctrl-C (the parent handles it and stops the workers) and
    die with the parent (SIGKILL or the out-of-memory killer leave no orphan waiting on
    its queue forever: Linux's parent-death signal)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


@contextmanager
def _worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of spawned workers; on any exception its workers are stopped at once."""
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_start,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _stop(set(multiprocessing.active_children()) - before)
        raise
    pool.shutdown(wait=True)


def _stop(workers: set[multiprocessing.process.BaseProcess]) -> None:
    """Terminate the pool's worker processes and wait for them (kill stragglers)."""
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(_TERMINATE_WAIT)
        if worker.is_alive():
            worker.kill()
            worker.join()
