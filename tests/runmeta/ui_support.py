"""A small recorded history and an HTTP client for the run browser's tests."""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.service import RunSessionService
from monocycle_nash.runmeta.ui.server import UiServer, running

NOTE = "<script>alert(1)</script>"
"""Run 1's note: a browser must show it as text."""
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" viewBox="0 0 120 80">'
    '<rect width="120" height="80" fill="#36c"/>'
    "<script>alert('svg')</script></svg>"
)
OUTSIDE_TEXT = "the secret outside every run folder"


@dataclass(frozen=True)
class History:
    """Where the test history lives."""

    root: Path
    db_path: Path
    result_root: Path


def make_history(root: Path) -> History:
    """Runs 1-4 under ``root``.

    1: success, note :data:`NOTE`, project ``study``, a picture, a JSON output, figures,
    logs, an input, and ``output/escape.txt``, a symbolic link to a file outside;
    2: fail (``boom & <b>``), child of run 1; 3: success with another picture value;
    4: success whose folder was replaced by a symbolic link to a folder outside.
    """
    db_path = root / ".runmeta" / "run_history.db"
    result_root = root / "result"
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE_TEXT)
    (outside / "meta.json").write_text("{}")
    (root / "analysis").mkdir()
    game = root / "game.toml"
    game.write_text('labels = ["a", "b"]\nmatrix = [[0.0, 1.0], [-1.0, 0.0]]\n')
    with RunSessionService.open(
        root,
        db_path=db_path,
        result_root=result_root,
        clock=FixedClock("2026-02-14T19:30:12+09:00", step=10),
        git_probe=lambda: "abc123",
    ) as service:
        service.ensure_project("study", root / "analysis")
        first = service.start("solve game.toml", "study", NOTE, input_path=game)
        (first.output_dir / "picture.svg").write_text(SVG)
        (first.output_dir / "result.json").write_text(
            json.dumps({"labels": ["a", "b"], "weights": [0.25, 0.75], "value": 0.5})
        )
        (first.logs_dir / "stdout.log").write_text("solving\n" + "line\n" * 3 + "done\n")
        (first.output_dir / "escape.txt").symlink_to(outside / "secret.txt")
        first.metrics["value"] = 0.5
        first.metrics["solver"] = "lp"
        service.finish_success(first)
        child = service.start("solve child", note="boom & <b>", parent_run_id=first.run_id)
        service.finish_fail(child, "ValueError: boom")
        third = service.start("solve again", "study", "second look", input_path=game)
        (third.output_dir / "picture.svg").write_text(SVG.replace("#36c", "#c63"))
        (third.output_dir / "result.json").write_text(
            json.dumps({"labels": ["a", "b"], "weights": [0.5, 0.5], "value": 0.0})
        )
        third.metrics["value"] = 0.0
        service.finish_success(third)
        fourth = service.start("solve elsewhere", note="moved folder")
        service.finish_success(fourth)
    moved = result_root / str(fourth.run_id)
    shutil.rmtree(moved)
    moved.symlink_to(outside, target_is_directory=True)
    return History(root, db_path, result_root)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8")


class Client:
    """Requests to one server, each on a fresh connection."""

    def __init__(self, server: UiServer) -> None:
        self.port = server.server_address[1]

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Answer:
        """Send ``method path`` as given (no normalisation) and read the whole answer."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            connection.close()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        """GET ``path``."""
        return self.request("GET", path, headers)


@contextmanager
def serving(history: History) -> Iterator[Client]:
    """Serve ``history`` on a free port of 127.0.0.1 while the block runs."""
    with running(history.db_path, history.result_root) as server:
        yield Client(server)
