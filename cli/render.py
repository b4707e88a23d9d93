"""`envparity render`: the generated files of each spec, written or checked."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from envparity.cli.common import INVALID, load_or_exit, print_diagnostics


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
    from envparity.core.render import RenderError
    from envparity.core.render.artifacts import render as render_spec
    from envparity.core.render.artifacts import stale, write
    from envparity.flows.render_project import render_project_files

    rendered = []
    for spec in load_or_exit(_spec_files(specs)):
        try:
            rendered.append(render_spec(spec, require_locks=False))
        except RenderError as exc:  # say which spec, once
            if exc.message.startswith(spec.source):
                raise
            raise type(exc)(f"{spec.source}: {exc.message}", exc.hint) from None
    for result in rendered:
        sys.stderr.writelines(f"warning: {w}\n" for w in result.warnings)
    project = render_project_files([r.spec for r in rendered], Path(), check=check)
    print_diagnostics(project.warnings)
    if check:
        outdated = [path for result in rendered for path in stale(result, out)] + project.changed
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
    for path in project.changed:
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
