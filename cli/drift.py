"""`envparity drift`: does what runs still match the spec?"""

from __future__ import annotations

from pathlib import Path

import typer
from envparity.cli.common import console, fail, load_or_exit, print_json

from envparity.core.drift.targets import NAMES


def drift(
    specs: list[Path] = typer.Argument(
        ..., help="Spec files, e.g. envspecs/train.yaml.", show_default=False
    ),
    stage: str = typer.Option(..., "--stage", "-s", help="The stage to check.", show_default=False),
    target: str = typer.Option(
        ..., "--target", "-t", show_default=False, help=f"What to check: {', '.join(NAMES)}."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (format in docs/drift.md)."),
    junit: Path = typer.Option(
        None, "--junit", metavar="FILE", help="Also write JUnit XML to FILE (one test per check)."
    ),
    state: Path = typer.Option(
        None, "--state", metavar="FILE", help="pulumi target: the output of `pulumi stack export`."
    ),
    stacks: Path = typer.Option(
        Path("stacks"),
        "--stacks",
        metavar="DIR",
        help="Where the stack configs (recorded image digests) live.",
    ),
    timeout: float = typer.Option(
        10.0,
        "--timeout",
        min=0.5,
        max=600.0,
        help="Seconds each target may take, retries included.",
    ),
) -> None:
    """Compare what runs (host, docker, kubernetes, aws, pulumi state) with the spec.

    Exit 0 in sync; 2 drift found; 3 something could not be checked (unreachable,
    denied, timed out, partial); 1 usage or spec error.
    """
    from envparity.core.drift.findings import exit_code
    from envparity.core.drift.report import print_human, to_json, to_junit
    from envparity.core.drift.targets import target as named
    from envparity.core.render.files import write_atomic
    from envparity.flows.drift_check import Options, check_all

    named(target)  # an unknown target is reported before any spec is read
    if state is not None and not state.is_file():
        fail(f"--state {state}: no such file", f"pulumi stack export --stack {stage} > {state}")
    results = check_all(load_or_exit(specs), stage, target, Options(stacks, state, timeout))
    if junit is not None:
        try:
            write_atomic(junit, to_junit(results))
        except OSError as exc:
            fail(
                f"cannot write --junit {junit}: {exc.strerror or exc}",
                "pass a path in a writable directory",
            )
    if json_out:
        print_json(to_json(results))
    else:
        print_human(results, console())
    raise typer.Exit(exit_code(results))
