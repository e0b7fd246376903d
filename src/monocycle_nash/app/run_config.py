"""Read the main job's input: a game file, or a run config naming a game and settings.

A run config is a TOML file with a ``game`` entry (a path, or an inline table holding
``matrix`` or ``characters``) and optionally a ``settings`` path; both paths are relative
to the run config's folder. Settings tables (``[runmeta]``, ``[analysis_project]``,
``[solver]``, ``[output]``) may sit in the settings file or in the run config itself; the
run config's keys win. Relative paths *inside* settings tables (the database, the result
folder, the project folder) are relative to the project root (``--root``), never to the
file that names them: a settings file shipped inside the package, or shared between
projects, must not put results next to itself.

A game *file* is not parsed here: :func:`read_input` reads only what fixes where the run
is recorded (the run config and settings, which are small), and the run reads the game
with :func:`read_game`, so that a large roster is parsed inside the run (its id already
printed, its duration counting the parse, an interruption recorded as ``killed``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from monocycle_nash.app.errors import (
    InputError,
    InputFileError,
    RunConfigError,
    SecretInSettingsError,
    SettingsError,
)
from monocycle_nash.app.outputs import PER_STRATEGY_MODES, PerStrategy
from monocycle_nash.app.sweep_settings import SweepSettings, parse_sweep
from monocycle_nash.approximation import METHODS as APPROXIMATION_METHODS
from monocycle_nash.errors import GameError, GameFileError, brief
from monocycle_nash.experiments import ExperimentSettings, parse_experiment
from monocycle_nash.game import Game, parse_game, read_toml_file
from monocycle_nash.game_files import game_file_format, read_game_file
from monocycle_nash.runmeta import (
    DEFAULT_DB_PATH,
    DEFAULT_RESULT_ROOT,
    DatabaseUrl,
    InputFile,
    is_database_url,
    public_url,
)
from monocycle_nash.solver.errors import SolverSettingError
from monocycle_nash.solver.matrix_game import check_solver_settings
from monocycle_nash.toml_writer import dumps

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_RESULT_ROOT",
    "GameInput",
    "InputKind",
    "InputReading",
    "ProjectSettings",
    "RunInput",
    "StorageLocation",
    "path_problem",
    "read_game",
    "read_input",
    "read_toml",
]

InputKind = Literal["game", "run_config"]

_GAME_KEYS = frozenset({"matrix", "characters"})
_SECTIONS: Mapping[str, frozenset[str]] = {
    "runmeta": frozenset({"db_path", "database_url", "result_root"}),
    "analysis_project": frozenset({"project_id", "project_path", "note"}),
    "solver": frozenset({"exact", "method", "tolerance"}),
    "output": frozenset({"per_strategy"}),
    "approximation": frozenset({"method"}),
    "compare": frozenset({"reference", "approximation"}),
}
# ``sources`` is the provenance table the main job writes into merged inputs; it is
# accepted and ignored so that a stored merged_input.toml can be run again.
_RUN_CONFIG_KEYS = frozenset(
    {"game", "game_sha256", "settings", "sources", "experiment", "sweep", *_SECTIONS}
)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# The first entry of a game file as people and programs write it: ``matrix``,
# ``labels`` or ``characters``, bare, then ``=`` (or ``.`` for a dotted key).
_GAME_START = re.compile(rb"(?:matrix|labels|characters)[ \t]*[=.]")
_SNIFFED_BYTES = 1 << 16
_MERGED_HEADER = "# Merged, resolved input of one monocycle-nash run (itself a valid run config).\n"


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """Where runs are recorded: the SQLite file and the folder holding ``<run_id>/``.

    ``database_url`` (``[runmeta] database_url``, a PostgreSQL URL, password included)
    replaces the SQLite file when set; ``RUNMETA_DATABASE_URL`` comes before either.
    """

    db_path: Path
    result_root: Path
    database_url: str | None = None

    @classmethod
    def default(cls, root: Path) -> StorageLocation:
        """Return the default location under ``root``: ``.runmeta/run_history.db``, ``result/``."""
        return cls(root / DEFAULT_DB_PATH, root / DEFAULT_RESULT_ROOT)


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """An analysis project to attach the run to; with a path it is registered if missing."""

    project_id: str
    project_path: Path | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class GameInput:
    """Where the run's game comes from: a table already read, or a file the run reads.

    ``source`` names it in messages (a path, or ``run.toml [game]``). ``table`` is the
    game's table when it was read with the input (an inline ``[game]``, or a TOML game
    file that had to be read to be told from a run config); otherwise ``path`` is a game
    file (TOML, JSON or CSV by its extension) that :func:`read_game` reads inside the
    run. ``named_by`` is the run config naming that file (``None`` when it was given
    directly) and ``sha256`` its digest when the run config was read.
    """

    source: str
    table: Mapping[str, Any] | None = None
    path: Path | None = None
    named_by: Path | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """The analyses a run config asks for besides the solve (RESEARCH.md section 3).

    ``approximation``: ``[approximation] method`` (or ``None``); ``reference``: the game
    file of ``[compare] reference``; ``compare_approximation``: compare the
    approximation, not the game, with the reference.
    """

    approximation: str | None = None
    reference: Path | None = None
    compare_approximation: bool = False

    def merged_tables(self) -> dict[str, Any]:
        """The merged input's ``[approximation]`` and ``[compare]`` tables (absolute paths)."""
        tables: dict[str, Any] = {}
        if self.approximation is not None:
            tables["approximation"] = {"method": self.approximation}
        if self.reference is not None:
            tables["compare"] = {
                "reference": str(self.reference),
                "approximation": self.compare_approximation,
            }
        return tables


