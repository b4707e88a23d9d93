"""What every command shares: loading specs or exiting cleanly, JSON out, one-line failures."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import typer

from envparity.core.diagnostics import Diagnostic, SpecError

# Exit codes (docs/architecture.md, "Exit codes"): 0 ok, 1 invalid input or usage,
# 2 differences found, 3 could not check.
OK, INVALID, DIFFERENT, UNCHECKED = 0, 1, 2, 3


def fail(message: str, hint: str | None = None, code: int = INVALID) -> NoReturn:
    """Print one line (and a hint) on stderr and exit with `code`."""
    sys.stderr.write(f"error: {message}" + (f" (hint: {hint})" if hint else "") + "\n")
    raise typer.Exit(code)


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    sys.stderr.writelines(d.format() + "\n" for d in diagnostics)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def load_or_exit(paths: Iterable[Path | str]):
    """The specs at `paths`, or exit 1 after printing every problem; warnings go to stderr."""
    from envparity.core.spec import load_specs

    try:
        specs = load_specs(paths)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        raise typer.Exit(INVALID) from None
    for spec in specs:
        print_diagnostics(spec.warnings)
    return specs


def resolve_or_exit(spec, stage: str):
    from envparity.core.resolve import resolve

    try:
        return resolve(spec, stage)
    except SpecError as exc:
        print_diagnostics(exc.diagnostics)
        raise typer.Exit(INVALID) from None


# Width of a console that is not a terminal: wide enough that no table cell is folded.
UNBOUNDED = 100_000


def console(stderr: bool = False):
    """A rich console (imported only by commands that draw tables or progress).

    Piped or redirected, it has no width to fit: lines print whole (a digest or instance
    type is never folded or cut) for whoever reads or greps them; a terminal keeps its own.
    """
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal:
        out.width = UNBOUNDED
    return out
