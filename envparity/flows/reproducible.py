"""`envparity build --verify-reproducible`: build the stage twice without cache and compare.

Compared: the Python version, the installed distributions, and the sha256 of every file of
the environment (/opt/venv; a symlink by its target). Bytecode caches (`__pycache__`) are
left out: they embed the time pip installed the file and Python rewrites them when stale,
so they differ between any two installs without the environment differing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from envparity.adapters.build_errors import BuildError
from envparity.adapters.docker_build import Built, build, probe
from envparity.core.build_layout import VENV
from envparity.core.image_check import Difference
from envparity.core.model import ResolvedStage

# Runs as `python3 -c` inside the image, without network.
SCRIPT = f"""
import hashlib, json, os
out = {{}}
for top, dirs, files in os.walk({VENV!r}):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for name in files:
        path = os.path.join(top, name)
        if os.path.islink(path):
            out[path] = "symlink to " + os.readlink(path)
        else:
            with open(path, "rb") as f:
                out[path] = hashlib.sha256(f.read()).hexdigest()
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Twice:
    """Two cache-less builds of one stage and how they differ (empty: reproducible)."""

    first: str  # the first image's id (removed after the comparison)
    second: Built  # the image kept, tagged as a normal build
    files: int  # files compared
    distributions: int
    differences: tuple[Difference, ...]


def file_hashes(client, image: str, timeout: float = 300.0) -> dict[str, str]:
    """Path -> sha256 (or symlink target) of every environment file in `image`."""
    container = client.containers.create(
        image, entrypoint=["python3", "-c", SCRIPT], command=[], network_mode="none"
    )
    try:
        container.start()
        code = container.wait(timeout=timeout).get("StatusCode")
        out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    if code != 0:
        raise BuildError(f"hashing the files of {image[:19]} exited {code}", "check the image")
    return json.loads(out.strip().splitlines()[-1])


def compare(first: Mapping[str, str], second: Mapping[str, str], what: str) -> list[Difference]:
    """Keys whose values differ between two builds, as `<what> <key>`."""
    return [
        Difference(f"{what} {key}", first.get(key), second.get(key))
        for key in sorted(first.keys() | second.keys())
        if first.get(key) != second.get(key)
    ]


def build_twice(
    client,
    env: ResolvedStage,
    files: Mapping[str, bytes],
    on_progress: Callable | None = None,
    **options,
) -> Twice:
    """Build `env.stage` twice with `no_cache`, compare, and keep only the second image."""
    from docker.errors import APIError

    builds, hashes, contents = [], [], []
    for _ in range(2):
        built = build(client, env, files, no_cache=True, on_progress=on_progress, **options)
        builds.append(built)
        contents.append(probe(client, built.image_id))
        hashes.append(file_hashes(client, built.image_id))
    a, b = contents
    differences = compare({"version": a.python}, {"version": b.python}, "python")
    differences += compare(a.distributions, b.distributions, "distribution")
    differences += compare(hashes[0], hashes[1], "file")
    if builds[0].image_id != builds[1].image_id:
        with contextlib.suppress(APIError):  # still tagged elsewhere: leave it
            client.images.remove(builds[0].image_id)
    return Twice(
        builds[0].image_id, builds[1], len(hashes[1]), len(b.distributions), tuple(differences)
    )
