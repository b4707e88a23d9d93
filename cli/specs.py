"""Commands about specs themselves: validate, show, schema, parity."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from envparity.cli.common import (
    DIFFERENT,
    INVALID,
    console,
    load_or_exit,
    print_diagnostics,
    print_json,
    resolve_or_exit,
)

from envparity.core.diagnostics import SpecError

SPECS = typer.Argument(..., help="Spec files, e.g. envspecs/*.yaml.", show_default=False)
SPEC = typer.Argument(..., help="A spec file, e.g. envspecs/train.yaml.", show_default=False)
JSON = typer.Option(False, "--json", help="Print JSON for machines instead of text.")


def validate(
    specs: list[Path] = SPECS,
    json_out: bool = JSON,
    against: str = typer.Option(
        None,
        "--against",
        metavar="GIT_REF",
        help="Also fail when the software changed since GIT_REF but `version` "
        "was not raised enough.",
    ),
) -> None:
    """Check specs against the schema and the compatibility tables.

    Problems are printed as `file:line:col: severity: path: message (hint: ...)`.
    Exit 0 when every spec is valid, 1 otherwise.
    """
    from envparity.core.spec import check_unique_names, load_spec

    diagnostics, loaded = [], []
    for path in specs:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        loaded.append(spec)
        diagnostics.extend(spec.warnings)
        if against:
            from envparity.flows.versioning import check_against

            try:
                diagnostics.extend(spec.locate(d) for d in check_against(spec, against))
            except SpecError as exc:
                diagnostics.extend(exc.diagnostics)
    diagnostics.extend(check_unique_names(loaded))
    failed = any(d.severity == "error" for d in diagnostics)
    if json_out:
        print_json([d.to_json() for d in diagnostics])
    else:
        print_diagnostics(diagnostics)
        if not failed:
            for spec in loaded:
                sys.stdout.write(
                    f"ok: {spec.source} ({spec.name} {spec.version}, "
                    f"fingerprint {spec.fingerprint[:12]})\n"
                )
    if failed:
        raise typer.Exit(INVALID)


def show(
    spec: Path = SPEC,
    stage: str = typer.Option(..., "--stage", "-s", help="local, testing, staging or production."),
    json_out: bool = JSON,
) -> None:
    """Print one stage of a spec as resolved: software, fingerprint, infrastructure."""
    [loaded] = load_or_exit([spec])
    resolved = resolve_or_exit(loaded, stage)
    from envparity.core.resolve import resolved_json

    data = resolved_json(resolved)
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    table = Table(title=f"{resolved.name} {resolved.version} / {stage}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for section in ("software", "cuda", "run", "infrastructure", "config"):
        for key, value in data[section].items():
            table.add_row(f"{section}.{key}", _text(value))
    table.add_row("fingerprint", resolved.fingerprint)
    table.add_row("image", resolved.image_ref)
    console().print(table)


def schema() -> None:
    """Print the JSON Schema of the spec format (for editors: yaml-language-server, VS Code)."""
    from envparity.core.schema import SCHEMA_FILE

    sys.stdout.write(SCHEMA_FILE.read_text(encoding="utf-8"))


def parity(spec: Path = SPEC, json_out: bool = JSON) -> None:
    """Show what differs between the stages of a spec.

    Only infrastructure and configuration can differ; the software, fingerprint and image
    are the same in every stage by construction. Exit 2 when a stage differs in a way the
    format forbids (a promoted stage adding packages), else 0.
    """
    from envparity.core.parity import parity as compute

    [loaded] = load_or_exit([spec])
    report = compute(loaded)
    if json_out:
        print_json(report.to_json())
    else:
        from rich.table import Table

        table = Table(title=f"{report.name}: stage parity")
        table.add_column("field", style="bold")
        for stage in report.stages:
            table.add_column(stage)
        for row in report.rows:
            style = "yellow" if row.differs else "dim"
            table.add_row(row.field, *(row.values[s] for s in report.stages), style=style)
        out = console()
        out.print(table)
        out.print("Software, fingerprint and image are identical in every stage.")
        for problem in report.problems:
            out.print(f"[red]forbidden:[/red] {problem}")
    if report.problems:
        raise typer.Exit(DIFFERENT)


def _text(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)
