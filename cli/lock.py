"""`envparity lock`: resolve a spec's pins to hashed lock files with uv."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from envparity.cli.common import load_or_exit


def lock(
    spec: Path = typer.Argument(
        ..., help="A spec file, e.g. envspecs/train.yaml.", show_default=False
    ),
    find_links: Path = typer.Option(
        None,
        "--find-links",
        "-f",
        metavar="DIR",
        help="Also look for wheels in DIR (uv's --find-links).",
    ),
    no_index: bool = typer.Option(
        False, "--no-index", help="Use only --find-links, no package index."
    ),
) -> None:
    """Resolve the spec's pins, for its Python on linux x86_64, into hashed lock files beside it.

    Writes <spec>.lock (the shared image) and <spec>.<stage>.lock for each stage that
    adds packages. The default index is uv's (PyPI, or UV_DEFAULT_INDEX); the spec's
    package_indexes are added and recorded in the lock. Exit 0 when written, 1 otherwise.
    """
    from envparity.adapters.uv import compile_locks
    from envparity.core.lockfile import write_locks

    [loaded] = load_or_exit([spec])
    texts = compile_locks(loaded, find_links=find_links, no_index=no_index)
    for path in write_locks(loaded, texts):
        sys.stdout.write(f"wrote {path}\n")
