"""What every ``runmeta`` subcommand is given: the subcommand table and a command context.

Adding a subcommand is one function and one line in ``cli.py``::

    def register(commands: Commands) -> None:
        parser = commands.add("reap", help="mark dead runs killed", handler=_reap)
        parser.add_argument("--dry-run", action="store_true", help="only report")

    def _reap(args: argparse.Namespace, context: CommandContext) -> int:
        from monocycle_nash.runmeta.service import RunSessionService  # heavy: import here
        ...
        return 0

then append ``register`` to ``REGISTRARS`` in ``cli.py``. ``register`` only touches
argparse; anything heavier is imported inside the handler so that ``runmeta list-runs``
starts fast. A handler prints its answer on stdout and returns the exit code; it raises
:class:`~monocycle_nash.runmeta.errors.RunMetaError` for a refused request (``main``
prints one line and exits 1) and :class:`UsageError` for options that contradict each
other (exit 2 with the subcommand's usage). The global ``--db-path`` and
``--result-root`` are added to every subcommand by :meth:`Commands.add`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from monocycle_nash.runmeta.db import SQLiteConnectionFactory

if TYPE_CHECKING:
    import sqlite3

    from monocycle_nash.runmeta.service import RunSessionService

__all__ = ["CommandContext", "Commands", "Handler", "UsageError"]


class UsageError(Exception):
    """Options that argparse accepts one by one but not together; ``main`` exits 2."""


class CommandContext:
    """The database and result folder a subcommand works on, opened on first use.

    ``main`` builds one per call and closes it in ``finally``; handlers never close it.
    Asking for neither the connection nor the service opens nothing.
    """

    __slots__ = ("_connection", "_service", "db_path", "result_root")

    def __init__(self, db_path: Path, result_root: Path) -> None:
        """Remember where the database and the run folders are; open nothing yet."""
        self.db_path = db_path
        self.result_root = result_root
        self._connection: sqlite3.Connection | None = None
        self._service: RunSessionService | None = None

    def connection(self) -> sqlite3.Connection:
        """Return a connection to the database, creating and migrating it if needed."""
        if self._service is not None:
            return self._service.connection
        if self._connection is None:
            self._connection = SQLiteConnectionFactory(self.db_path).connect()
        return self._connection

    def service(self) -> RunSessionService:
        """Return a :class:`RunSessionService` on the same database and result folder."""
        if self._service is None:
            # The service pulls in the artifact store, shutil, hashlib...: only on demand.
            from monocycle_nash.runmeta.service import RunSessionService  # noqa: PLC0415

            self.close()
            self._service = RunSessionService.open(
                db_path=self.db_path, result_root=self.result_root
            )
        return self._service

    def close(self) -> None:
        """Close whatever was opened; safe to call twice."""
        connection, self._connection = self._connection, None
        service, self._service = self._service, None
        if connection is not None:
            connection.close()
        if service is not None:
            service.close()


Handler = Callable[[argparse.Namespace, CommandContext], int]
"""A subcommand: reads its parsed arguments, works in the context, returns the exit code."""


class Commands:
    """The table of subcommands that each ``register`` function adds to."""

    __slots__ = ("_parents", "_subparsers")

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        parents: list[argparse.ArgumentParser],
    ) -> None:
        """Wrap argparse's subparsers; ``parents`` carry the global options."""
        self._subparsers = subparsers
        self._parents = parents

    def add(
        self, name: str, *, help: str, handler: Handler, description: str | None = None
    ) -> argparse.ArgumentParser:
        """Add subcommand ``name`` run by ``handler``; return its parser for the options.

        ``help`` is the one-line summary in ``runmeta --help``; ``description`` (default:
        ``help``) heads ``runmeta NAME --help``.
        """
        parser = self._subparsers.add_parser(
            name,
            help=help,
            description=description or help,
            parents=self._parents,
        )
        parser.set_defaults(func=handler, command_parser=parser)
        return parser
