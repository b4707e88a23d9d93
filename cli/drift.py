"""`envparity drift`: does what runs still match the spec?"""

from __future__ import annotations

from pathlib import Path

import typer
from envparity.cli.common import INVALID, console, fail, load_or_exit, print_json, resolve_or_exit

TARGETS = ("host", "docker", "kubernetes", "aws", "pulumi")


def drift(
    specs: list[Path] = typer.Argument(
        ..., help="Spec files, e.g. envspecs/train.yaml.", show_default=False
    ),
    stage: str = typer.Option(..., "--stage", "-s", help="The stage to check.", show_default=False),
    target: str = typer.Option(
        ..., "--target", "-t", show_default=False, help=f"What to check: {', '.join(TARGETS)}."
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
    from envparity.core.render.files import write_atomic
    from envparity.flows.drift_check import DriftSetupError, Options, check

    if target not in TARGETS:
        fail(f"unknown target {target!r}", f"use one of {', '.join(TARGETS)}", INVALID)
    if state is not None and not state.is_file():
        fail(f"--state {state}: no such file", f"pulumi stack export --stack {stage} > {state}")
    loaded = load_or_exit(specs)
    results = []
    for spec in loaded:
        if stage not in spec.stages:
            fail(
                f"{spec.source}: no stage {stage!r}",
                f"use one of {', '.join(spec.stages) or '(none declared)'}",
            )
        env = resolve_or_exit(spec, stage)
        try:
            results.append(check(spec, env, target, Options(stacks, state, timeout)))
        except DriftSetupError as exc:
            fail(exc.message, exc.hint)
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
