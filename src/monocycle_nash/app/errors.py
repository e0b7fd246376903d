"""Typed errors of the main job: a user's mistake, with a one-line message as ``str()``."""

from __future__ import annotations

__all__ = [
    "ExperimentFailure",
    "InputError",
    "InputFileError",
    "OutputWriteError",
    "RunConfigError",
    "SecretInSettingsError",
    "SettingsError",
    "StorageError",
]


class InputError(Exception):
    """Base of the main job's bad-input errors (the game's own are ``GameError``)."""


class InputFileError(InputError):
    """An input file is missing, unreadable or not valid TOML."""


class RunConfigError(InputError):
    """A run config (or a file it names) does not have the expected shape."""


class SettingsError(InputError):
    """A settings table has an unknown key or a value of the wrong type."""


class SecretInSettingsError(SettingsError):
    """A settings file holds a database password: the run keeps no copy of the file."""


class StorageError(Exception):
    """The place where runs are recorded cannot be used (checked before a run starts)."""


class OutputWriteError(Exception):
    """A result file of the run could not be written (disk full, I/O error)."""


class ExperimentFailure(Exception):
    """An experiment's trial failed and failed trials are not skipped (one-line message)."""
