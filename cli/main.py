"""The `envparity` command: a typer app whose commands are thin calls into the core.

Command modules import only typer and the standard library at the top: heavy SDKs
(docker, pulumi, boto3, kubernetes) are imported inside the commands that use them,
so `validate` and `render` start fast.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys

import typer

from envparity.core.diagnostics import UserError

app = typer.Typer(
    name="envparity",
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


for _name, _target in COMMANDS:
    _module, _function = _target.split(":")
    _command = getattr(importlib.import_module(f"envparity.cli.{_module}"), _function)
    app.command(_name)(_handled(_command))
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