@dataclass(frozen=True, slots=True)
class RunInput:
    """A read input: where the game comes from (not read yet) and the resolved settings.

    ``files`` lists every input file, the input itself first. ``merged_toml`` is the
    merged, resolved input for run configs (``None`` for a plain game file).
    """

    kind: InputKind
    path: Path
    game: GameInput | None
    storage: StorageLocation
    project: ProjectSettings | None
    exact: bool
    files: tuple[InputFile, ...]
    merged_toml: bytes | None
    method: str = "auto"
    tolerance: float | None = None
    per_strategy: PerStrategy = "json"
    analyses: AnalysisSettings = AnalysisSettings()
    experiment: ExperimentSettings | None = None
    sweep: SweepSettings | None = None


@dataclass(frozen=True, slots=True)
class InputReading:
    """What could be read of an input: the run input, or the error and what came before it.

    ``storage`` is always set: the configured location when the input got that far,
    otherwise the default under the root, so a broken input can still be recorded.
    ``files`` lists the input files that exist, for the run's snapshot.
    """

    storage: StorageLocation
    files: tuple[InputFile, ...]
    run_input: RunInput | None
    error: InputError | None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse the TOML file ``path``; raise ``InputFileError`` naming the file on failure."""
    try:
        return read_toml_file(path)
    except GameFileError as err:
        raise InputFileError(str(err)) from err


def read_input(path: Path, root: Path, *, project_id: str | None = None) -> InputReading:
    """Read ``path`` (a game file or a run config) with settings resolved against ``root``.

    Never raises ``InputError``: it is returned in ``InputReading.error`` with the storage
    location and files known so far. ``project_id`` (the command line's) overrides the
    settings' project; the settings' path is kept only when the ids agree.

    A game file is not parsed: one named by a run config is only hashed (for the merged
    input), and one given directly is not read at all when its format is CSV or JSON,
    or when it is TOML that begins as a game does (``matrix``, ``labels`` or
    ``characters`` first): such a file is a game or a mistake, and either way its run is
    recorded in the default locations. Any other TOML file is read whole here, since it
    may be a run config that moves the database.
    """
    reader = _Reader(path, root.resolve(), project_id)
    try:
        run_input = reader.read()
    except InputError as err:
        return InputReading(reader.storage, tuple(reader.files), None, err)
    return InputReading(run_input.storage, run_input.files, run_input, None)


@dataclass(slots=True)
class _Reader:
    path: Path
    root: Path
    project_override: str | None
    storage: StorageLocation = field(init=False)
    files: list[InputFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.storage = StorageLocation.default(self.root)

    def _note(self, path: Path, role: str) -> None:
        """List ``path`` among the run's input files when it is a file (reading says why not)."""
        try:
            is_file = path.is_file()
        except (OSError, ValueError):  # a name too long, a NUL: reading says so
            is_file = False
        if is_file:
            self.files.append(InputFile(role, path))

    def _read(self, path: Path, role: str) -> dict[str, Any]:
        self._note(path, role)
        return read_toml(path)

    def read(self) -> RunInput:
        if _read_in_the_run(self.path):
            self._note(self.path, "input")
            return self._game_file(GameInput(str(self.path), path=self.path))
        data = self._read(self.path, "input")
        if _kind(data, self.path) == "game":
            return self._game_file(GameInput(str(self.path), table=data))
        return self._read_run_config(data)

    def _game_file(self, game: GameInput) -> RunInput:
        return RunInput(
            kind="game",
            path=self.path,
            game=game,
            storage=self.storage,
            project=self._project(None),
            exact=False,
            files=tuple(self.files),
            merged_toml=None,
        )

    def _read_run_config(self, config: dict[str, Any]) -> RunInput:
        _check_run_config_keys(config, self.path)
        folder = self.path.parent
        settings_path: Path | None = None
        file_settings: dict[str, Any] = {}
        if "settings" in config:
            settings_path = folder / _path_text(config["settings"], self.path, "settings")
            file_settings = self._read(settings_path, "settings")
            _check_settings_file(file_settings, settings_path)
        sections = {
            name: _merge_section(name, file_settings, settings_path, config, self.path)
            for name in _SECTIONS
        }
        self.storage = self._storage(sections["runmeta"])
        project = self._project(sections["analysis_project"])
        exact = _exact(sections["solver"])
        method, tolerance = _method_and_tolerance(sections["solver"], exact=exact)
        per_strategy = _per_strategy(sections["output"])
        analyses = self._analyses(sections["approximation"], sections["compare"], folder)
        experiment = _experiment(config, self.path)
        sweep = (
            None
            if "sweep" not in config
            else parse_sweep(config["sweep"], experiment, str(self.path))
        )
        game = self._game_of_run_config(config) if "game" in config else None
        if game is None and experiment is None:
            raise RunConfigError(f"{self.path}: a run config needs 'game' (or an [experiment])")

        sources = {"run_config": str(self.path.resolve())}
        if game is not None and game.path is not None:
            sources["game"] = str(game.path.resolve())
        if settings_path is not None:
            sources["settings"] = str(settings_path.resolve())
        # A URL is stored without its password: the merged input is a file of the run.
        database = (
            {"database_url": public_url(self.storage.database_url)}
            if self.storage.database_url is not None
            else {"db_path": str(self.storage.db_path)}
        )
        merged: dict[str, Any] = {
            "sources": sources,
            "runmeta": {**database, "result_root": str(self.storage.result_root)},
        }
        if project is not None:
            merged["analysis_project"] = {"project_id": project.project_id}
            if project.project_path is not None:
                merged["analysis_project"]["project_path"] = str(project.project_path)
            if project.note:
                merged["analysis_project"]["note"] = project.note
        merged["solver"] = _solver_table(exact, method, tolerance)
        merged["output"] = {"per_strategy": per_strategy}
        merged.update(analyses.merged_tables())
        if experiment is not None:
            merged["experiment"] = experiment.to_table()
        if sweep is not None:
            merged["sweep"] = sweep.to_table()
        if game is not None and game.path is not None:
            # Named by path and digest, not inlined: a roster of 10^6 characters would
            # make a merged input of 100 MB that takes longer to read than the game.
            merged["game"] = sources["game"]
            merged["game_sha256"] = game.sha256
        elif game is not None:
            merged["game"] = game.table
        merged_bytes = _merged_toml(merged, self.path)
        return RunInput(
            kind="run_config",
            path=self.path,
            game=game,
            storage=self.storage,
            project=project,
            exact=exact,
            files=tuple(self.files),
            merged_toml=merged_bytes,
            method=method,
            tolerance=tolerance,
            per_strategy=per_strategy,
            analyses=analyses,
            experiment=experiment,
            sweep=sweep,
        )

    def _analyses(
        self, approximation: _Section, compare: _Section, folder: Path
    ) -> AnalysisSettings:
        """``[approximation] method`` and ``[compare] reference / approximation``."""
        method = approximation.string("method")
        if method is not None and method not in APPROXIMATION_METHODS:
            raise SettingsError(
                f"{approximation.origin['method']}: [approximation] method must be one of "
                f"{', '.join(APPROXIMATION_METHODS)}, got {brief(method)}"
            )
        reference_text = compare.string("reference")
        reference: Path | None = None
        if reference_text is not None:
            # Relative to the file that names it (the contract), like 'game'.
            origin = compare.origin["reference"]
            reference = (origin.parent / reference_text).resolve()
            if not reference.is_file():
                raise SettingsError(f"{origin}: [compare] reference {reference}: no such file")
            self.files.append(InputFile("reference", reference))
        with_approximation = compare.values.get("approximation", False)
        if not isinstance(with_approximation, bool):
            raise SettingsError(
                f"{compare.origin['approximation']}: [compare] approximation must be true or"
                f" false, got {brief(with_approximation)}"
            )
        if with_approximation and (method is None or reference is None):
            raise SettingsError(
                f"{compare.origin['approximation']}: [compare] approximation = true compares"
                " the [approximation] with the reference: give both [approximation] method"
                " and [compare] reference"
            )
        return AnalysisSettings(method, reference, with_approximation)

    def _game_of_run_config(self, config: Mapping[str, Any]) -> GameInput:
        """The run config's ``game``: an inline table, or a file checked by its digest."""
        game_entry = config["game"]
        expected = _sha256_setting(config, self.path)
        if isinstance(game_entry, Mapping):
            source = f"{self.path} [game]"
            if not _GAME_KEYS & game_entry.keys():
                raise RunConfigError(f"{source}: the inline game has no 'matrix' or 'characters'")
            if expected is not None:
                raise RunConfigError(
                    f"{self.path}: 'game_sha256' checks a game file, but 'game' is an inline table"
                )
            return GameInput(source, table=dict(game_entry))
        game_path = self.path.parent / _path_text(game_entry, self.path, "game")
        self._note(game_path, "game")
        digest = _file_sha256(game_path)
        if expected is not None and digest != expected:
            raise RunConfigError(
                f"{self.path}: the game file {game_path} is not the one game_sha256 names: "
                f"its SHA-256 is {digest}, not {expected}"
            )
        return GameInput(str(game_path), path=game_path, named_by=self.path, sha256=digest)

    def _path(self, section: _Section, key: str) -> Path | None:
        """The setting ``key`` as an absolute path (``None`` when not set)."""
        text = section.string(key)
        if text is None:
            return None
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.root / path
        problem = path_problem(path)
        if problem is None:
            path = path.resolve()
            problem = path_problem(path)  # resolving can lengthen it
        if problem is not None:
            raise SettingsError(
                f"{section.origin[key]}: [{section.name}] {key} {brief(text)} "
                f"is not a usable path: {problem}"
            )
        return path

    def _storage(self, section: _Section) -> StorageLocation:
        url = _database_url(section, self.path)
        db_path = None if url is not None else self._path(section, "db_path")
        result_root = self._path(section, "result_root")
        return StorageLocation(
            db_path if db_path is not None else self.storage.db_path,
            result_root if result_root is not None else self.storage.result_root,
            url,
        )

    def _project(self, section: _Section | None) -> ProjectSettings | None:
        configured: ProjectSettings | None = None
        if section is not None:
            project_id = section.string("project_id")
            path = self._path(section, "project_path")
            note = section.string("note", allow_empty=True) or ""
            if project_id is None and section.values:
                where = next(iter(section.origin.values()))
                raise SettingsError(f"{where}: [analysis_project] needs a project_id")
            if project_id is not None:
                configured = ProjectSettings(project_id, path, note)
        if self.project_override is None:
            return configured
        if configured is not None and configured.project_id == self.project_override:
            return configured
        return ProjectSettings(self.project_override)


@dataclass(frozen=True, slots=True)
class _Section:
    """One merged settings table, remembering which file each key came from."""

    name: str
    values: Mapping[str, Any]
    origin: Mapping[str, Path]

    def string(self, key: str, *, allow_empty: bool = False) -> str | None:
        if key not in self.values:
            return None
        value = self.values[key]
        if not isinstance(value, str) or not (allow_empty or value.strip()):
            kind = "a string" if allow_empty else "a non-empty string"
            raise SettingsError(
                f"{self.origin[key]}: [{self.name}] {key} must be {kind}, got {brief(value)}"
            )
        return value


def _merged_toml(merged: Mapping[str, Any], config_path: Path) -> bytes:
    """The merged input as the UTF-8 TOML stored as ``input/merged_input.toml``."""
    try:
        return (_MERGED_HEADER + dumps(merged)).encode("utf-8")
    except UnicodeEncodeError as err:  # a path made of bytes that are not UTF-8 (--root)
        raise RunConfigError(
            f"{config_path}: cannot store the merged input: a path in it is not valid UTF-8"
        ) from err
    except (TypeError, ValueError) as err:  # pragma: no cover - tomllib output is writable
        raise RunConfigError(f"{config_path}: cannot store the merged input: {err}") from err


def _path_text(value: object, config_path: Path, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RunConfigError(
            f"{config_path}: '{key}' must be a path (a non-empty string), got {brief(value)}"
        )
    problem = path_problem(value)
    if problem is not None:
        raise RunConfigError(f"{config_path}: '{key}' is not a usable path: {problem}")
    return value


_NAME_MAX = 255
"""Longest file name (bytes) of common file systems (ext4, XFS, APFS, NTFS in UTF-16 units)."""
_PATH_MAX = 4096
"""Longest path (bytes, with the final NUL) Linux accepts in one system call."""


def path_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot name a file on this system (a NUL, a name too long), or ``None``.

    Checked before a path is used, so that the answer is one line naming the entry
    rather than an ``OSError`` or ``ValueError`` from deep inside whoever opens it.
    """
    text = str(path)
    if "\0" in text:
        return "it holds a NUL character"
    encoded = os.fsencode(text)
    if len(encoded) >= _PATH_MAX:
        return f"it is {len(encoded):,} bytes long (the limit is {_PATH_MAX - 1:,})"
    longest = max(encoded.split(os.fsencode(os.sep)), key=len)
    if len(longest) > _NAME_MAX:
        return f"a name in it is {len(longest):,} bytes long (the limit is {_NAME_MAX})"
    return None


def _check_settings_file(data: Mapping[str, Any], path: Path) -> None:
    for name in data:
        if name not in _SECTIONS:
            raise SettingsError(
                f"{path}: unknown entry {brief(name)} in a settings file "
                f"(expected tables: {', '.join(_SECTIONS)})"
            )


def _merge_section(
    name: str,
    file_settings: Mapping[str, Any],
    settings_path: Path | None,
    config: Mapping[str, Any],
    config_path: Path,
) -> _Section:
    values: dict[str, Any] = {}
    origin: dict[str, Path] = {}
    for source, path in ((file_settings, settings_path), (config, config_path)):
        if name not in source or path is None:
            continue
        table = source[name]
        if not isinstance(table, Mapping):
            raise SettingsError(f"{path}: [{name}] must be a table, got {brief(table)}")
        for key, value in table.items():
            if key not in _SECTIONS[name]:
                raise SettingsError(
                    f"{path}: unknown key {brief(key)} in [{name}] "
                    f"(expected: {', '.join(sorted(_SECTIONS[name]))})"
                )
            values[key] = value
            origin[key] = path
    return _Section(name, values, origin)


def _database_url(section: _Section, run_config: Path) -> str | None:
    """``[runmeta] database_url``: a PostgreSQL URL (its password never shown), or ``None``.

    With ``db_path`` beside it, the one the run config itself gives wins over the
    settings file's; both in one file are refused.
    """
    value = section.values.get("database_url")
    if value is None:
        return None
    where = section.origin["database_url"]
    if not isinstance(value, str) or not is_database_url(value):
        shown = repr(public_url(value)) if isinstance(value, str) else brief(value)
        raise SettingsError(
            f"{where}: [runmeta] database_url must be a PostgreSQL URL"
            f" (postgresql://user@host:5432/database), got {shown}"
        )
    if DatabaseUrl(value).has_password:
        # Settings files are inputs: copied, byte for byte, into every run's folder.
        raise SecretInSettingsError(
            f"{where}: [runmeta] database_url {public_url(value)!r} holds a password, which"
            " would be copied into every run folder with this file; give it in PGPASSWORD,"
            " ~/.pgpass or RUNMETA_DATABASE_URL instead"
        )
    if "db_path" in section.values:
        path_from = section.origin["db_path"]
        if path_from == where:
            raise SettingsError(f"{where}: [runmeta] gives both db_path and database_url; keep one")
        if path_from == run_config:
            return None  # the run config's db_path over the settings file's URL
    return value.strip()


def _exact(section: _Section) -> bool:
    if "exact" not in section.values:
        return False
    value = section.values["exact"]
    if not isinstance(value, bool):
        raise SettingsError(
            f"{section.origin['exact']}: [solver] exact must be true or false, got {brief(value)}"
        )
    return value


def _method_and_tolerance(section: _Section, *, exact: bool) -> tuple[str, float | None]:
    """``[solver] method`` (default ``auto``; ``exact = true`` means ``exact``) and tolerance."""
    method = section.string("method") or ("exact" if exact else "auto")
    origin = section.origin.get("method") or section.origin.get("tolerance")
    if exact and method != "exact":
        raise SettingsError(
            f"{section.origin['method']}: [solver] exact = true asks for the exact method, "
            f"but method = {brief(method)}; give one of the two"
        )
    tolerance = section.values.get("tolerance")
    if origin is not None:
        try:
            check_solver_settings(method, tolerance, f"{origin}: [solver]")
        except SolverSettingError as err:
            raise SettingsError(str(err)) from err
    return method, None if tolerance is None else float(tolerance)


def _solver_table(exact: bool, method: str, tolerance: float | None) -> dict[str, Any]:
    """The merged input's ``[solver]`` table: ``exact``, and what differs from the defaults."""
    table: dict[str, Any] = {"exact": exact}
    if method not in {"auto", "exact"}:
        table["method"] = method
    if tolerance is not None:
        table["tolerance"] = tolerance
    return table


def _per_strategy(section: _Section) -> PerStrategy:
    """``[output] per_strategy``: how the per-strategy results are written (default json)."""
    value = section.values.get("per_strategy", PER_STRATEGY_MODES[0])
    for mode in PER_STRATEGY_MODES:
        if value == mode:
            return mode
    choices = ", ".join(repr(mode) for mode in PER_STRATEGY_MODES)
    raise SettingsError(
        f"{section.origin['per_strategy']}: [output] per_strategy must be one of {choices}, "
        f"got {brief(value)}"
    )


def _kind(data: Mapping[str, Any], path: Path) -> InputKind:
    """Whether the TOML table read from ``path`` is a game or a run config (else raise)."""
    if _GAME_KEYS & data.keys():
        if "game" in data:
            raise RunConfigError(
                f"{path}: has both a game table (matrix/characters) and a run "
                "config's 'game' entry; use one or the other"
            )
        return "game"
    if not data:
        raise RunConfigError(
            f"{path}: the file has no entries; expected a game file ('matrix' or "
            "'characters') or a run config ('game')"
        )
    if "game" not in data and "experiment" not in data:
        raise RunConfigError(
            f"{path}: neither a game file (no 'matrix' or 'characters') "
            "nor a run config (no 'game' entry or [experiment] table)"
        )
    return "run_config"


def _experiment(config: Mapping[str, Any], path: Path) -> ExperimentSettings | None:
    """The run config's ``[experiment]`` (``None`` without one); errors as ``SettingsError``."""
    if "experiment" not in config:
        return None
    try:
        return parse_experiment(config["experiment"], str(path))
    except GameError as err:
        raise SettingsError(str(err)) from None


def _check_run_config_keys(config: Mapping[str, Any], path: Path) -> None:
    unknown = sorted(config.keys() - _RUN_CONFIG_KEYS)
    if unknown:
        raise RunConfigError(
            f"{path}: unknown entry {brief(unknown[0])} in a run config "
            f"(expected: {', '.join(sorted(_RUN_CONFIG_KEYS - {'sources'}))})"
        )


def _read_in_the_run(path: Path) -> bool:
    """Whether the input ``path`` is surely a game file (or a mistake), read inside the run.

    CSV and JSON inputs are game files. A TOML input is one when its first entry (after
    comments and blank lines) is ``matrix``, ``labels`` or ``characters``: a run config
    holding any of them is refused before its settings are read, so whatever the file
    turns out to be, the run is recorded in the default locations. Only the start of
    the file is looked at; a file that cannot be read is left to the reading to report.
    """
    if game_file_format(path) != "toml":
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFFED_BYTES)
    except (OSError, ValueError):
        return False
    for line in head.removeprefix(b"\xef\xbb\xbf").splitlines():
        text = line.strip()
        if text and not text.startswith(b"#"):
            return _GAME_START.match(text) is not None
    return False


def _file_sha256(path: Path) -> str:
    """The SHA-256 of the game file ``path``; ``InputFileError`` when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a game file") from None
    except OSError as err:
        raise InputFileError(f"{path}: cannot read: {err.strerror or err}") from err


def _sha256_setting(config: Mapping[str, Any], path: Path) -> str | None:
    """The run config's ``game_sha256`` in lower case (``None`` when not given)."""
    value = config.get("game_sha256")
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise RunConfigError(
            f"{path}: 'game_sha256' must be 64 hexadecimal digits (a SHA-256), got {brief(value)}"
        )
    return value.lower()


def read_game(game: GameInput) -> Game:
    """Read and check the run's game: its table, or its file in the format of its extension.

    Raises ``GameError`` for a game that is not valid (naming the file and the entry)
    and ``RunConfigError`` for a TOML file that is not a game at all.
    """
    if game.table is not None:
        return parse_game(game.table, game.source)
    if game.path is None:  # pragma: no cover - a GameInput holds one of the two
        raise ValueError("a game input without a table or a path")
    if game_file_format(game.path) != "toml":
        return read_game_file(game.path)
    data = read_toml_file(game.path)
    if game.named_by is not None:
        if not _GAME_KEYS & data.keys():
            raise RunConfigError(
                f"{game.path}: not a game file (no 'matrix' or 'characters'), "
                f"named by 'game' in {game.named_by}"
            )
    elif _kind(data, game.path) != "game":  # a run config beginning with a game's entry
        _check_run_config_keys(data, game.path)  # refuses it, naming that entry
    return parse_game(data, game.source)
