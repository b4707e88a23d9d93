"""Rendering the project-level files of the environment set: stack configs, the scheduled
drift workflow and editors' devcontainers.

Each is rendered from every spec of the set (`envparity.core.project.environment_set`),
whichever specs the command was given, and only into a folder that exists: rendering from
elsewhere must not create project folders as a side effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from envparity.core.diagnostics import Diagnostic
from envparity.core.model import Spec

STACKS = Path("stacks")
WORKFLOWS = Path(".github") / "workflows"
DEVCONTAINERS = Path(".devcontainer")


@dataclass(frozen=True)
class Rendered:
    """The project files written (or, when checking, stale), and warnings of specs of the set
    that were not given."""

    changed: list[Path] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def render_project_files(given: Iterable[Spec], root: Path, *, check: bool) -> Rendered:
    """Write (or with `check`, only list) the stale project files under `root`: Pulumi stack
    configs in stacks/, the drift workflow in .github/workflows/ and editors' devcontainers
    in .devcontainer/<name>/, each only when that folder exists."""
    from envparity.core.render.files import stale_files, write_files

    if not any((root / d).is_dir() for d in (STACKS, WORKFLOWS, DEVCONTAINERS)):
        return Rendered()
    specs, warnings = environment_set(root, given)
    changed: list[Path] = []
    if (root / STACKS).is_dir():
        from envparity.core.render.stack_config import render_stack_configs

        changed += render_stack_configs(specs, root / STACKS, check=check)
    generated = []
    if (root / WORKFLOWS).is_dir():
        from envparity.core.render.workflow import PATH, render_workflow

        generated.append({PATH: render_workflow(specs, root)})
    if (root / DEVCONTAINERS).is_dir():
        generated.append(_editor_devcontainers(specs))
    for files in generated:  # one after the other: the workflow is listed first
        written = stale_files(root, files) if check else write_files(root, files)
        changed += [root / p for p in written]
    return Rendered(changed, warnings)


def environment_set(root: Path, given: Iterable[Spec]) -> tuple[list[Spec], list[Diagnostic]]:
    """The specs of the set, reusing those already loaded, and the warnings of the others."""
    from envparity.core.project import environment_set as paths_of_set
    from envparity.core.spec import load_specs

    loaded = {Path(spec.source).resolve(): spec for spec in given}
    paths = paths_of_set(root)
    missing = [p for p in paths if p.resolve() not in loaded]
    extra = dict(zip((p.resolve() for p in missing), load_specs(missing), strict=True))
    warnings = [w for spec in extra.values() for w in spec.warnings]
    return [loaded.get(p.resolve()) or extra[p.resolve()] for p in paths], warnings


def _editor_devcontainers(specs: Iterable[Spec]) -> dict[str, bytes]:
    """.devcontainer/<name>/devcontainer.json of each spec of the set with a local stage."""
    from envparity.core.render.devcontainer import editor_path, render_editor_devcontainer
    from envparity.core.resolve import resolve

    return {
        editor_path(spec.name): render_editor_devcontainer(resolve(spec, "local")).encode()
        for spec in specs
        if "local" in spec.stages
    }
