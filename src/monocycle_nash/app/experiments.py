"""An experiment inside a run: its trials, ``trials.csv`` as they finish, the summary.

``output/trials.csv`` gets its header and the reused trials (of a resumed run) first,
then a row per trial as it finishes (flushed, so a killed run keeps every finished
trial); at the end, whatever the end, it is rewritten sorted by trial index, and
``summary.json`` and ``summary.svg`` describe the finished trials. meta.json's
``experiment`` says how many trials were asked for, finished, reused and failed.

Progress goes to stderr: when it is a terminal, a line rewritten in place (trials done /
total, rate, time left; not logged); and every ``LOG_INTERVAL`` seconds at most, a
plain line that the run's log keeps too.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from monocycle_nash.app.errors import ExperimentFailure, OutputWriteError
from monocycle_nash.app.outputs import SCHEMA_VERSION, write_json
from monocycle_nash.app.trial_pool import (
    TrialFailure,
    TrialFunction,
    TrialStopped,
    default_workers,
    run_trials,
)
from monocycle_nash.experiments import (
    ExperimentSettings,
    format_row,
    parse_row,
    run_trial,
    summarise,
    trial_columns,
)
from monocycle_nash.game import Game
from monocycle_nash.plot.experiment_chart import experiment_chart
from monocycle_nash.runmeta import RunContext, write_file_atomically
from monocycle_nash.text import plural

__all__ = [
    "LOG_INTERVAL",
    "SUMMARY_JSON",
    "SUMMARY_SVG",
    "TRIALS_CSV",
    "Reused",
    "read_trials",
    "run_experiment",
]

TRIALS_CSV = "trials.csv"
SUMMARY_JSON = "summary.json"
SUMMARY_SVG = "summary.svg"
LOG_INTERVAL = 10.0
"""Seconds between two progress lines in the log (a line per trial would drown it)."""
_TERMINAL_INTERVAL = 0.2


@dataclass(frozen=True, slots=True)
class Reused:
    """Finished trials taken over from an earlier run of the same experiment."""

    run_id: int
    rows: Mapping[int, dict[str, object]]


def read_trials(path: Path, settings: ExperimentSettings) -> dict[int, dict[str, object]]:
    """The rows of a ``trials.csv`` written for ``settings``, by trial index.

    Raise ``ValueError`` (one line) when the file's header is not this kind's, or a row
    cannot be read or names a trial outside the experiment. A row cut short by a kill
    (the file's last line, without its newline) is left out.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    reader = csv.reader(lines)
    columns = trial_columns(settings.kind)
    header = next(reader, None)
    if header is None or tuple(header) != columns:
        raise ValueError(f"{path}: its header is not that of a {settings.kind} experiment")
    rows: dict[int, dict[str, object]] = {}
    for number, fields in enumerate(reader, start=2):
        try:
            row = parse_row(settings.kind, fields)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path}, line {number}: {err}") from None
        index = row["trial"]
        if not isinstance(index, int) or not 0 <= index < settings.trials:
            raise ValueError(f"{path}, line {number}: trial {index!r} is not in this experiment")
        rows[index] = row
    return rows


