"""Request handling of ``runmeta ui`` over HTTP: routing, escaping, refusals, headers.

A server on a free port of 127.0.0.1 in a thread, asked with ``http.client`` (which
sends a path exactly as given, ``..`` included).
"""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.ui.server import FILE_POLICY, PAGE_POLICY, running
from tests.runmeta.ui_support import NOTE, OUTSIDE_TEXT, Client, History, make_history, serving


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Runs 1-4 of ``make_history``, shared by the module's tests (they only read)."""
    return make_history(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="module")
def client(history: History) -> Iterator[Client]:
    """A client of a server over the module's history."""
    with serving(history) as connected:
        yield connected


# --- routing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", id="runs"),
        pytest.param("/runs", id="runs-alias"),
        pytest.param("/runs/1", id="run"),
        pytest.param("/compare?run=1&run=3", id="compare"),
        pytest.param("/projects", id="projects"),
    ],
)
def test_pages_answer_html_with_their_policy(client: Client, path: str) -> None:
    """Each page is HTML, 200, with the no-script policy, nosniff and no caching."""
    answer = client.get(path)
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src" not in PAGE_POLICY and "default-src 'none'" in PAGE_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["server-timing"].startswith("app;dur=")
    assert answer.text.startswith("<!DOCTYPE html>")
    assert "<script" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/nope", id="unknown-page"),
        pytest.param("/runs/99", id="unknown-run"),
        pytest.param("/runs/0", id="run-zero"),
        pytest.param("/runs/abc", id="not-an-id"),
        pytest.param("/runs/1/", id="trailing-slash"),
        pytest.param("/runs/1/files/output/missing.json", id="missing-file"),
        pytest.param("/runs/99/files/meta.json", id="file-of-unknown-run"),
        pytest.param("/static/other.css", id="unknown-static"),
    ],
)
def test_unknown_addresses_answer_404(client: Client, path: str) -> None:
    """Anything that is not a page, a run or a file of a run folder is a 404 page."""
    answer = client.get(path)
    assert answer.status == 404
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "Not found" in answer.text


def test_stylesheet_is_served(client: Client) -> None:
    """/static/style.css is the one stylesheet, as text/css."""
    answer = client.get("/static/style.css")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert b".status-fail" in answer.body


# --- methods --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"])
def test_methods_other_than_get_and_head_answer_405(client: Client, method: str) -> None:
    """Nothing changes state: every other method, even an unknown one, is 405 with Allow."""
    answer = client.request(method, "/runs/1")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, HEAD"


def test_head_answers_the_headers_of_get_without_a_body(client: Client) -> None:
    """HEAD of a page and of a file: status, type and length as GET, empty body."""
    for path in ("/runs/1", "/runs/1/files/output/picture.svg"):
        got, head = client.get(path), client.request("HEAD", path)
        assert (head.status, head.body) == (200, b"")
        assert head.headers["content-type"] == got.headers["content-type"]
    svg = client.request("HEAD", "/runs/1/files/output/picture.svg")
    assert int(svg.headers["content-length"]) == len(
        client.get("/runs/1/files/output/picture.svg").body
    )


# --- escaping -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/runs/1", "/compare?run=1&run=2", "/runs/2"])
def test_text_from_the_history_is_escaped(client: Client, path: str) -> None:
    """A note like <script>alert(1)</script> (and b-tags in another) shows as text."""
    body = client.get(path).text
    assert NOTE not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body or "boom &amp; &lt;b&gt;" in body


def test_filter_values_are_escaped_in_the_form(client: Client) -> None:
    """A search text is put back into its field escaped, never as markup."""
    body = client.get("/?q=%22%3E%3Cscript%3Ex%3C%2Fscript%3E").text
    assert '"><script>' not in body
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in body


# --- files of a run folder ------------------------------------------------------------


