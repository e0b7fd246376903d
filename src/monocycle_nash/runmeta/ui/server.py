"""The HTTP side of the run browser: routing, headers, refusals, and the server's life.

One :class:`UiServer` (``http.server.ThreadingHTTPServer``) answers each connection in
a thread of its own; every request opens its own read-only database connection (an
``sqlite3`` connection belongs to the thread that made it) and closes it before it
ends. Only ``GET`` and ``HEAD`` exist: any other method answers 405. Every answer
carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, no
caching, and a ``Content-Security-Policy``: pages may load only this site's stylesheet
and images and run no script at all; a run's files (SVG pictures above all) are served
in a sandbox with no script, no fetch and no frame. A server bound to a loopback
address answers only requests whose ``Host`` is that address or ``localhost`` (a
web page elsewhere that rebinds its name to 127.0.0.1 gets 400, not the history).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from urllib.parse import parse_qs, unquote

from monocycle_nash.runmeta.backends import DatabaseUrl, postgres_factory
from monocycle_nash.runmeta.db import SQLiteConnectionFactory
from monocycle_nash.runmeta.errors import RunMetaError
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.runmeta.ui.html import el, join, page
from monocycle_nash.runmeta.ui.pages import Page, PageError, Sources, projects_page, runs_page
from monocycle_nash.runmeta.ui.run_files import FileRefused, RunFolder, content_type
from monocycle_nash.runmeta.ui.run_pages import compare_page, run_page_of
from monocycle_nash.text import printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = [
    "FILE_POLICY",
    "PAGE_POLICY",
    "UiError",
    "UiServer",
    "database_connector",
    "running",
    "serve",
    "sqlite_connector",
]

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " base-uri 'none'; frame-ancestors 'none'"
)
"""The ``Content-Security-Policy`` of the pages: this site's CSS and images, no script."""
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox"
"""The ``Content-Security-Policy`` of a run's files: an SVG keeps its inline styles, and
nothing else (no script, even when the picture is opened on its own)."""