def run_experiment(
    ctx: RunContext,
    settings: ExperimentSettings,
    *,
    fixed_game: Game | None = None,
    reused: Reused | None = None,
    trial_function: TrialFunction = run_trial,
) -> list[str]:
    """Run the experiment in ``ctx``'s run; return its summary lines.

    Whatever ends it (the last trial, a failed trial, Ctrl-C or SIGTERM), the finished
    trials are in ``trials.csv`` and summarised before the exception propagates. A failed
    trial (unless ``skip_failed_trials``) raises :class:`ExperimentFailure`.
    """
    tally = _Tally(ctx, settings, fixed_game)
    if reused is not None:
        tally.rows.update(reused.rows)
        tally.reused = len(reused.rows)
    pending = [index for index in range(settings.trials) if index not in tally.rows]
    workers = min(settings.workers or default_workers(), max(1, len(pending)))
    ctx.extra["experiment"] = {
        "kind": settings.kind,
        "trials": settings.trials,
        "workers": workers,
        "resumed_from": None if reused is None else reused.run_id,
        "reused_trials": len(tally.rows),
    }
    print(
        f"Experiment: {plural(settings.trials, 'trial')} of {settings.kind}"
        + ("" if reused is None else f", {len(tally.rows)} reused from run {reused.run_id}")
        + f", {plural(workers, 'worker')}.",
        flush=True,
    )
    progress = _Progress(settings.trials, len(tally.rows), sys.stderr, sys.__stderr__)
    try:
        with _TrialsFile(ctx.output_dir / TRIALS_CSV, trial_columns(settings.kind)) as file:
            for index in sorted(tally.rows):
                file.write(tally.rows[index])

            def on_row(row: dict[str, object]) -> None:
                tally.add(row)
                file.write(row)
                progress.advance()

            def on_failure(failure: TrialFailure) -> None:
                tally.failures.append(failure)
                print(f"warning: {failure.describe()}", file=sys.stderr, flush=True)
                progress.advance()

            run_trials(
                settings,
                pending,
                workers=workers,
                fixed_game=fixed_game,
                on_row=on_row,
                on_failure=on_failure,
                trial_function=trial_function,
            )
    except TrialStopped as err:
        progress.close()
        tally.write_outputs()
        raise ExperimentFailure(
            f"{err}; the {plural(len(tally.rows), 'finished trial')} are in {TRIALS_CSV} "
            "(set skip_failed_trials = true in [experiment] to count failed trials and go on)"
        ) from None
    except BaseException:
        progress.close()
        tally.write_outputs_when_interrupted()
        raise
    progress.close()
    return tally.write_outputs()


@dataclass(slots=True)
class _Tally:
    """The finished and failed trials of a running experiment, and its outputs."""

    ctx: RunContext
    settings: ExperimentSettings
    fixed_game: Game | None
    rows: dict[int, dict[str, object]] = field(default_factory=dict)
    failures: list[TrialFailure] = field(default_factory=list)
    reused: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, row: dict[str, object]) -> None:
        """Keep a finished trial's row."""
        index = row["trial"]
        assert isinstance(index, int)
        self.rows[index] = row

    def write_outputs_when_interrupted(self) -> None:
        """``write_outputs`` while an interruption propagates: a failure to write is one
        line and swallowed, so the interruption still ends the run as killed."""
        try:
            self.write_outputs()
        except Exception as err:
            print(f"warning: the experiment's summary was not written: {err}", file=sys.stderr)

    def write_outputs(self) -> list[str]:
        """Rewrite trials.csv sorted, write summary.json and summary.svg; return the
        summary lines."""
        settings, output_dir = self.settings, self.ctx.output_dir
        seconds = time.monotonic() - self.started
        ordered = [self.rows[index] for index in sorted(self.rows)]
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(trial_columns(settings.kind))
        writer.writerows(format_row(row) for row in ordered)
        write_file_atomically(output_dir / TRIALS_CSV, buffer.getvalue())
        summary = summarise(
            settings,
            ordered,
            failed=[failure.to_json() for failure in self.failures],
            fixed_game=self.fixed_game,
        )
        write_json(output_dir / SUMMARY_JSON, {"schema_version": SCHEMA_VERSION, **summary})
        write_file_atomically(output_dir / SUMMARY_SVG, experiment_chart(summary))
        extra = self.ctx.extra
        experiment = extra["experiment"]
        assert isinstance(experiment, dict)
        experiment.update(
            {"completed": len(ordered), "failed": len(self.failures), "seconds": round(seconds, 3)}
        )
        extra["result"] = _headline(settings, summary)
        self.ctx.metrics.update(extra["result"])
        extra["outputs"] = [f"output/{name}" for name in (TRIALS_CSV, SUMMARY_JSON, SUMMARY_SVG)]
        return _summary_lines(settings, summary, (self.reused, len(self.failures)), seconds)


def _headline(settings: ExperimentSettings, summary: Mapping[str, object]) -> dict[str, object]:
    """The few figures meta.json's ``result`` keeps (and a sweep lists per child)."""
    headline: dict[str, object] = {"completed": summary.get("completed")}
    if settings.kind == "team_spectrum":
        headline["support_3_rate"] = _entry(summary, "support_rates", "equal_3")
        headline["support_at_most_3_rate"] = _entry(summary, "support_rates", "at_most_3")
        headline["gap_support_pearson"] = _entry(summary, "gap_support_correlation", "pearson")
        headline["ratio2_to_1_mean"] = _entry(summary, "ratio2_to_1", "mean")
    else:
        headline["distance"] = settings.distance
        headline["distance_mean"] = _entry(summary, "distance", "mean")
    return headline


