"""Rebuild and push cost of `envparity build` on a realistic spec, as ratios to a cold build.

    .venv/bin/python bench/bench_rebuild.py [--rounds N]

Needs the services of `bash .ci/services up` (engine, registry on 127.0.0.1:5000, base image).
The spec is the scientific stack (numpy, scipy, pandas, pyarrow, six and their dependencies:
about 112 MB of wheels), built offline from a wheelhouse that `pip download` fills once on
the host from PyPI (ENVPARITY_CACHE_DIR/bench-wheels). Each round builds the production target
of a fresh spec name four ways, pushing after each build:

- cold:        no build cache (the base image is present, as after a `docker pull`);
- light pin:   six 1.16.0 -> 1.17.0 (11 kB), re-locked;
- no change:   the same spec again;
- heavy pin:   pyarrow 18.1.0 -> 18.0.0 (40 MB), re-locked.

Each round builds on a base image of its own (the test base plus a label naming the round):
the engine is shared, and the classic builder's cache would otherwise follow whichever
identical chain of early steps (useradd, venv) another build made last, past this round's
dependency layers. Time is `envparity.adapters.docker_build.build` (context, engine build,
tag); the verify run after each build is not timed. Bytes pushed are what the registry
received: the sizes (from its HTTP API) of the blobs of the pushed manifest that the
repository did not hold.
Targets (issue 15): light pin <= 10 % of cold time and <= 5 % of cold bytes; no change
<= 2 % of cold time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.docker.conftest's project helpers

from docker.errors import APIError  # noqa: E402

from envparity.adapters import docker_build as engine  # noqa: E402
from envparity.core.lockfile import blocks, wheel_bytes  # noqa: E402
from envparity.core.render.artifacts import render_env  # noqa: E402
from tests.docker.conftest import BASE_IMAGE, CACHE_DIR, REGISTRY, make_project  # noqa: E402

LIGHT_TIME, LIGHT_BYTES, NO_CHANGE_TIME = 0.10, 0.05, 0.02
SPEC = ("numpy==2.1.3", "scipy==1.14.1", "pandas==2.2.3", "pyarrow==18.1.0", "six==1.16.0")
LIGHT = tuple(p.replace("six==1.16.0", "six==1.17.0") for p in SPEC)
HEAVY = tuple(p.replace("pyarrow==18.1.0", "pyarrow==18.0.0") for p in LIGHT)
TESTING_EXTRA = ("idna==3.10",)  # the projects' testing stage adds it (its wheel must be there)
OTHER_WHEELS = ("six==1.17.0", "pyarrow==18.0.0", *TESTING_EXTRA)
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def wheelhouse() -> Path:
    """The bench's wheels for CPython 3.11 on manylinux x86_64, downloaded once from PyPI."""
    directory = CACHE_DIR / "bench-wheels"
    directory.mkdir(parents=True, exist_ok=True)
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    download += ["--python-version", "3.11", "--dest", str(directory)]
    download += [arg for p in platforms for arg in ("--platform", p)]
    subprocess.run([*download, *SPEC], check=True)  # with their dependencies
    subprocess.run([*download, "--no-deps", *OTHER_WHEELS], check=True)
    return directory


def registry_blobs(repository: str, tag: str) -> dict[str, int]:
    """digest -> compressed size of every blob (config and layers) of a pushed manifest."""
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        manifest = json.load(response)
    blobs = [manifest["config"], *manifest["layers"]]
    return {blob["digest"]: blob["size"] for blob in blobs}


def round_base(client, name: str) -> str:
    """A base image for one round: BASE_IMAGE with a label, so its id is the round's alone."""
    dockerfile = f"FROM {BASE_IMAGE}\nLABEL io.envparity.bench={name}\n".encode()
    client.images.build(fileobj=io.BytesIO(dockerfile), tag=f"{name}-base:latest")
    return f"{name}-base:latest"


