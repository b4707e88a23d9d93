"""`envparity run`: a command in a stage's image, the current folder mounted (like `cog run`)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import typer
from envparity.cli.common import fail, load_or_exit, resolve_or_exit


def run(
    spec: Path = typer.Argument(
        ..., help="A spec file, e.g. envspecs/train.yaml.", show_default=False
    ),
    command: list[str] = typer.Argument(
        None, help="The command, after `--` (default: the spec's run.command).", show_default=False
    ),
    stage: str = typer.Option("local", "--stage", "-s", help="The stage whose image to run."),
    gpus: str = typer.Option(
        None,
        "--gpus",
        metavar="all|N",
        help="GPUs for the container (default: all when the stage needs GPUs, else none).",
    ),
    base_image: str = typer.Option(
        None, "--base-image", metavar="REF", help="When building: FROM REF (as `build`)."
    ),
    wheelhouse: Path = typer.Option(
        None, "--wheelhouse", metavar="DIR", help="When building: wheels from DIR (as `build`)."
    ),
) -> None:
    """Run a command in the stage's image, built first when missing (as `envparity build`).

    The current folder is mounted at /workspace (the working directory) and the command runs as your user; the container gets the stage's env, the ENVPARITY_* identity variables, the spec's secrets from your environment when set, and run.port on 127.0.0.1.

    Exit: the command's exit code; 1 when envparity cannot run it.
    """  # noqa: E501 -- typer keeps a docstring's line breaks, so each paragraph is one line
    from envparity.cli.build import View

    from envparity.adapters.docker_build import connect
    from envparity.flows.build import Request, build
    from envparity.flows.run import container_options, has_image

    if gpus is not None and gpus != "all" and not gpus.isdigit():
        fail(f"--gpus {gpus!r} is not `all` or a number", "use --gpus all or --gpus 1")
    [loaded] = load_or_exit([spec])
    env = resolve_or_exit(loaded, stage)
    client = connect()
    if not has_image(client, env):
        sys.stderr.write(f"building {env.image_ref} (not built yet)\n")
        with contextlib.redirect_stdout(sys.stderr):  # stdout is the command's alone
            build(loaded, env, Request(base_image, wheelhouse), View())
    options = container_options(env, env.image_ref, Path(), command or (), gpus, os.environ)
    try:
        container = client.containers.create(**options)
    except Exception as exc:  # the engine refused the container (e.g. no GPU runtime)
        fail(f"cannot run {env.image_ref}: {exc}".replace("\n", " "), "see `docker info`")
    try:
        container.start()
        for chunk in container.logs(stream=True, follow=True):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        code = container.wait()["StatusCode"]
    finally:
        container.remove(force=True)
    raise typer.Exit(code)