def test_svg_is_served_as_an_image_without_scripts(client: Client) -> None:
    """A run's SVG: image/svg+xml, a sandboxing policy with no script, nosniff."""
    answer = client.get("/runs/1/files/output/picture.svg")
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    policy = answer.headers["content-security-policy"]
    assert policy == FILE_POLICY
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body.startswith(b"<svg")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("/runs/1/files/output/result.json", "application/json", id="json"),
        pytest.param("/runs/1/files/logs/stdout.log", "text/plain; charset=utf-8", id="log"),
        pytest.param("/runs/1/files/input/game.toml", "text/plain; charset=utf-8", id="input"),
        pytest.param("/runs/1/files/meta.json", "application/json", id="meta"),
    ],
)
def test_run_files_are_served_with_their_type(client: Client, path: str, kind: str) -> None:
    """Files of a run folder come as they are stored, typed by suffix, never as HTML."""
    answer = client.get(path)
    assert (answer.status, answer.headers["content-type"]) == (200, kind)
    assert answer.headers["content-security-policy"] == FILE_POLICY


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/runs/1/files/../../outside/secret.txt", id="dot-dot"),
        pytest.param("/runs/1/files/output/../../2/meta.json", id="dot-dot-to-another-run"),
        pytest.param("/runs/1/files/%2e%2e/%2e%2e/outside/secret.txt", id="encoded-dot-dot"),
        pytest.param("/runs/1/files/..%2f..%2foutside%2fsecret.txt", id="encoded-slash"),
        pytest.param("/runs/1/files//etc/passwd", id="absolute"),
        pytest.param("/runs/1/files/%2fetc%2fpasswd", id="encoded-absolute"),
        pytest.param("/runs/1/files/output\\..\\..\\outside", id="backslashes"),
        pytest.param("/runs/1/files/output/picture.svg%00.txt", id="nul"),
        pytest.param("/runs/1/files/./meta.json", id="dot"),
        pytest.param("/runs/1/files/output/escape.txt", id="symlink-out"),
        pytest.param("/runs/1/files/output", id="a-folder"),
        pytest.param("/runs/1/files/", id="empty"),
        pytest.param("/runs/4/files/secret.txt", id="symlinked-run-folder"),
        pytest.param("/runs/4/files/meta.json", id="symlinked-run-folder-meta"),
    ],
)
def test_paths_out_of_a_run_folder_are_refused(client: Client, path: str) -> None:
    """Traversal, absolute paths, NULs and symbolic links out of the folder: 404, nothing leaks."""
    answer = client.get(path)
    assert answer.status == 404
    assert OUTSIDE_TEXT not in answer.text
    assert "root:" not in answer.text


# --- pages ----------------------------------------------------------------------------


def test_runs_page_lists_runs_newest_first_with_status_text(client: Client) -> None:
    """Runs 4, 3, 2, 1 in that order, each with a link, its status as text and colour class."""
    body = client.get("/").text
    positions = [body.index(f'href="/runs/{run_id}"') for run_id in (4, 3, 1)]
    assert positions == sorted(positions)
    assert 'class="status status-fail">fail<' in body
    assert "4 runs in the history" in body
    assert "ValueError: boom" in body  # the reason of the failed run


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        pytest.param("status=fail", [2], [1, 3, 4], id="status"),
        pytest.param("project=study", [1, 3], [2, 4], id="project"),
        pytest.param("q=AGAIN", [3], [1, 2, 4], id="search-command"),
        pytest.param("q=boom", [2], [1, 3, 4], id="search-reason"),
        pytest.param("parent=1", [2], [1, 3, 4], id="children"),
        pytest.param("where=value%3C0.1", [3], [1, 2, 4], id="figures"),
        pytest.param("from=2026-02-14T19:30:50&to=2026-02-14", [3, 4], [1, 2], id="dates"),
        pytest.param("from=2026-02-14&to=2026-02-14T19:30:42", [1, 2], [3, 4], id="dates-to"),
    ],
)
def test_runs_page_filters(client: Client, query: str, shown: list[int], hidden: list[int]) -> None:
    """The form's filters are list-runs' filters, combined."""
    body = client.get(f"/?{query}").text
    for run_id in shown:
        assert f'aria-label="compare run {run_id}"' in body
    for run_id in hidden:
        assert f'aria-label="compare run {run_id}"' not in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("from=yesterday", "is not a date", id="bad-date"),
        pytest.param("status=done", "unknown status", id="bad-status"),
        pytest.param("from=2026-03-01&to=2026-02-01", "later than", id="from-after-to"),
        pytest.param("where=value", "value", id="bad-figures"),
        pytest.param("parent=x", "run id", id="bad-parent"),
    ],
)
def test_bad_filters_answer_400_with_the_reason(client: Client, query: str, message: str) -> None:
    """A filter that cannot be read is a 400 page that says why and keeps the form."""
    answer = client.get(f"/?{query}")
    assert answer.status == 400
    assert message in answer.text
    assert '<form method="get" action="/"' in answer.text


