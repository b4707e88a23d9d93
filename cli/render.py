"""`envparity render`: the generated files of each spec, written or checked."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from envparity.cli.common import INVALID, fail, load_or_exit


def render(
    specs: list[Path] = typer.Argument(
        ..., show_default=False, help="Spec files, or directories of them, e.g. envspecs/*.yaml."
    ),
    out: Path = typer.Option(Path("build"), "--out", "-o", help="Write under OUT/<name>/."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 naming each generated file that is stale."
    ),
) -> None:
    """Generate the Dockerfile, lock files, .dockerignore and devcontainer.json of each spec.

    Lock files are made by `envparity lock` and kept beside the spec; render copies them.
    The stack configs (stacks/) and the drift workflow (.github/workflows/) are rendered
    from the whole environment set (every spec in envspecs/, or the folder
    `[tool.envparity] specs-dir` names), whichever specs are given.
    Exit 0 when done (or, with --check, when everything is up to date), 1 otherwise.
    """
    from envparity.core.render.artifacts import render as render_spec
    from envparity.core.render.artifacts import stale, write
    from envparity.core.render.dockerfile import RenderError

    rendered = []
    for spec in load_or_exit(_spec_files(specs)):
        try:
            rendered.append(render_spec(spec, require_locks=False))
        except RenderError as exc:
            message = (
                exc.message
                if exc.message.startswith(spec.source)
                else f"{spec.source}: {exc.message}"
            )
            fail(message, exc.hint)
    for result in rendered:
        sys.stderr.writelines(f"warning: {w}\n" for w in result.warnings)
    project = _project_files([r.spec for r in rendered], check=check)
    if check:
        outdated = [path for result in rendered for path in stale(result, out)] + project
        for path in outdated:
            sys.stderr.write(f"stale: {path}\n")
        if outdated:
            sys.stderr.write(
                f"error: {len(outdated)} generated file(s) are stale "
                f"(hint: run `envparity render {' '.join(str(s) for s in specs)}`)\n"
            )
            raise typer.Exit(INVALID)
        sys.stdout.write(f"ok: generated files of {len(rendered)} spec(s) are up to date\n")
        return
    for path in project:
        sys.stdout.write(f"wrote {path}\n")
    for result in rendered:
        written = write(result, out)
        sys.stdout.write(
            f"{result.spec.name}: {len(written)} written, "
            f"{len(result.files) - len(written)} unchanged in {out / result.spec.name}\n"
        )


def _spec_files(paths: list[Path]) -> list[Path]:
    """Each path, with a directory replaced by its *.yaml and *.yml files (for pre-commit hooks)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            out.append(path)
    return out


STACKS = Path("stacks")
WORKFLOWS = Path(".github") / "workflows"
DEVCONTAINERS = Path(".devcontainer")


def _editor_devcontainers(specs) -> dict[str, bytes]:
    """.devcontainer/<name>/devcontainer.json of each spec of the set with a local stage."""
    from envparity.core.render.devcontainer import editor_path, render_editor_devcontainer
    from envparity.core.resolve import resolve

    return {
        editor_path(spec.name): render_editor_devcontainer(resolve(spec, "local")).encode()
        for spec in specs
        if "local" in spec.stages
    }


def _project_files(given, *, check: bool) -> list[Path]:
    """The project-level files of the environment set, written (or, with `check`, listed)
    when stale.

    The project root is the working directory. Pulumi stack configs go to ./stacks/, the
    scheduled drift workflow to ./.github/workflows/ and editors' devcontainers to
    ./.devcontainer/<name>/, each only when that folder exists: rendering from elsewhere
    must not create project folders as a side effect.
    """
    from envparity.core.diagnostics import UserError
    from envparity.core.render.files import stale_files, write_files

    if not (STACKS.is_dir() or WORKFLOWS.is_dir() or DEVCONTAINERS.is_dir()):
        return []
    root = Path()
    try:
        specs = _environment_set(root, given)
        changed: list[Path] = []
        if STACKS.is_dir():
            from envparity.core.render.stack_config import render_stack_configs

            changed += render_stack_configs(specs, STACKS, check=check)
        if WORKFLOWS.is_dir():
            from envparity.core.render.workflow import PATH, render_workflow

            files = {PATH: render_workflow(specs, root)}
            written = stale_files(root, files) if check else write_files(root, files)
            changed += [Path(p) for p in written]
        if DEVCONTAINERS.is_dir():
            files = _editor_devcontainers(specs)
            written = stale_files(root, files) if check else write_files(root, files)
            changed += [Path(p) for p in written]
    except UserError as exc:
        fail(exc.message, exc.hint)
    return changed


def _environment_set(root: Path, given):
    """The specs of the set, reusing those already loaded from the command line."""
    from envparity.core.project import environment_set

    loaded = {Path(spec.source).resolve(): spec for spec in given}
    paths = environment_set(root)
    missing = [p for p in paths if p.resolve() not in loaded]
    extra = dict(zip((p.resolve() for p in missing), load_or_exit(missing), strict=True))
    return [loaded.get(p.resolve()) or extra[p.resolve()] for p in paths]
