"""`envparity promote`, `rollback` and `history`: move recorded images between and within stages."""

from __future__ import annotations

from pathlib import Path

import typer
from envparity.cli.common import console, fail, load_or_exit, print_json, resolve_or_exit

SPEC = typer.Argument(..., help="A spec file, e.g. envspecs/train.yaml.", show_default=False)
STACKS = typer.Option(
    Path("stacks"), "--stacks", metavar="DIR", help="Where the stack configs are."
)
DRIFT_TARGETS = ("host", "docker", "kubernetes", "aws")


def promote(
    spec: Path = SPEC,
    source: str = typer.Option(
        ..., "--from", help="The tested stage, e.g. testing.", show_default=False
    ),
    target: str = typer.Option(
        ..., "--to", help="The stage to promote to, e.g. staging.", show_default=False
    ),
    require_clean_drift: bool = typer.Option(
        False, "--require-clean-drift", help="Refuse unless drift finds the source stage in sync."
    ),
    drift_target: str = typer.Option(
        "kubernetes",
        "--drift-target",
        help=f"What --require-clean-drift checks: {', '.join(DRIFT_TARGETS)}.",
    ),
    stacks: Path = STACKS,
    json_out: bool = typer.Option(False, "--json", help="Print what was recorded as JSON."),
) -> None:
    """Copy the image recorded for --from into --to's repository by digest (no rebuild) and record it in --to's stack config.

    The copy's digest and its fingerprint label are verified against the spec. Exit 0 promoted; 1 refused (no recorded image, other software, registry error); 2 --require-clean-drift found drift; 3 --require-clean-drift could not check.
    """  # noqa: E501 -- typer keeps a docstring's line breaks, so each paragraph is one line
    from envparity.adapters.git import spec_commit
    from envparity.adapters.registry import RegistryError
    from envparity.flows.promote import PromotionError
    from envparity.flows.promote import promote as run

    [loaded] = load_or_exit([spec])
    for stage in (source, target):
        if stage not in loaded.stages:
            fail(f"{spec}: no stage {stage!r}", f"use one of {', '.join(loaded.stages)}")
    if source == target:
        fail("--from and --to name the same stage", "promote to the next stage, e.g. --to staging")
    source_env, target_env = resolve_or_exit(loaded, source), resolve_or_exit(loaded, target)
    if require_clean_drift:
        _require_clean_drift(loaded, source_env, drift_target, stacks)
    try:
        moved = run(
            stacks, source_env, target_env, commit=spec_commit(loaded.source), spec=str(spec)
        )
    except (PromotionError, RegistryError) as exc:
        fail(exc.message, exc.hint)
    _report(moved, json_out, f"promoted {source} -> {target}")


def rollback(
    spec: Path = SPEC,
    stage: str = typer.Option(
        ..., "--stage", "-s", help="The stage to roll back.", show_default=False
    ),
    to: str = typer.Option(
        None,
        "--to",
        metavar="DIGEST",
        help="The sha256:... to restore (default: the previous one).",
    ),
    stacks: Path = STACKS,
    json_out: bool = typer.Option(False, "--json", help="Print what was recorded as JSON."),
) -> None:
    """Record the previous (or --to) image of the spec's software in the stage's stack config, after checking the registry still has it.

    Then `pulumi up --stack STAGE` deploys it. Exit 0 rolled back; 1 refused (no earlier image, not in the history, gone from the registry, other software).
    """  # noqa: E501 -- typer keeps a docstring's line breaks, so each paragraph is one line
    from envparity.adapters.git import spec_commit
    from envparity.adapters.registry import RegistryError
    from envparity.flows.promote import PromotionError
    from envparity.flows.promote import rollback as run

    [loaded] = load_or_exit([spec])
    if stage not in loaded.stages:
        fail(f"{spec}: no stage {stage!r}", f"use one of {', '.join(loaded.stages)}")
    env = resolve_or_exit(loaded, stage)
    try:
        moved = run(stacks, env, to, commit=spec_commit(loaded.source), spec=str(spec))
    except (PromotionError, RegistryError) as exc:
        fail(exc.message, exc.hint)
    _report(moved, json_out, f"rolled back {stage}")


def history(
    spec: Path = SPEC,
    stage: str = typer.Option(..., "--stage", "-s", help="The stage.", show_default=False),
    stacks: Path = STACKS,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the images recorded for the spec's environment in the stage, newest first.

    Exit 0 listed (also when empty); 1 usage or stack config error.
    """
    from rich.table import Table
    from rich.text import Text

    from envparity.flows.promote import PromotionError
    from envparity.flows.promote import history as read

    [loaded] = load_or_exit([spec])
    if stage not in loaded.stages:
        fail(f"{spec}: no stage {stage!r}", f"use one of {', '.join(loaded.stages)}")
    try:
        entries = read(stacks, stage, loaded.name)
    except PromotionError as exc:
        fail(exc.message, exc.hint)
    if json_out:
        print_json(
            {
                "name": loaded.name,
                "stage": stage,
                "history": [
                    {
                        "image": str(e.image),
                        "digest": e.image.digest,
                        "recorded": e.recorded,
                        "commit": None if e.commit == "-" else e.commit,
                        "how": e.how,
                    }
                    for e in entries
                ],
            }
        )
        return
    out = console()
    if not entries:
        out.print(f"no images recorded for {loaded.name} in stage {stage}", markup=False)
        return
    table = Table(title=f"{loaded.name} in {stage}, newest first")
    for column in ("recorded", "how", "digest", "tag", "commit"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            *(Text(x) for x in (e.recorded, e.how, e.image.digest, e.image.tag, e.commit))
        )
    out.print(table)


def _require_clean_drift(spec, env, target: str, stacks: Path) -> None:
    from envparity.core.drift.findings import exit_code
    from envparity.core.drift.report import print_human
    from envparity.flows.drift_check import DriftSetupError, Options, check

    if target not in DRIFT_TARGETS:
        fail(f"unknown --drift-target {target!r}", f"use one of {', '.join(DRIFT_TARGETS)}")
    try:
        result = check(spec, env, target, Options(stacks_dir=stacks))
    except DriftSetupError as exc:
        fail(exc.message, exc.hint)
    code = exit_code([result])
    if code:
        err = console(stderr=True)
        print_human([result], err)
        err.print(
            f"error: not promoting: stage {env.stage} is not in sync on {target} "
            "(hint: fix the drift above, or promote without --require-clean-drift)",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(code)


def _report(moved, json_out: bool, what: str) -> None:
    import sys

    before = str(moved.before) if moved.before else None
    if json_out:
        print_json(
            {
                "stage": moved.stage,
                "before": before,
                "after": str(moved.after),
                "stack_config": str(moved.config),
            }
        )
        return
    sys.stdout.write(f"{moved.after}\n")
    err = console(stderr=True)
    err.print(f"{what}: recorded {moved.after} in {moved.config}", markup=False, soft_wrap=True)
    if before == str(moved.after):
        change = "nothing (that image was already recorded)"
    else:
        was = before or "(none recorded)"
        change = f"the {moved.after.name} Deployment's image {was} -> {moved.after}"
    err.print(
        f"`pulumi up --stack {moved.stage}` will change: {change}", markup=False, soft_wrap=True
    )