def _entry(summary: Mapping[str, object], table: str, key: str) -> object:
    figures = summary.get(table)
    return figures.get(key) if isinstance(figures, Mapping) else None


def _summary_lines(
    settings: ExperimentSettings,
    summary: Mapping[str, object],
    reused_and_failed: tuple[int, int],
    seconds: float,
) -> list[str]:
    reused, failed = reused_and_failed
    completed = summary.get("completed")
    count = completed if isinstance(completed, int) else 0
    new = count - reused
    rate = f" ({new / seconds:.1f} per second)" if seconds > 0 else ""
    what = f"{plural(count, 'trial')}" + (f" ({reused} reused, {new} new)" if reused else "")
    lines = [f"Finished: {what} in {seconds:.1f} s{rate}."]
    if failed:
        lines.append(f"Failed and skipped: {plural(failed, 'trial')} (listed in {SUMMARY_JSON}).")
    headline = _headline(settings, summary)
    if settings.kind == "team_spectrum":
        lines.append(
            f"Support 3 in {_percent(headline['support_3_rate'])} of trials, at most 3 in "
            f"{_percent(headline['support_at_most_3_rate'])}; mean sigma2/sigma1 "
            f"{_figure(headline['ratio2_to_1_mean'])}; correlation of gap and support "
            f"{_figure(headline['gap_support_pearson'])}."
        )
    else:
        lines.append(
            f"Mean {settings.distance}: {_figure(headline['distance_mean'])} "
            f"({settings.method} approximation)."
        )
    return lines


def _percent(value: object) -> str:
    return f"{100 * value:.1f} %" if isinstance(value, float | int) else "n/a"


def _figure(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float | int) else "n/a"


class _TrialsFile:
    """``trials.csv`` opened for appending rows as trials finish (each row flushed).

    A failure to write (a full disk) is an :class:`OutputWriteError`: the run fails
    with one line naming the file.
    """

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.path = path
        self.columns = columns
        self.handle: TextIO | None = None

    def __enter__(self) -> _TrialsFile:
        try:
            handle = self.path.open("w", encoding="utf-8", newline="")
        except OSError as err:
            raise self._error(err) from err
        self.handle = handle
        self.writer = csv.writer(handle, lineterminator="\n")
        self._write_line(self.columns)
        return self

    def write(self, row: Mapping[str, object]) -> None:
        """Append one row and flush it to the operating system."""
        self._write_line(format_row(row))

    def _write_line(self, fields: Sequence[str]) -> None:
        assert self.handle is not None
        try:
            self.writer.writerow(fields)
            self.handle.flush()
        except OSError as err:
            raise self._error(err) from err

    def _error(self, err: OSError) -> OutputWriteError:
        return OutputWriteError(f"{self.path}: cannot write: {err.strerror or err}")

    def __exit__(self, *exc_info: object) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):  # the write that failed already said so
                self.handle.close()


class _Progress:
    """Trials done / total, rate and time left on stderr (see the module docstring)."""

    def __init__(self, total: int, done: int, log: TextIO, terminal: TextIO | None) -> None:
        self.total = total
        self.done = done
        self.first = done
        self.log = log
        self.terminal = terminal if terminal is not None and _is_terminal(terminal) else None
        self.started = time.monotonic()
        self.last_log = self.started
        self.last_terminal = 0.0
        self.shown = False

    def advance(self) -> None:
        """One more trial ended; show it if it is time."""
        self.done += 1
        now = time.monotonic()
        if self.terminal is not None and now - self.last_terminal >= _TERMINAL_INTERVAL:
            self.last_terminal = now
            self.terminal.write("\r" + self._line(now) + "\x1b[K")
            self.terminal.flush()
            self.shown = True
        if now - self.last_log >= LOG_INTERVAL:
            self.last_log = now
            self._clear()
            print(self._line(now), file=self.log, flush=True)

    def close(self) -> None:
        """Remove the line rewritten in place."""
        self._clear()

    def _clear(self) -> None:
        if self.terminal is not None and self.shown:
            self.terminal.write("\r\x1b[K")
            self.terminal.flush()
            self.shown = False

    def _line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = (self.done - self.first) / elapsed
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = "" if left is None else f", about {_duration(left)} left"
        return f"progress: {self.done:,}/{self.total:,} trials, {rate:.1f} per second{eta}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