_STATIC = {
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
_ALLOWED = "GET, HEAD"
_MAX_QUERY_FIELDS = 64
_CHUNK = 64 * 1024


class UiError(RunMetaError):
    """The browser cannot be served (the port is taken, the address unknown...)."""


@cache
def _static(name: str) -> bytes:
    return (resources.files("monocycle_nash.runmeta.ui") / "static" / name).read_bytes()


def _split_target(target: str) -> tuple[str, str] | None:
    """``(decoded path, query)`` of a request target, or ``None`` when it is not a path."""
    path, _, query = target.partition("?")
    if not path.startswith("/"):
        return None
    return unquote(path, errors="surrogateescape"), query


class _Handler(BaseHTTPRequestHandler):
    """One connection's requests; the server holds the configuration."""

    server: UiServer
    protocol_version = "HTTP/1.1"
    server_version = "runmeta-ui"
    sys_version = ""

    def handle(self) -> None:
        """Answer the connection's requests; a client that goes away is no problem."""
        try:
            super().handle()
        except ConnectionError:  # reset, aborted, a broken pipe: the browser left
            self.close_connection = True

    # --- methods ---

    def do_GET(self) -> None:
        """Answer a GET."""
        self._answer(head=False)

    def do_HEAD(self) -> None:
        """Answer a HEAD: the GET's status and headers, no body."""
        self._answer(head=True)

    def __getattr__(self, name: str) -> Any:
        # http.server calls do_<METHOD> and answers 501 when there is none: every
        # method other than GET and HEAD is a known one here, and not allowed.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self._send_page(
            Page("Not allowed", _message("This browser only reads the history."), status=405),
            head=False,
            extra=(("Allow", _ALLOWED),),
        )

    # --- logging: nothing for answered requests, problems on stderr ---

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Say nothing for an answered request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Write a problem (a malformed request, a broken connection) as one stderr line."""
        self.server.log(f"{self.address_string()}: {format % args}")

    # --- answering ---

    def _answer(self, *, head: bool) -> None:
        started = time.perf_counter()
        self._started = started
        if not self.server.host_allowed(self.headers.get("Host")):
            page_ = Page("Bad request", _message("Unexpected Host header."), status=400)
            self._send_page(page_, head=head)
            return
        split = _split_target(self.path)
        if split is None:
            self._send_page(Page("Bad request", _message("Not a path."), status=400), head=head)
            return
        path, query_text = split
        try:
            query = parse_qs(query_text, max_num_fields=_MAX_QUERY_FIELDS)
        except ValueError:
            self._send_page(
                Page("Bad request", _message("Too many parameters."), status=400), head=head
            )
            return
        sources = self.server.sources()
        try:
            self._route(path, query, sources, head=head)
        except PageError as err:
            self._send_page(
                Page(_title(err.status), _message(err.message), status=err.status), head=head
            )
        except RunMetaError as err:
            # The history cannot be read (a damaged or locked database...): say why.
            self._send_page(
                Page("Cannot read the history", _message(str(err)), status=500), head=head
            )
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            self.server.log(f"error answering {printable(self.path)}:\n{traceback.format_exc()}")
            self._send_page(
                Page(
                    "Internal error",
                    _message("An internal error; see the server's output."),
                    status=500,
                ),
                head=head,
            )
        finally:
            sources.close()

    def _route(
        self, path: str, query: dict[str, list[str]], sources: Sources, *, head: bool
    ) -> None:
        if path in {"/", "/runs"}:
            self._send_page(runs_page(sources, query), head=head)
            return
        if path == "/projects":
            self._send_page(projects_page(sources, query), head=head)
            return
        if path == "/compare":
            self._send_page(compare_page(sources, query), head=head)
            return
        if path in _STATIC:
            name, kind = _STATIC[path]
            self._send_bytes(_static(name), kind, head=head, cache="max-age=300")
            return
        parts = path.split("/", 4)  # "", "runs", id, "files", rest
        if len(parts) >= 3 and parts[1] == "runs" and _is_id(parts[2]):
            run_id = int(parts[2])
            if len(parts) == 3:
                self._send_page(run_page_of(sources, run_id), head=head)
                return
            if len(parts) == 5 and parts[3] == "files":
                self._send_run_file(sources, run_id, parts[4], head=head)
                return
        raise PageError(404, f"nothing at {path}")

    def _send_run_file(self, sources: Sources, run_id: int, relative: str, *, head: bool) -> None:
        try:
            record = RunsRepository(sources.connection()).get_in_full(run_id)
        except RunMetaError:
            raise PageError(404, f"run {run_id} not found") from None
        if not record[1].owns_folder:
            raise PageError(404, f"result/{run_id} is not run {run_id}'s folder")
        try:
            folder = RunFolder(sources.result_root, run_id)
        except FileRefused:
            raise PageError(404, f"no file {relative} in run {run_id}") from None
        with ExitStack() as stack:
            try:
                stream, size = stack.enter_context(folder.open(relative))
            except FileRefused:
                raise PageError(404, f"no file {relative} in run {run_id}") from None
            kind = content_type(relative)
            self.send_response(HTTPStatus.OK)
            self._common_headers(FILE_POLICY)
            self.send_header("Content-Type", kind)
            if kind == "application/octet-stream":
                self.send_header("Content-Disposition", "attachment")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if not head and not _copy(stream, self.wfile.write, size):
                self.close_connection = True  # it shrank: the promised length is not there

    def _common_headers(self, policy: str, cache: str = "no-store") -> None:
        self.send_header("Content-Security-Policy", policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", cache)
        elapsed = (time.perf_counter() - getattr(self, "_started", time.perf_counter())) * 1000
        self.send_header("Server-Timing", f"app;dur={elapsed:.1f}")

    def _send_page(
        self, shown: Page, *, head: bool, extra: tuple[tuple[str, str], ...] = ()
    ) -> None:
        footer = join(
            (
                "database ",
                el("code", self.server.db_label),
                " · result root ",
                el("code", str(self.server.result_root)),
                " · read-only",
            )
        )
        body = page(shown.title, shown.body, active=shown.active, footer=footer)
        self.send_response(shown.status)
        for name, value in extra:
            self.send_header(name, value)
        self._send_body(body, "text/html; charset=utf-8", PAGE_POLICY, head=head)

    def _send_bytes(self, body: bytes, kind: str, *, head: bool, cache: str) -> None:
        self.send_response(HTTPStatus.OK)
        self._send_body(body, kind, PAGE_POLICY, head=head, cache=cache)

    def _send_body(
        self, body: bytes, kind: str, policy: str, *, head: bool, cache: str = "no-store"
    ) -> None:
        self._common_headers(policy, cache)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _copy(source: BinaryIO, write: Callable[[bytes], object], size: int) -> bool:
    """Copy exactly ``size`` bytes (a log may grow while it is sent); ``False`` if fewer."""
    remaining = size
    while remaining:
        chunk = source.read(min(_CHUNK, remaining))
        if not chunk:
            return False
        write(chunk)
        remaining -= len(chunk)
    return True


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < len(text) <= 18 and int(text) > 0


def _title(status: int) -> str:
    return {400: "Bad request", 404: "Not found"}.get(status, HTTPStatus(status).phrase)


def _message(message: str) -> Any:
    return join(
        (
            el("h1", "Sorry"),
            el("p", message, class_="error"),
            el("p", el("a", "All runs", href="/")),
        )
    )


class UiServer(ThreadingHTTPServer):
    """The run browser's HTTP server over one database and result root."""

    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        connect: Callable[[], Connection],
        result_root: Path,
        *,
        db_label: str,
        log: TextIO | None = None,
    ) -> None:
        """Bind to ``host``:``port`` (0: any free port); raise :class:`UiError` if it cannot.

        ``connect`` opens one read-only connection (called once per request that reads
        the database, in that request's thread); ``db_label`` names the database in
        the pages' footer.
        """
        try:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        except (OSError, UnicodeError) as err:
            raise UiError(f"cannot serve on {host}: {err}") from err
        self.address_family = info[0]
        self.host = host
        self.connect = connect
        self.result_root = result_root
        self.db_label = db_label
        self._log = log
        self._log_lock = threading.Lock()
        try:
            super().__init__((str(info[4][0]), port), _Handler)
        except OSError as err:
            raise UiError(f"cannot serve on {host}:{port}: {err.strerror or err}") from err
        self.loopback = _is_loopback(str(info[4][0]))
        bound_port = self.server_address[1]
        self._hosts = {
            f"{name}:{bound_port}".lower()
            for name in (host, "127.0.0.1", "localhost", "[::1]", str(info[4][0]))
        }

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.server_address[1]}/"

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request with this ``Host`` header is answered (see the module's text)."""
        if not self.loopback or header is None:
            return True
        return header.strip().lower() in self._hosts

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a request that failed outside the pages (a bug) through :meth:`log`."""
        self.log(f"error answering {client_address}:\n{traceback.format_exc()}")

    def sources(self) -> Sources:
        """What one request reads (its connection opened on first use)."""
        return Sources(self.connect, self.result_root, self.db_label)

    def log(self, message: str) -> None:
        """Write one problem to the log stream (stderr by default)."""
        stream = self._log or sys.stderr
        with self._log_lock:
            stream.write(f"runmeta ui: {message.rstrip()}\n")
            stream.flush()


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", maxsplit=1)[0]).is_loopback
    except ValueError:
        return False


def sqlite_connector(db_path: Path) -> Callable[[], Connection]:
    """Open ``db_path`` read-only, as ``runmeta list-runs`` does, once per call."""
    factory = SQLiteConnectionFactory(db_path)

    def connect() -> Connection:
        return factory.connect(read_only=True)

    return connect


def database_connector(database: Path | DatabaseUrl) -> Callable[[], Connection]:
    """Open ``database`` (an SQLite file or a PostgreSQL URL) read-only, once per call."""
    if not isinstance(database, DatabaseUrl):
        return sqlite_connector(database)
    factory = postgres_factory(database)

    def connect() -> Connection:
        connection: Connection = factory.connect(read_only=True)
        return connection

    return connect


@contextmanager
def running(
    db_path: Path,
    result_root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log: TextIO | None = None,
) -> Iterator[UiServer]:
    """Serve in a background thread while the block runs (tests, scripts); yield the server."""
    server = UiServer(
        host, port, sqlite_connector(db_path), result_root, db_label=str(db_path), log=log
    )
    # A short poll: shutdown() waits for the loop to look, and a test stops many servers.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="runmeta-ui", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve(
    connect: Callable[[], Connection],
    result_root: Path,
    *,
    db_label: str,
    host: str = "127.0.0.1",
    port: int = 0,
    open_browser: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Serve the browser until Ctrl-C; print its address first. Returns the exit code 0.

    ``connect`` opens one read-only connection to the history (see
    :func:`sqlite_connector`); ``db_label`` names it in the pages. A database that
    exists but cannot be read (another program's file, a newer schema) is refused
    before serving; a missing one is said on ``err`` and served as an empty history
    (runs recorded meanwhile appear on the next page load).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    from monocycle_nash.runmeta.errors import DatabaseNotFoundError  # noqa: PLC0415

    try:
        connect().close()
    except DatabaseNotFoundError as missing:
        err.write(f"runmeta: {printable(str(missing))}\n")
    server = UiServer(host, port, connect, result_root, db_label=db_label, log=err)
    try:
        if not server.loopback:
            err.write(
                f"runmeta: warning: serving on {printable(host)}, not a loopback address:"
                " anyone who can reach this machine can read the run history (no login)\n"
            )
        out.write(f"runmeta ui: serving {server.url} (read-only; Ctrl-C stops it)\n")
        out.flush()
        if open_browser:
            import webbrowser  # noqa: PLC0415 - only with --open

            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out.write("\nrunmeta ui: stopped\n")
            out.flush()
    finally:
        server.server_close()
    return 0
