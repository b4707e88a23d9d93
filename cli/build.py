"""`envparity build`: build a stage's image, verify it matches the spec, optionally push it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer
from envparity.cli.common import console, fail, load_or_exit, resolve_or_exit


def build(
    spec: Path = typer.Argument(
        ..., help="A spec file, e.g. envspecs/train.yaml.", show_default=False
    ),
    stage: str = typer.Option(
        ..., "--stage", "-s", help="The stage whose target to build.", show_default=False
    ),
    push: bool = typer.Option(
        False,
        "--push",
        help="Push to the stage's registry and record the digest in the stage's stack config.",
    ),
    base_image: str = typer.Option(
        None,
        "--base-image",
        metavar="REF",
        help="Build FROM REF instead of the spec's base (it must provide the spec's Python).",
    ),
    wheelhouse: Path = typer.Option(
        None,
        "--wheelhouse",
        metavar="DIR",
        help="Build offline: wheels come from DIR, hash-checked against the lock.",
    ),
    tag: list[str] = typer.Option(
        [], "--tag", "-t", metavar="TAG", help="Also tag the image as TAG (repeatable)."
    ),
    stacks: Path = typer.Option(
        Path("stacks"), "--stacks", metavar="DIR", help="Where the stack configs are (for --push)."
    ),
    verify_reproducible: bool = typer.Option(
        False,
        "--verify-reproducible",
        help="Build twice without cache; compare Python, distributions and every file of the "
        "environment; exit 1 listing any difference.",
    ),
) -> None:
    """Build the image of one stage with the Docker engine of DOCKER_HOST, then verify it.

    The image is tagged <registry>/<name>:<version>-<fingerprint[:12]> and run once without network: its Python must be the spec's and its distributions exactly the lock's. A last layer adds its provenance record (/etc/envparity/provenance.json; see `envparity provenance`).

    Prints the image reference (and with --push the pushed digest) on stdout. Exit 0 when built and verified (and pushed), 1 otherwise.
    """  # noqa: E501 -- typer keeps a docstring's line breaks, so each paragraph is one line
    from envparity.adapters.docker_build import BuildError
    from envparity.core.render.dockerfile import RenderError

    [loaded] = load_or_exit([spec])
    env = resolve_or_exit(loaded, stage)
    if push and not env.registry:
        fail(
            f"{spec}: stage {stage} names no registry to push to",
            f"set stages.{stage}.registry in the spec, e.g. 127.0.0.1:5000",
        )
    if push:
        from envparity.core.ledger import stack_config_path

        config = stack_config_path(stacks, stage)
        if not config.exists():  # checked first: a push that cannot be recorded deploys nothing
            fail(
                f"{config} does not exist, so a pushed digest could not be recorded",
                f"run `envparity render {spec}` from the project root (it fills an existing "
                "stacks/), or point --stacks at the stack configs",
            )
    try:
        _build(loaded, env, base_image, wheelhouse, tag, push, stacks, verify_reproducible)
    except RenderError as exc:  # also LockError: a missing or stale lock
        fail(
            exc.message if exc.message.startswith(str(spec)) else f"{spec}: {exc.message}", exc.hint
        )
    except BuildError as exc:
        for line in exc.output:
            sys.stderr.write(f"  | {line}\n")
        fail(exc.message, exc.hint)


def _build(spec, env, base_image, wheelhouse, tags, push, stacks, twice=False) -> None:
    from envparity.adapters import docker_build as engine
    from envparity.core.render.artifacts import render_env

    files = render_env(spec)
    client = engine.connect()
    err = console(stderr=True)
    layers = engine.dependency_layers(files, env.stage)
    if twice:
        built = _build_twice(client, env, files, err, wheelhouse, base_image, tags, layers)
    else:
        with _progress(err, env.image_ref, layers) as progress:
            built = engine.build(
                client,
                env,
                files,
                wheelhouse=wheelhouse,
                base_image=base_image,
                tags=tags,
                on_progress=progress.on_progress,
            )
            progress.done(built)
    err.print(layer_summary(built.layers), markup=False, soft_wrap=True)
    differences = engine.verify(client, env, files, built.image_id)
    if differences:
        _show_differences(err, env.image_ref, differences)
        # The reference must never name an image that failed verification.
        kept = engine.quarantine(client, built, env.name)
        sys.stderr.write(f"the image is kept as {kept} for inspection\n")
        fail(
            f"{env.image_ref} does not match {env.name}'s spec: {len(differences)} difference(s)",
            "rebuild without cache, or regenerate the lock with `envparity lock`",
        )
    err.print(
        f"verified: Python {env.software.python} and the lock's distributions",
        style="green",
        soft_wrap=True,
    )
    _stamp(client, spec, env, files, built.image_id, base_image, tags)
    sys.stdout.write(f"{env.image_ref}\n")
    if push:
        from envparity.core.ledger import StackConfigError, record_image
        from envparity.core.provenance import spec_commit

        if err.is_terminal:
            with err.status(f"pushing {env.image_ref}"):
                digest = engine.push(client, env.image_ref)
        else:
            digest = engine.push(
                client,
                env.image_ref,
                on_progress=lambda line: err.print(f"push: {line}", soft_wrap=True),
            )
        sys.stdout.write(f"{env.image_repository}@{digest}\n")
        try:
            path = record_image(
                stacks,
                env.stage,
                env.name,
                env.image_ref,
                digest,
                env.fingerprint,
                commit=spec_commit(spec.source),
            )
        except StackConfigError as exc:
            fail(
                f"pushed {env.image_repository}@{digest} but could not record it: {exc.message}",
                exc.hint,
            )
        err.print(f"recorded {env.image_ref}@{digest} in {path}", soft_wrap=True)


def _build_twice(client, env, files, err, wheelhouse, base_image, tags, layers):
    """`--verify-reproducible`: two cache-less builds compared; exit 1 when they differ."""
    from envparity.flows.reproducible import build_twice

    with _progress(err, f"{env.image_ref} (twice, no cache)", layers) as progress:
        twice = build_twice(
            client,
            env,
            files,
            progress.on_progress,
            wheelhouse=wheelhouse,
            base_image=base_image,
            tags=tags,
        )
    if twice.differences:
        _show_differences(
            err, f"two builds of {env.image_ref}", twice.differences, ("first", "second")
        )
        fail(
            f"{env.image_ref} is not reproducible: {len(twice.differences)} difference(s) "
            "between two builds without cache",
            "pin what moves (base image by digest, every package in the lock), then retry",
        )
    err.print(
        f"reproducible: two builds without cache have the same Python, {twice.distributions} "
        f"distributions and {twice.files} files",
        style="green",
        soft_wrap=True,
    )
    return twice.second


def _stamp(client, spec, env, files, image_id, base_image, tags) -> None:
    """Add the provenance record as the image's last layer; the tags move to the result."""
    from envparity.core.provenance import PATH, ProvenanceError, stamp

    try:
        stamp(client, spec.source, env, files, image_id, base_image, [env.image_ref, *tags])
    except ProvenanceError as exc:
        fail(exc.message, exc.hint)
    console(stderr=True).print(f"provenance: {PATH} (in-toto, SLSA v1)", soft_wrap=True)


