"""Which database holds a history (an SQLite file or a PostgreSQL URL), and opening it.

A history lives in an SQLite file (a path: the default, ``.runmeta/run_history.db``)
or in a PostgreSQL database named by a URL, ``postgresql://user@host:5432/db`` (or the
``postgres://`` alias), shared by every machine that reaches the server. Where a
library call, a command or the main job looks, first to last:

1. what it is given explicitly: ``RunSessionService.open(db_path=...)`` or
   ``open(database_url=...)``; ``runmeta --db-path`` or ``--db-url``;
2. the environment variable ``RUNMETA_DATABASE_URL`` (a PostgreSQL URL; empty: unset);
3. the main job's settings, ``[runmeta] database_url`` or ``db_path``;
4. the default SQLite file below the project root.

:class:`DatabaseUrl` keeps a URL with its password, and shows it without: its
``str()`` (what every message, listing, log line and meta.json gets) drops the
password from the user part and the ``password``/``sslpassword`` query parameters, so
a password can only reach the driver. libpq finds it there, or in ``PGPASSWORD`` or
``~/.pgpass``, whichever the user prefers.

:func:`connect` opens either backend; the PostgreSQL driver (``psycopg``, the
``postgres`` extra) is imported only then, and its absence is one line saying how to
install it (:class:`DriverMissingError`). Both backends' connections follow the
interface of :class:`Connection` (``sqlite3.Connection``'s, as far as runmeta uses it),
which the repositories are written against.
"""

from __future__ import annotations

import os
from pathlib import Path

from monocycle_nash.runmeta.errors import DriverMissingError, InvalidDatabaseUrlError

TYPE_CHECKING = False  # not typing's: the listing path does without ``typing``
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any, Final, Protocol, Self

    from monocycle_nash.runmeta.postgres import PostgresConnectionFactory

    class Cursor(Protocol):
        """A cursor of either backend: rows are tuples (SQLite: ``sqlite3.Row``, indexable)."""

        row_factory: Any

        @property
        def rowcount(self) -> int:
            """Rows changed by the last UPDATE or DELETE."""

        @property
        def lastrowid(self) -> int | None:
            """The rowid of the last INSERT (SQLite only; else ``None``)."""

        def execute(self, sql: str, parameters: Any = ..., /) -> Self:
            """Run ``sql`` with ``?`` placeholders bound to ``parameters``."""

        def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
            """Run ``sql`` once per parameter set."""

        def fetchone(self) -> Any:
            """The next row, or ``None``."""

        def fetchmany(self, size: int = ..., /) -> list[Any]:
            """Up to ``size`` more rows."""

        def fetchall(self) -> list[Any]:
            """The remaining rows."""

        def close(self) -> None:
            """Release the cursor."""

        def __iter__(self) -> Iterator[Any]:
            """The rows, one by one."""

    class Connection(Protocol):
        """What runmeta uses of a connection; ``sqlite3.Connection`` is one."""

        @property
        def in_transaction(self) -> bool:
            """Whether a transaction is open."""

        def execute(self, sql: str, parameters: Any = ..., /) -> Cursor:
            """Run ``sql`` on a new cursor and return it."""

        def executemany(self, sql: str, parameters: Any, /) -> Cursor:
            """Run ``sql`` once per parameter set on a new cursor and return it."""

        def cursor(self) -> Cursor:
            """A new cursor."""

        def close(self) -> None:
            """Close the connection."""


__all__ = [
    "SCHEMES",
    "URL_VARIABLE",
    "DatabaseUrl",
    "choose_database",
    "connect",
    "is_database_url",
    "is_postgres",
    "public_url",
]

URL_VARIABLE: Final = "RUNMETA_DATABASE_URL"
"""The environment variable naming a PostgreSQL database (see the module documentation)."""
SCHEMES: Final = ("postgresql://", "postgres://")
"""How a PostgreSQL URL begins (``postgres://`` is libpq's alias)."""
_SECRET_PARAMETERS: Final = frozenset({"password", "sslpassword"})


def is_database_url(text: str) -> bool:
    """Tell whether ``text`` is meant as a PostgreSQL URL (rather than a file path)."""
    return text.strip().lower().startswith(SCHEMES)


