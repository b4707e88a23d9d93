"""`envparity import`: a spec drafted from a Cog, Truss or BentoML file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from envparity.cli.common import INVALID, fail, print_diagnostics, print_json

from envparity.core.diagnostics import SpecError


def import_spec(
    path: Path = typer.Argument(
        ...,
        help="A cog.yaml, a Truss config.yaml or a bentofile.yaml, or the folder that holds it.",
        show_default=False,
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the spec here instead of printing it; python_requirements is made "
        "relative to it.",
    ),
    json_out: bool = typer.Option(
        False, "--json", help="Print {spec, valid, problems} as JSON instead of YAML."
    ),
) -> None:
    """Draft a spec from a peer's config file and validate it.

    What the peer leaves implicit (CUDA, cuDNN, Python patch release) is resolved the way the
    peer does; what has no place in a spec is kept as YAML comments. Exit 0 when the drafted
    spec validates, 1 when it does not (its problems are printed on stderr) or the file
    cannot be read.
    """
    from envparity.core.peer_import import PeerFileError, import_file
    from envparity.core.spec import parse_spec

    try:
        draft = import_file(path)
    except PeerFileError as exc:
        fail(exc.message, exc.hint)
    # python_requirements is relative to the folder the spec will be in: the output's, else
    # the peer file's (print it, save it beside the peer file).
    path = Path(draft.source)  # the peer file, also when a folder was given
    folder = output.parent if output else path.parent
    if "python_requirements" in draft.fields:
        peer_relative = path.parent / draft.fields["python_requirements"]
        draft.fields["python_requirements"] = os.path.relpath(peer_relative, folder)
    text = draft.to_yaml()
    shown = str(output) if output else str(folder / f"{draft.fields['name']}.envspec.yaml")
    problems = []
    try:
        spec = parse_spec(text, shown, read=_beside(folder))
        problems = list(spec.warnings)
    except SpecError as exc:
        problems = exc.diagnostics
    problems = [*draft.problems, *problems]  # what the spec could not say about the peer file
    valid = not any(d.severity == "error" for d in problems)
    if json_out:
        print_json({"spec": text, "valid": valid, "problems": [d.to_json() for d in problems]})
    elif output:
        from envparity.core.render.files import write_atomic

        write_atomic(output, text.encode())
        sys.stdout.write(f"wrote {output}\n")
    else:
        sys.stdout.write(text)
    if not json_out:
        print_diagnostics(problems)
    if not valid:
        raise typer.Exit(INVALID)


def _beside(folder: Path):
    def read(relative: str) -> str | None:
        try:
            return (folder / relative).read_text(encoding="utf-8")
        except OSError:
            return None

    return read