def test_run_page_shows_the_run(client: Client) -> None:
    """Run 1: row, figures, picture, JSON output as a table, log, input, children, files."""
    body = client.get("/runs/1").text
    assert "solve game.toml" in body and "abc123" in body
    assert '<img src="/runs/1/files/output/picture.svg"' in body
    assert "<th>labels</th><th>weights</th>" in body  # result.json as a table
    assert "solving\nline" in body  # the log
    assert "matrix = [[0.0, 1.0]" in body  # the input
    assert 'href="/runs/2"' in body  # its child
    assert 'href="/?project=study"' in body
    assert ">solver</th>" in body  # its figures
    assert "output/escape.txt" in body  # listed, but never served (see above)
    assert OUTSIDE_TEXT not in body


def test_run_page_of_a_child_links_its_parent(client: Client) -> None:
    """Run 2 names its parent, its reason; it has no pictures."""
    body = client.get("/runs/2").text
    assert 'href="/runs/1">run 1<' in body
    assert "ValueError: boom" in body


def test_run_page_of_a_run_whose_folder_lies_elsewhere(client: Client) -> None:
    """Run 4's folder is a link out of the result root: the page shows no file of it."""
    answer = client.get("/runs/4")
    assert answer.status == 200
    assert "No files to show" in answer.text
    assert OUTSIDE_TEXT not in answer.text


def test_compare_page_shows_runs_side_by_side(client: Client) -> None:
    """Runs 1 and 3: both columns, a differing figure marked, both pictures, the inputs."""
    body = client.get("/compare?run=1&run=3").text
    assert "Compare runs 1, 3" in body
    assert '<tr class="differs"><th>value</th>' in body
    assert body.count('src="/runs/1/files/output/picture.svg"') == 1
    assert body.count('src="/runs/3/files/output/picture.svg"') == 1
    assert "game.toml" in body


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        pytest.param("", 200, "Give two or more run ids", id="none"),
        pytest.param("run=1", 200, "Give two or more run ids", id="one"),
        pytest.param("run=1,2,3,4,5,6,7,8,9", 400, "at most 8 runs", id="too-many"),
        pytest.param("run=1&run=x", 400, "run id", id="not-an-id"),
        pytest.param("run=1&run=99", 404, "run 99 not found", id="unknown"),
    ],
)
def test_compare_page_refusals(client: Client, query: str, status: int, message: str) -> None:
    """Fewer than two runs asks for more; too many, bad and unknown ids are refused."""
    answer = client.get(f"/compare?{query}")
    assert answer.status == status
    assert message in answer.text


def test_projects_page_counts_runs(client: Client) -> None:
    """The one project has 2 runs; 2 runs have none."""
    body = client.get("/projects").text
    assert 'href="/?project=study">study<' in body
    assert '<td class="num"><span class="num">2</span></td>' in body
    assert "1 project; 2 runs without a project." in body


# --- the host header ------------------------------------------------------------------


def test_foreign_host_header_is_refused(client: Client) -> None:
    """A page that rebinds its name to 127.0.0.1 gets 400, not the history."""
    answer = client.get("/", headers={"Host": f"evil.example:{client.port}"})
    assert answer.status == 400
    assert NOTE not in answer.text and "solve game.toml" not in answer.text
    assert client.get("/", headers={"Host": f"localhost:{client.port}"}).status == 200


# --- an empty history -----------------------------------------------------------------


def test_without_a_database_the_pages_say_so(tmp_path: Path) -> None:
    """No database yet: the runs and projects pages say nothing is recorded; runs are 404."""
    with running(tmp_path / "none.db", tmp_path / "result") as server:
        client = Client(server)
        runs = client.get("/")
        assert runs.status == 200 and "nothing recorded yet" in runs.text
        assert "nothing recorded yet" in client.get("/projects").text
        assert client.get("/runs/1").status == 404
    assert not (tmp_path / "none.db").exists()


def test_a_client_that_resets_its_connection_is_no_error(history: History) -> None:
    """A browser that leaves mid-answer (a reset) leaves nothing in the server's log."""
    log = io.StringIO()
    with running(history.db_path, history.result_root, log=log) as server:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.server_address[1])) as raw:
                raw.sendall(b"GET /runs/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert Client(server).get("/").status == 200
    assert log.getvalue() == ""
