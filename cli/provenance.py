"""`envparity provenance IMAGE`: print the provenance record an envparity image carries."""

from __future__ import annotations

import json
import sys

import typer
from envparity.cli.common import console, fail


def provenance(
    image: str = typer.Argument(
        ...,
        help="A local image reference or id, e.g. 127.0.0.1:5000/train:1.4.0-0123abcd4567.",
        show_default=False,
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the record itself (an in-toto Statement, SLSA v1)."
    ),
) -> None:
    """Print the provenance record of IMAGE (/etc/envparity/provenance.json, written by `envparity build`).

    IMAGE is read from the local engine, else from its registry (last layer only, with the Docker config's credentials). Exit 0 when printed, 1 when the image is missing or has no record.
    """  # noqa: E501 -- typer keeps a docstring's line breaks, so each paragraph is one line
    from envparity.adapters.docker_build import connect
    from envparity.adapters.provenance_image import read_from_image
    from envparity.adapters.registry import read_provenance
    from envparity.core.provenance import ImageMissing, parse

    try:
        record = read_from_image(connect(), image)
    except ImageMissing:
        if "/" not in image:
            raise
        record = read_provenance(image)  # not pulled: read its last layer from the registry
        if record is None:
            fail(
                f"image {image} has no provenance record in its registry",
                "rebuild it with `envparity build` (images built before provenance have none)",
            )
    found = parse(record, image)
    if as_json:
        sys.stdout.write(json.dumps(record, indent=2, sort_keys=True) + "\n")
        return
    _print_table(image, found)


def _print_table(image: str, p) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    summary = Table(title=f"provenance of {image}", show_header=False)
    summary.add_column("field", style="bold")
    summary.add_column("value", overflow="fold")
    git = (
        f"{p.git.commit}{' (dirty)' if p.git.dirty else ''}" if p.git else "(not a git repository)"
    )
    rows = [
        ("environment", f"{p.name} {p.version} (stage {p.stage})"),
        ("fingerprint", p.fingerprint),
        ("spec", p.spec),
        ("python", p.python),
        ("cuda", p.cuda or "(none)"),
        ("os", p.os),
        ("env", ", ".join(f"{k}={v}" for k, v in sorted(p.env.items())) or "(none)"),
        ("lock sha256", p.lock_sha256),
        (
            "base image",
            f"{p.base_image or '(none)'}" + (f"@{p.base_digest}" if p.base_digest else ""),
        ),
        ("git commit", git),
        ("built", p.built_at),
    ]
    for field, value in rows:
        summary.add_row(field, Text(value))  # Text: values are data, never rich markup
    out.print(summary)
    packages = Table(title=f"{len(p.packages)} locked package(s)")
    for column in ("package", "version", "sha256"):
        packages.add_column(column, overflow="fold")
    for package in sorted(p.packages.values(), key=lambda x: x.name):
        packages.add_row(Text(package.name), Text(package.version), Text("\n".join(package.hashes)))
    out.print(packages)