# The classic builder's bookkeeping lines (layer ids, container clean-up) are not progress;
# "---> Using cache" and "---> Running in" are: they say whether a step ran.
NOISE = re.compile(r"---> [0-9a-f]{12}$|Removing intermediate container ")


def layer_summary(layers) -> str:
    """One line: which dependency layers the engine's cache gave, and which were installed."""
    if not layers:
        return "dependency layers: none"
    reused = [layer.id for layer in layers if layer.reused]
    built = [f"{layer.id} ({layer.seconds:.1f} s)" for layer in layers if not layer.reused]
    parts = [f"reused {', '.join(reused)}" if reused else "none reused"]
    if built:
        parts.append(f"installed {', '.join(built)}")
    return f"dependency layers: {'; '.join(parts)}"


class _progress:
    """A rich progress bar over the build's steps and one row per dependency layer on a
    terminal; plain step lines (and a line per finished layer) otherwise."""

    def __init__(self, err, ref: str, layers: list[str]) -> None:
        self.err, self.ref, self.bar, self.task, self.last_step = err, ref, None, None, -1
        self.layers, self.layer_tasks, self.current, self.reused = layers, {}, None, False

    def __enter__(self):
        if self.err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[line]}"),
                console=self.err,
                transient=False,
            )
            self.bar.start()
            self.task = self.bar.add_task(f"building {self.ref}", total=None, line="")
            for layer in self.layers:
                self.layer_tasks[layer] = self.bar.add_task(
                    f"  layer {layer}", total=1, line="waiting", start=False
                )
        return self

    def done(self, built) -> None:
        """After the build: an image reused whole streamed no steps, so say so here."""
        if not built.reused_image:
            return
        for task in self.layer_tasks.values():
            self.bar.update(task, completed=1, line="reused (cache)")
        self.err.print(
            f"reused {built.image_id[:19]}: built before from the same spec, locks and base",
            markup=False,
            soft_wrap=True,
        )

    def on_progress(self, event) -> None:
        if event.layer != self.current:
            self._layer_ended()
            self.current = event.layer
            if self.current in self.layer_tasks:
                self.bar.start_task(self.layer_tasks[self.current])
                self.bar.update(self.layer_tasks[self.current], line="installing")
        self.reused = event.reused
        if self.bar is not None:
            self.bar.update(
                self.task,
                completed=max(event.step - 1, 0),
                total=event.total or None,
                line=event.line[:60],
            )
        elif not NOISE.match(event.line.lstrip()):
            self.err.print(
                event.line if event.line.startswith("Step ") else f"  {event.line}",
                markup=False,
                soft_wrap=True,
            )
        self.last_step = event.step

    def _layer_ended(self) -> None:
        if self.current is None:
            return
        state = "reused (cache)" if self.reused else "installed"
        if self.current in self.layer_tasks:
            self.bar.update(self.layer_tasks[self.current], completed=1, line=state)
        elif self.bar is None:
            self.err.print(f"layer {self.current}: {state}", markup=False, soft_wrap=True)

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self._layer_ended()
        if self.bar is not None:
            if kind is None:
                self.bar.update(self.task, completed=self.bar.tasks[0].total or 0)
            self.bar.stop()


def _show_differences(err, ref: str, differences, columns=("spec / lock", "image")) -> None:
    from rich.table import Table

    err.print(f"{ref} differs from the spec:", markup=False, soft_wrap=True)
    table = Table()
    table.add_column("what")
    for column in columns:
        table.add_column(column)
    for d in differences:
        table.add_row(d.what, d.expected or "(absent)", d.found or "(absent)")
    err.print(table)
