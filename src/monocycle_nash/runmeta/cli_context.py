"""What every ``runmeta`` subcommand is given: the subcommand table and a command context.

Adding a subcommand is one module and one line in ``cli.py``::

    def register(commands: Commands) -> None:
        commands.add("reap", help="mark dead runs killed", handler=_reap, arguments=_options)

    def _options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only report")

    def _reap(args: argparse.Namespace, context: CommandContext) -> int:
        from monocycle_nash.runmeta.service import RunSessionService  # heavy: import here
        ...
        return 0

then append ``register`` to ``REGISTRARS`` in ``cli.py``. ``register`` and the
``arguments`` function only touch argparse; anything heavier is imported inside the
handler, so that ``runmeta list-runs`` starts fast (``main`` builds only the parser of
the subcommand it runs; ``arguments`` is not even called for the others). A handler
prints its answer on stdout and returns the exit code; it raises
:class:`~monocycle_nash.runmeta.errors.RunMetaError` for a refused request (``main``
prints one line and exits 1) and :class:`UsageError` for options that contradict each
other (exit 2 with the subcommand's usage). The global ``--db-path`` and
``--result-root`` are added to every subcommand by :meth:`Commands.add`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from monocycle_nash.runmeta.db import SQLiteConnectionFactory

TYPE_CHECKING = False  # typing stays off the start-up path

if TYPE_CHECKING:
    import sqlite3

    from monocycle_nash.runmeta.service import RunSessionService

__all__ = [
    "CommandContext",
    "Commands",
    "Handler",
    "HelpFormatter",
    "UsageError",
    "requested_subcommand",
]


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


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized from ``COLUMNS`` or the terminal without ``shutil``.

    argparse builds a formatter for every option it adds and imports ``shutil`` to size
    it; this one reads the width the same way (``COLUMNS``, then the terminal, then 80)
    and keeps ``shutil`` off the start-up path.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        """Format help for ``prog``; ``width`` defaults to the terminal's, less 2."""
        if width is None:
            width = _help_width() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _help_width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(1).columns or 80
    except (OSError, ValueError):
        return 80


def requested_subcommand(argv: Sequence[str], value_options: Collection[str]) -> str | None:
    """Return the subcommand name that ``argv`` asks for, or ``None`` when unclear.

    Global options come before it; those in ``value_options`` take the next word as
    their value (``--db-path X``) unless written ``--db-path=X``. ``None`` for help
    requested before the subcommand, so that the full help is shown.
    """
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help", "--"):
            return None
        if word in value_options:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


class Commands:
    """The table of subcommands that each ``register`` function adds to."""

    __slots__ = ("_only", "_parents", "_subparsers", "built")

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        parents: list[argparse.ArgumentParser],
        *,
        only: str | None = None,
    ) -> None:
        """Wrap argparse's subparsers; ``parents`` carry the global options.

        With ``only``, every other subcommand is skipped (not built).
        """
        self._subparsers = subparsers
        self._parents = parents
        self._only = only
        self.built: list[str] = []

    def add(
        self,
        name: str,
        *,
        help: str,
        handler: Handler,
        arguments: Callable[[argparse.ArgumentParser], None] | None = None,
        description: str | None = None,
    ) -> None:
        """Add subcommand ``name``, run by ``handler``, with options from ``arguments``.

        ``help`` is the one-line summary in ``runmeta --help``; ``description`` (default:
        ``help``) heads ``runmeta NAME --help``.
        """
        if self._only is not None and name != self._only:
            return
        parser = self._subparsers.add_parser(
            name,
            help=help,
            description=description or help,
            parents=self._parents,
            formatter_class=HelpFormatter,
        )
        if arguments is not None:
            arguments(parser)
        parser.set_defaults(func=handler, command_parser=parser)
        self.built.append(name)
