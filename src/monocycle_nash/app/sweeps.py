"""A sweep inside a run: one child run per (condition, seed), then ``sweep.csv``.

The sweep's run is the *parent*. For every (condition, seed) it writes a run config
into ``output/children/`` (the merged input without ``[sweep]``, with that condition's
``[experiment]`` and seed) and runs it as an ordinary main job in a process of its own,
``python -m monocycle_nash.app CONFIG --root ROOT --parent ID``: each child has its own
run id, folder, input snapshot, outputs and logs, and can just as well be run by hand
or on another machine that shares the database and result folder.

``output/sweep.csv`` (rewritten after every child) has one row per child: condition,
seed, run id, status, whether it was reused, and the child's headline figures;
``output/sweep.svg`` compares the conditions. Children run one after the other (each
uses every core for its trials). A failed child does not stop the sweep; the parent
fails at the end, naming it. Ctrl-C or SIGTERM reaches the running child (which ends
itself ``killed``), then the parent writes what finished and ends ``killed``.

``--resume ID`` of a sweep: the children of run ID are matched to the conditions by
their stored experiment settings; a ``success`` child is reused as it is, a child that
ended otherwise is resumed (``--resume CHILD``, reusing its finished trials), and a
condition without a child runs afresh.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import monocycle_nash
from monocycle_nash.app.errors import ExperimentFailure, InputError
from monocycle_nash.app.resume import experiment_of, same_experiment
from monocycle_nash.app.run_config import RunInput
from monocycle_nash.app.sweep_settings import SweepCondition
from monocycle_nash.experiments import ExperimentSettings
from monocycle_nash.plot.experiment_chart import SWEEP_FIGURES, sweep_chart
from monocycle_nash.runmeta import (
    URL_VARIABLE,
    RunContext,
    RunMetaError,
    RunSessionService,
    write_file_atomically,
)
from monocycle_nash.text import plural
from monocycle_nash.toml_writer import dumps

__all__ = ["CHILDREN_DIR", "SWEEP_CSV", "SWEEP_SVG", "run_sweep"]

SWEEP_CSV = "sweep.csv"
SWEEP_SVG = "sweep.svg"
CHILDREN_DIR = "children"
_INTERRUPT_GRACE = 5.0  # seconds a child gets to end on the Ctrl-C it got too
_TERMINATE_WAIT = 60.0  # seconds a child gets to record its end after SIGTERM
_BASE_COLUMNS = ("condition", "seed", "run_id", "status", "reused")
_ERROR_PREFIX = re.compile(r"^[\w.-]+: (?:error|warning): ")


@dataclass(slots=True)
class _Child:
    """One (condition, seed) of the sweep and what became of it."""

    condition: SweepCondition
    seed: int
    settings: ExperimentSettings
    run_id: int | None = None
    status: str = "not run"
    reused: bool = False
    headline: Mapping[str, object] | None = None
    reason: str = ""

    def describe(self) -> str:
        """``condition '6 characters', seed 2``."""
        return f"condition {self.condition.name!r}, seed {self.seed}"


def run_sweep(
    ctx: RunContext,
    run_input: RunInput,
    *,
    service: RunSessionService,
    root: Path,
    resume: int | None,
) -> list[str]:
    """Run every child of the sweep in ``ctx``'s run; return the summary lines.

    Raise :class:`ExperimentFailure` when a child did not succeed; an interruption
    propagates after the running child ended and sweep.csv was written.
    """
    sweep = run_input.sweep
    assert sweep is not None
    children = [_Child(condition, seed, settings) for condition, seed, settings in sweep.children()]
    earlier = {} if resume is None else _earlier_children(service, resume, children)
    configs = _write_child_configs(ctx, run_input, children)
    ctx.extra["sweep"] = {
        "conditions": [condition.name for condition in sweep.conditions],
        "seeds": list(sweep.seeds),
        "resumed_from": resume,
    }
    print(
        f"Sweep: {plural(len(sweep.conditions), 'condition')} x "
        f"{plural(len(sweep.seeds), 'seed')} = {plural(len(children), 'child run')}.",
        flush=True,
    )
    try:
        for number, (child, config) in enumerate(zip(children, configs, strict=True), start=1):
            found = earlier.get(id(child))
            if found is not None and found[1] == "success":
                child.run_id, child.status, child.reused = found[0], "success", True
                child.headline = _headline_of(service, found[0])
            else:
                command = _child_command(ctx, root, child, config, found)
                _run_child(ctx, service, child, command)
            print(f"[{number}/{len(children)}] {_child_line(child)}", flush=True)
            _write_outputs(ctx, children)
    except BaseException:
        try:
            _write_outputs(ctx, children)
        except Exception as err:  # the interruption, not this, ends the run
            print(f"warning: {SWEEP_CSV} was not written: {err}", file=sys.stderr)
        raise
    failed = [child for child in children if child.status != "success"]
    if failed:
        first = failed[0]
        run = "no run" if first.run_id is None else f"run {first.run_id}"
        raise ExperimentFailure(
            f"{plural(len(failed), 'child run')} of the sweep did not succeed; the first: "
            f"{first.describe()} ({run}) ended {first.status}"
            + (f": {first.reason}" if first.reason else "")
            + f" (see {SWEEP_CSV}; --resume {ctx.run_id} reruns what did not succeed)"
        )
    reused = sum(child.reused for child in children)
    return [
        f"Children: {plural(len(children), 'run')} succeeded"
        + (f" ({reused} reused from run {resume})" if reused else "")
        + f"; figures per child in output/{SWEEP_CSV}."
    ]


def _write_child_configs(
    ctx: RunContext, run_input: RunInput, children: Sequence[_Child]
) -> list[Path]:
    """One run config per child under ``output/children/``, from the merged input."""
    assert run_input.merged_toml is not None
    base = tomllib.loads(run_input.merged_toml.decode("utf-8"))
    base.pop("sweep", None)
    base.pop("sources", None)
    folder = ctx.output_dir / CHILDREN_DIR
    folder.mkdir(exist_ok=True)
    paths = []
    for number, child in enumerate(children, start=1):
        table = {**base, "experiment": child.settings.to_table()}
        name = f"{number:03d}-{_slug(child.condition.name)}-seed{child.seed}.toml"
        header = (
            f"# Child {number} of sweep run {ctx.run_id}: {child.describe()}.\n"
            "# An ordinary run config: python src/main.py THIS_FILE --parent "
            f"{ctx.run_id} runs it.\n"
        )
        path = folder / name
        write_file_atomically(path, header + dumps(table))
        paths.append(path)
    return paths


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40] or "condition"


def _child_command(
    ctx: RunContext, root: Path, child: _Child, config: Path, earlier: tuple[int, str] | None
) -> list[str]:
    """The main job's command line for one child (``--resume`` an earlier attempt)."""
    command = [
        sys.executable,
        "-m",
        "monocycle_nash.app",
        str(config),
        "--root",
        str(root.resolve()),
        "--parent",
        str(ctx.run_id),
        "--note",
        f"sweep run {ctx.run_id}: {child.condition.name}, seed {child.seed}",
    ]
    if earlier is not None:
        command += ["--resume", str(earlier[0])]
    return command


