"""Attach a run to an analysis project: use a registered one or register it from settings."""

from __future__ import annotations

from monocycle_nash.app.command_line import storable
from monocycle_nash.app.errors import InputError
from monocycle_nash.app.run_config import ProjectSettings
from monocycle_nash.runmeta import (
    InvalidProjectPathError,
    ProjectNotFoundError,
    RunMetaError,
    RunSessionService,
)

__all__ = ["ProjectSetupError", "prepare_project"]


class ProjectSetupError(InputError):
    """The requested analysis project is unknown, or registered with another path."""


def prepare_project(service: RunSessionService, project: ProjectSettings) -> str:
    """Return the id to start the run with, registering the project when a path is given.

    Raises ``ProjectSetupError`` for an id that is blank, unknown without a path, or
    registered with a different path than the settings give, and when registering fails.
    """
    project_id = project.project_id
    if not project_id.strip():
        raise ProjectSetupError(f"invalid project id {project_id!r}: it must not be empty")
    for what, text in (("project id", project_id), ("project path", str(project.project_path))):
        if storable(text) != text:
            raise ProjectSetupError(
                f"invalid {what} '{storable(text)}': it holds bytes that are not UTF-8 text "
                "(shown with \\x escapes)"
            )
    try:
        service.ensure_project(project_id, project.project_path, project.note)
    except ProjectNotFoundError as err:
        raise ProjectSetupError(
            f"project {project_id!r} is not registered; register it with `runmeta "
            f"add-project --project-id {project_id} --project-path PATH` or give "
            "[analysis_project] project_path in the settings"
        ) from err
    except InvalidProjectPathError as err:
        raise ProjectSetupError(
            f"{err}, not {project.project_path}; change it with `runmeta update-project "
            f"--project-id {project_id} --project-path ...` or use another id"
        ) from err
    except RunMetaError as err:  # e.g. the database stayed locked
        raise ProjectSetupError(f"cannot register project {project_id!r}: {err}") from err
    return project_id