def build_and_push(client, project, base: str, wheels: Path, known: dict[str, int], *, no_cache):
    """(seconds to build, bytes the registry received, reused layer ids) for one build."""
    spec, env = project.loaded(), project.resolved("production")
    files = render_env(spec)
    started = time.perf_counter()
    built = engine.build(client, env, files, wheelhouse=wheels, base_image=base, no_cache=no_cache)
    seconds = time.perf_counter() - started
    differences = engine.verify(client, env, files, built.image_id)
    if differences:
        raise SystemExit(f"bench: the image does not match its spec: {differences}")
    engine.push(client, env.image_ref)
    repository, _, tag = env.image_ref.removeprefix(f"{REGISTRY}/").rpartition(":")
    blobs = registry_blobs(repository, tag)
    new = sum(size for digest, size in blobs.items() if digest not in known)
    known.update(blobs)
    return seconds, new, [layer.id for layer in built.layers if layer.reused]


def one_round(client, wheels: Path, tmp: Path, i: int) -> dict[str, tuple[float, int, list]]:
    name = f"bench-layers-{uuid.uuid4().hex[:6]}-{i}"
    known: dict[str, int] = {}  # blobs the repository already holds
    out = {}
    base = round_base(client, name)
    try:
        for label, packages, no_cache in (
            ("cold", SPEC, True),
            ("light pin", LIGHT, False),
            ("no change", LIGHT, False),
            ("heavy pin", HEAVY, False),
        ):
            project = make_project(
                tmp / name, wheels, name=name, packages=packages, testing_extra=TESTING_EXTRA
            )
            out[label] = build_and_push(client, project, base, wheels, known, no_cache=no_cache)
    finally:
        for image in client.images.list(filters={"label": f"io.envparity.name={name}"}):
            with contextlib.suppress(APIError):  # gone already with a child
                client.images.remove(image.id, force=True)
        client.images.remove(base, force=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    client = engine.connect()
    wheels = wheelhouse()
    results = []
    with tempfile.TemporaryDirectory(prefix="envparity-bench-") as tmp:
        sized = make_project(Path(tmp) / "size", wheels, name="bench-size", packages=SPEC)
        lock = blocks(sized.spec.with_suffix(".lock").read_text())
        total = sum(wheel_bytes(block) for block in lock.values())
        for i in range(rounds):
            results.append(one_round(client, wheels, Path(tmp), i))
            cold_s, cold_b, _ = results[-1]["cold"]
            line = ", ".join(
                f"{label} {s:.2f} s ({s / cold_s:.1%}) {b / 1e6:.2f} MB ({b / cold_b:.1%})"
                + (f" reused [{' '.join(reused)}]" if label != "cold" else "")
                for label, (s, b, reused) in results[-1].items()
            )
            print(f"round {i + 1}: {line}", flush=True)
    print(
        f"envparity build + push, production target of the scientific-stack spec "
        f"({len(lock)} packages, {total / 1e6:.0f} MB of wheels), {rounds} round(s), "
        "medians of the per-round ratios to that round's cold build"
    )
    targets = {"light pin": (LIGHT_TIME, LIGHT_BYTES), "no change": (NO_CHANGE_TIME, None)}
    ok = True
    for label in ("cold", "light pin", "no change", "heavy pin"):
        seconds = statistics.median(r[label][0] for r in results)
        pushed = statistics.median(r[label][1] for r in results)
        time_ratio = statistics.median(r[label][0] / r["cold"][0] for r in results)
        byte_ratio = statistics.median(r[label][1] / r["cold"][1] for r in results)
        time_target, byte_target = targets.get(label, (None, None))
        verdicts = []
        if time_target is not None:
            verdicts.append(f"time target <= {time_target:.0%}: " + _ok(time_ratio <= time_target))
            ok &= time_ratio <= time_target
        if byte_target is not None:
            verdicts.append(f"bytes target <= {byte_target:.0%}: " + _ok(byte_ratio <= byte_target))
            ok &= byte_ratio <= byte_target
        print(
            f"  {label:10} {seconds:7.2f} s {time_ratio:6.1%} of cold  "
            f"{pushed / 1e6:8.2f} MB pushed {byte_ratio:6.1%} of cold  " + "; ".join(verdicts)
        )
    return 0 if ok else 1


def _ok(holds: bool) -> str:
    return "ok" if holds else "OVER TARGET"


if __name__ == "__main__":
    sys.exit(main())