def _run_child(
    ctx: RunContext, service: RunSessionService, child: _Child, command: list[str]
) -> None:
    """Run one child as its own process and read back what it recorded.

    Its output goes to temporary files, not pipes: a pipe would stay open as long as any
    process holding it lives, and the parent must not wait on a grandchild.
    """
    before = {record.run_id for record in service.runs.list_children(ctx.run_id)}
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errors:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=errors, env=_child_environment(service)
        )
        try:
            process.wait()
        except BaseException as err:
            _stop(process, interrupted=isinstance(err, KeyboardInterrupt))
            _read_back(service, ctx.run_id, before, child, "")
            raise
        errors.seek(0)
        _read_back(service, ctx.run_id, before, child, errors.read())


def _child_environment(service: RunSessionService) -> dict[str, str]:
    """This environment, with the folder holding this package first on ``PYTHONPATH``:
    ``python -m monocycle_nash.app`` then finds it even when the sweep itself was
    started as ``python src/main.py`` outside an installation. A sweep recorded on a
    PostgreSQL server hands its URL (password included, which the children's merged
    input leaves out) to the children in ``RUNMETA_DATABASE_URL``."""
    package_parent = str(Path(monocycle_nash.__file__).resolve().parent.parent)
    environment = dict(os.environ)
    url = service.database_url
    if url is not None:
        environment[URL_VARIABLE] = url.secret
    paths = [package_parent, *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return environment


def _stop(process: subprocess.Popen[bytes], *, interrupted: bool) -> None:
    """Let the child end itself: it had Ctrl-C too, or gets SIGTERM; kill it at last."""
    if interrupted:
        try:
            process.wait(_INTERRUPT_GRACE)
            return
        except subprocess.TimeoutExpired:
            pass
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(_TERMINATE_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _read_back(
    service: RunSessionService, parent: int, before: set[int], child: _Child, errors: str
) -> None:
    """The child's run id, status, reason and headline, from the database and meta.json.

    A child whose process has ended while its row still says ``running`` died without
    recording its end (SIGKILL, the out-of-memory killer): its process is known to be
    gone (it was waited for), so it is recorded ``killed`` here, as ``runmeta reap``
    would.
    """
    try:
        new = [r for r in service.runs.list_children(parent) if r.run_id not in before]
    except RunMetaError as err:
        child.status, child.reason = "unknown", str(err)
        return
    if not new:
        child.status = "not recorded"
        child.reason = _last_line(errors) or "the child process recorded no run"
        return
    record = new[-1]
    if record.status == "running":
        reason = "its process ended without recording its end (killed by a signal?)"
        try:
            record = service.edits.update_run(
                record.run_id, status="killed", reason=reason, expected_status="running"
            )
        except RunMetaError as err:
            child.reason = str(err)
    child.run_id, child.status = record.run_id, record.status
    child.headline = _headline_of(service, record.run_id)
    if record.status != "success" and not child.reason:
        child.reason = _last_line(errors)


def _last_line(text: str) -> str:
    """The last line the child printed, without the main job's ``monocycle-nash: error:``."""
    lines = [line for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return _ERROR_PREFIX.sub("", last)


def _headline_of(service: RunSessionService, run_id: int) -> Mapping[str, object] | None:
    """The ``result`` the child's experiment left in its meta.json."""
    try:
        meta = json.loads(service.store.meta_path(run_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    result = meta.get("result") if isinstance(meta, dict) else None
    return result if isinstance(result, dict) else None


def _earlier_children(
    service: RunSessionService, parent: int, children: Sequence[_Child]
) -> dict[int, tuple[int, str]]:
    """For each child (by ``id()``), the earlier sweep's child of the same experiment:
    its run id and status, a ``success`` first, else the latest.

    The earlier sweep's children are its own child runs and the ones it reused itself
    (listed in its meta.json), so a resumed sweep resumed again reuses them all.
    """
    candidates = {record.run_id: record.status for record in service.runs.list_children(parent)}
    for run_id in _reused_by(service, parent):
        try:
            candidates.setdefault(run_id, service.runs.get(run_id).status)
        except RunMetaError:
            continue  # deleted since: not reused
    found: dict[int, tuple[int, str]] = {}
    for run_id, status in sorted(candidates.items()):
        if status == "running":
            continue
        try:
            settings = experiment_of(service, run_id)
        except (InputError, RunMetaError):
            continue  # a child whose input cannot be read is not reused: it runs again
        for child in children:
            if same_experiment(settings, child.settings):
                kept = found.get(id(child))
                if kept is None or kept[1] != "success":
                    found[id(child)] = (run_id, status)
    return found


def _reused_by(service: RunSessionService, parent: int) -> list[int]:
    """The run ids the sweep ``parent`` lists as its children in its meta.json."""
    try:
        meta = json.loads(service.store.meta_path(parent).read_text(encoding="utf-8"))
        listed = meta["sweep"]["children"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(listed, list):
        return []
    return [
        entry["run_id"]
        for entry in listed
        if isinstance(entry, dict) and isinstance(entry.get("run_id"), int)
    ]


def _child_line(child: _Child) -> str:
    run = "" if child.run_id is None else f"run {child.run_id} "
    what = "reused" if child.reused else child.status
    figures = _figures_text(child.headline)
    reason = f": {child.reason}" if child.reason and child.status != "success" else ""
    return f"{child.describe()}: {run}{what}{reason}{figures}"


def _figures_text(headline: Mapping[str, object] | None) -> str:
    """`` (50 trials, support_3_rate 0.52)``: the child's count and compared figure."""
    if not headline:
        return ""
    completed = headline.get("completed")
    shown = [plural(completed, "trial")] if isinstance(completed, int) else []
    shown += [
        f"{key} {value:.4g}"
        for key, _ in SWEEP_FIGURES
        if isinstance(value := headline.get(key), int | float)
    ]
    return f" ({', '.join(shown)})" if shown else ""


def _headline_columns(children: Sequence[_Child]) -> list[str]:
    columns: list[str] = []
    for child in children:
        for key in child.headline or {}:
            if key not in columns:
                columns.append(key)
    return columns


def _write_outputs(ctx: RunContext, children: Sequence[_Child]) -> None:
    """sweep.csv, sweep.svg and the parent's meta.json figures, from the children so far."""
    figures = _headline_columns(children)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*_BASE_COLUMNS, *figures])
    for child in children:
        headline = child.headline or {}
        writer.writerow(
            [
                child.condition.name,
                child.seed,
                "" if child.run_id is None else child.run_id,
                child.status,
                "true" if child.reused else "false",
                *(_cell(headline.get(key)) for key in figures),
            ]
        )
    output_dir = ctx.output_dir
    write_file_atomically(output_dir / SWEEP_CSV, buffer.getvalue())
    rows = [
        {
            "condition": child.condition.name,
            "seed": child.seed,
            "status": child.status,
            "headline": dict(child.headline or {}),
        }
        for child in children
    ]
    write_file_atomically(output_dir / SWEEP_SVG, sweep_chart(rows))
    sweep = ctx.extra.setdefault("sweep", {})
    sweep["children"] = [
        {
            "condition": child.condition.name,
            "seed": child.seed,
            "run_id": child.run_id,
            "status": child.status,
            "reused": child.reused,
        }
        for child in children
    ]
    ctx.extra["result"] = {
        "children": len(children),
        "succeeded": sum(child.status == "success" for child in children),
        "reused": sum(child.reused for child in children),
    }
    ctx.metrics.update(ctx.extra["result"])
    ctx.extra["outputs"] = [f"output/{SWEEP_CSV}", f"output/{SWEEP_SVG}", f"output/{CHILDREN_DIR}"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)
