"""`envparity import`: a spec drafted from a Cog, Truss or BentoML file."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from envparity.cli.common import INVALID, print_diagnostics, print_json


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
    from envparity.flows.peer import draft_spec

    draft = draft_spec(path, output)
    if json_out:
        problems = [d.to_json() for d in draft.problems]
        print_json({"spec": draft.text, "valid": draft.valid, "problems": problems})
    elif output:
        from envparity.core.render.files import write_atomic

        write_atomic(output, draft.text.encode())
        sys.stdout.write(f"wrote {output}\n")
    else:
        sys.stdout.write(draft.text)
    if not json_out:
        print_diagnostics(draft.problems)
    if not draft.valid:
        raise typer.Exit(INVALID)