def public_url(url: str) -> str:
    """Return ``url`` without its password (user part and query), as it may be shown.

    Nothing else changes: ``postgresql://me:pw@db:5432/runs?sslmode=require`` becomes
    ``postgresql://me@db:5432/runs?sslmode=require``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if found != -1:
            authority_end = min(authority_end, found)
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hosts = authority.rpartition("@")
    if at:
        authority = f"{userinfo.split(':', 1)[0]}@{hosts}"
    path, question, query = tail.partition("?")
    if question:
        query, hash_mark, fragment = query.partition("#")
        from urllib.parse import unquote  # noqa: PLC0415 - only URLs pay for it

        kept = [
            part
            for part in query.split("&")
            if unquote(part.split("=", 1)[0]).strip().lower() not in _SECRET_PARAMETERS
        ]
        query = "&".join(kept)
        tail = path + (f"?{query}" if query else "") + hash_mark + fragment
    return f"{scheme}{sep}{authority}{tail}"


class DatabaseUrl:
    """A PostgreSQL URL: ``str()`` shows it without its password; :attr:`secret` is whole.

    Raises :class:`InvalidDatabaseUrlError` for a text that is not a PostgreSQL URL.
    """

    __slots__ = ("_public", "_secret")

    def __init__(self, url: str) -> None:
        text = url.strip()
        shown = public_url(text)
        if not is_database_url(text):
            raise InvalidDatabaseUrlError(
                repr(shown),
                "a PostgreSQL URL begins with postgresql:// (e.g."
                " postgresql://user@host:5432/database); a file path goes to --db-path",
            )
        self._secret = text
        self._public = shown

    @property
    def secret(self) -> str:
        """The URL as given, password included: only for the driver (and child processes)."""
        return self._secret

    @property
    def public(self) -> str:
        """The URL without its password (the same as ``str()``)."""
        return self._public

    @property
    def has_password(self) -> bool:
        """Whether the URL holds a password (in its user part or its query)."""
        if _password_of(self._secret):
            return True
        _, _, query = self._secret.partition("?")
        from urllib.parse import parse_qsl  # noqa: PLC0415

        return any(
            key.strip().lower() in _SECRET_PARAMETERS and value
            for key, value in parse_qsl(query.partition("#")[0], keep_blank_values=True)
        )

    def scrub(self, text: str) -> str:
        """Return ``text`` (a driver's message) with the URL and its password masked."""
        text = text.replace(self._secret, self._public)
        password = _password_of(self._secret)
        if password:
            text = text.replace(password, "***")
        return text

    def __str__(self) -> str:
        return self._public

    def __repr__(self) -> str:
        return f"DatabaseUrl({self._public!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseUrl) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self._secret)


def _password_of(url: str) -> str | None:
    """The password in the user part of ``url`` (percent-decoded), if any."""
    from urllib.parse import unquote, urlsplit  # noqa: PLC0415

    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def is_postgres(location: object) -> bool:
    """Tell whether ``location`` (a path or a :class:`DatabaseUrl`) is a PostgreSQL database."""
    return isinstance(location, DatabaseUrl)


def choose_database(
    db_path: str | Path | None,
    database_url: str | DatabaseUrl | None,
    *,
    default: Path | None,
    settings_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path | DatabaseUrl:
    """Return where the history is: an explicit path or URL, the environment, settings, default.

    ``db_path`` and ``database_url`` are the explicit choices (giving both is a
    ``ValueError``); then ``RUNMETA_DATABASE_URL`` in ``environ`` (default:
    ``os.environ``), then ``settings_url`` (the main job's ``[runmeta] database_url``),
    then ``default`` (the SQLite file; ``None`` when the caller resolves settings
    itself and there is none: then a ``ValueError``).
    """
    if db_path is not None and database_url is not None:
        raise ValueError("give either db_path or database_url, not both")
    if database_url is not None:
        return database_url if isinstance(database_url, DatabaseUrl) else DatabaseUrl(database_url)
    if db_path is not None:
        return Path(db_path)
    from_environment = (os.environ if environ is None else environ).get(URL_VARIABLE, "").strip()
    if from_environment:
        if not is_database_url(from_environment):
            raise InvalidDatabaseUrlError(
                f"{URL_VARIABLE}={public_url(from_environment)!r}",
                "it must be a PostgreSQL URL, postgresql://user@host:5432/database (unset it"
                " to use the SQLite file)",
            )
        return DatabaseUrl(from_environment)
    if settings_url:
        return DatabaseUrl(settings_url)
    if default is None:
        raise ValueError("no database given and no default")
    return default


def connect(
    location: str | Path | DatabaseUrl,
    *,
    read_only: bool = False,
    busy_timeout: float | None = None,
) -> Connection:
    """Open the history at ``location``: a migrated connection of its backend.

    A path opens the SQLite file through ``SQLiteConnectionFactory``; a
    :class:`DatabaseUrl` the PostgreSQL database through ``PostgresConnectionFactory``
    (psycopg imported only now). ``read_only`` as in
    :meth:`~monocycle_nash.runmeta.db.SQLiteConnectionFactory.connect`: nothing is
    created; a missing history raises ``DatabaseNotFoundError``.
    """
    from monocycle_nash.runmeta.db import DEFAULT_BUSY_TIMEOUT  # noqa: PLC0415

    timeout = DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    if isinstance(location, DatabaseUrl):
        return postgres_factory(location, busy_timeout=timeout).connect(read_only=read_only)
    from monocycle_nash.runmeta.db import SQLiteConnectionFactory  # noqa: PLC0415

    return SQLiteConnectionFactory(location, busy_timeout=timeout).connect(read_only=read_only)


def postgres_factory(
    url: DatabaseUrl, *, busy_timeout: float | None = None
) -> PostgresConnectionFactory:
    """Return a ``PostgresConnectionFactory`` for ``url``; one line when psycopg is missing."""
    try:
        import psycopg  # noqa: F401, PLC0415 - the optional extra, imported only for a URL
    except ImportError as err:
        raise DriverMissingError(str(url)) from err
    from monocycle_nash.runmeta.db import DEFAULT_BUSY_TIMEOUT  # noqa: PLC0415
    from monocycle_nash.runmeta.postgres import PostgresConnectionFactory  # noqa: PLC0415

    timeout = DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    return PostgresConnectionFactory(url, busy_timeout=timeout)
