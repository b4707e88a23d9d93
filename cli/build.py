"""`envparity build`: build a stage's image, verify it matches the spec, optionally push it."""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

import typer
from envparity.cli.common import console, load_or_exit, resolve_or_exit


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
    from envparity.flows.build import Request
    from envparity.flows.build import build as build_flow

    [loaded] = load_or_exit([spec])
    env = resolve_or_exit(loaded, stage)
    request = Request(base_image, wheelhouse, tuple(tag), push, stacks, verify_reproducible)
    build_flow(loaded, env, request, View())


class View:
    """`envparity build` on the terminal: progress and notes on stderr, results on stdout."""

    def __init__(self) -> None:
        self.err = console(stderr=True)

    def progress(self, title: str, layers: list[str]) -> _progress:
        return _progress(self.err, title, layers)

    def built(self, built) -> None:
        self.err.print(layer_summary(built.layers), markup=False, soft_wrap=True)

    def differences(self, title: str, differences, columns) -> None:
        _show_differences(self.err, title, differences, columns)

    def quarantined(self, kept: str) -> None:
        sys.stderr.write(f"the image is kept as {kept} for inspection\n")

    def verified(self, env) -> None:
        self.err.print(
            f"verified: Python {env.software.python} and the lock's distributions",
            style="green",
            soft_wrap=True,
        )

    def reproducible(self, twice) -> None:
        self.err.print(
            f"reproducible: two builds without cache have the same Python, "
            f"{twice.distributions} distributions and {twice.files} files",
            style="green",
            soft_wrap=True,
        )

    def stamped(self) -> None:
        from envparity.core.provenance import PATH

        self.err.print(f"provenance: {PATH} (in-toto, SLSA v1)", soft_wrap=True)

    def image(self, ref: str) -> None:
        sys.stdout.write(f"{ref}\n")

    @contextlib.contextmanager
    def pushing(self, ref: str):
        if self.err.is_terminal:
            with self.err.status(f"pushing {ref}"):
                yield None
        else:
            yield lambda line: self.err.print(f"push: {line}", soft_wrap=True)

    def pushed(self, pinned: str) -> None:
        sys.stdout.write(f"{pinned}\n")

    def recorded(self, ref: str, digest: str, path: Path) -> None:
        self.err.print(f"recorded {ref}@{digest} in {path}", soft_wrap=True)


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
