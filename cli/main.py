"""The `envparity` command: a typer app whose commands are thin calls into the core.

Command modules import only typer and the standard library at the top: heavy SDKs
(docker, pulumi, boto3, kubernetes) are imported inside the commands that use them,
so `validate` and `render` start fast. A command's module is imported only when that
command runs or help lists it (`_LazyGroup`), so one command does not pay for the others.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info

from envparity.core.diagnostics import UserError


class _Commands(MutableMapping):
    """The click commands by name, in `COMMANDS` order, each built on first use."""

    def __init__(self, built: dict, rich_markup_mode) -> None:
        self.built, self.rich_markup_mode = built, rich_markup_mode

    def __getitem__(self, name: str):
        if name not in self.built:
            if name not in _TARGETS:
                raise KeyError(name)
            module, function = _TARGETS[name].split(":")
            command = getattr(importlib.import_module(f"envparity.cli.{module}"), function)
            one = typer.Typer()  # registers it as `app.command(name)` would
            one.command(name)(_handled(command))
            self.built[name] = get_command_from_info(
                one.registered_commands[0],
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
            )
        return self.built[name]

    def __iter__(self) -> Iterator[str]:
        yield from _TARGETS
        yield from (name for name in self.built if name not in _TARGETS)

    def __len__(self) -> int:
        return len(set(_TARGETS) | set(self.built))

    def __setitem__(self, name: str, command) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        del self.built[name]


class _LazyGroup(TyperGroup):
    """typer's group, with the commands of `COMMANDS` imported only when used."""

    def __init__(self, *, commands: dict, rich_markup_mode, **attrs) -> None:
        lazy = _Commands(dict(commands), rich_markup_mode)
        super().__init__(commands=lazy, rich_markup_mode=rich_markup_mode, **attrs)

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)  # the names, without building the commands


app = typer.Typer(
    name="envparity",
    cls=_LazyGroup,
    help="One environment spec for ML teams: validate it, render images and stacks, "
    "check for drift.\n\n"
    "Exit codes: 0 ok; 1 invalid spec or usage; 2 differences found (drift, parity); "
    "3 could not check (drift).",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# (command name, "module:function"), in the order `--help` lists them.
COMMANDS = [
    ("validate", "specs:validate"),
    ("show", "specs:show"),
    ("schema", "specs:schema"),
    ("parity", "specs:parity"),
    ("import", "peer:import_spec"),
    ("render", "render:render"),
    ("lock", "lock:lock"),
    ("drift", "drift:drift"),
    ("plan", "plan:plan"),
    ("build", "build:build"),
    ("run", "run:run"),
    ("provenance", "provenance:provenance"),
    ("sign", "sign:sign"),
    ("promote", "promote:promote"),
    ("rollback", "promote:rollback"),
    ("history", "promote:history"),
]


def _handled(command):
    """`command`, with a user error ending as its one line on stderr and its exit code.

    The one place the CLI catches errors (docs/architecture.md, "One error path").
    """

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            sys.stderr.write(exc.format() + "\n")
            raise typer.Exit(exc.exit_code) from None

    return run


_TARGETS = dict(COMMANDS)
_knowledge = importlib.import_module("envparity.cli.knowledge").app
for _info in _knowledge.registered_commands:
    _info.callback = _handled(_info.callback)
app.add_typer(_knowledge, name="knowledge")


def main() -> None:
    """Console-script entry: user mistakes exit cleanly; set ENVPARITY_DEBUG=1 for tracebacks."""
    try:
        app(standalone_mode=True)
    except Exception as exc:  # a bug of ours: say so in one line, keep the traceback for debugging
        if os.environ.get("ENVPARITY_DEBUG"):
            raise
        sys.stderr.write(
            f"error: internal error: {type(exc).__name__}: {exc} "
            "(hint: rerun with ENVPARITY_DEBUG=1 and report it)\n"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
