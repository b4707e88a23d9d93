"""Rebuild cost of `envparity build`, as ratios to a cold build of the same spec, same run.

    .venv/bin/python bench/bench_rebuild.py [--rounds N]

Needs the services of `bash .ci/services up` (engine, base image) and the host wheelhouse
of the docker tests (downloaded from PyPI on first use). Each round builds one spec's
production target three ways, offline from the wheelhouse on the debootstrap base:

- cold:      no build cache (the base image is present, as after a `docker pull`);
- one pin:   after changing one pin (six 1.16.0 -> 1.17.0) and re-locking;
- no change: the same spec again.

The timed part is `envparity.build.build` (context, engine build, tag); the verify run that
follows every build costs the same in all three and is reported on its own line.
Targets (issue 4): one pin <= 25 % of cold, no change <= 5 % of cold.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.docker.conftest's project helpers

from docker.errors import APIError  # noqa: E402

from envparity import build as engine  # noqa: E402
from envparity.render.artifacts import render_env  # noqa: E402
from tests.docker.conftest import BASE_IMAGE, make_project, wheelhouse_dir  # noqa: E402

ONE_PIN_TARGET, NO_CHANGE_TARGET = 0.25, 0.05
PACKAGES = ("six==1.16.0", "packaging==24.2")
CHANGED = ("six==1.17.0", "packaging==24.2")


def timed_build(client, project, wheels: Path, *, no_cache: bool = False) -> tuple[float, str]:
    spec = project.loaded()
    env = project.resolved("production")
    files = render_env(spec)
    started = time.perf_counter()
    built = engine.build(
        client, env, files, wheelhouse=wheels, base_image=BASE_IMAGE, no_cache=no_cache
    )
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    differences = engine.verify(client, env, files, built.image_id)
    if differences:
        raise SystemExit(f"bench: the image does not match its spec: {differences}")
    return elapsed, f"{time.perf_counter() - started:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    client = engine.connect()
    wheels = wheelhouse_dir()
    cold, one_pin, no_change, verify = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="envparity-bench-") as tmp:
        for i in range(rounds):
            name = f"bench-rebuild-{i}"
            project = make_project(
                Path(tmp) / name,
                wheels,
                name=name,
                packages=PACKAGES,
                testing_extra=("idna==3.10",),
            )
            seconds, v = timed_build(client, project, wheels, no_cache=True)
            cold.append(seconds)
            verify.append(float(v))
            changed = make_project(
                Path(tmp) / name, wheels, name=name, packages=CHANGED, testing_extra=("idna==3.10",)
            )
            one_pin.append(timed_build(client, changed, wheels)[0])
            no_change.append(timed_build(client, changed, wheels)[0])
            for image in client.images.list(filters={"label": f"io.envparity.name={name}"}):
                with contextlib.suppress(APIError):  # gone already with a child
                    client.images.remove(image.id, force=True)
    base = statistics.median(cold)
    rows = [
        ("cold build", cold, None),
        ("rebuild, one pin changed", one_pin, ONE_PIN_TARGET),
        ("rebuild, no change", no_change, NO_CHANGE_TARGET),
    ]
    print(f"envparity build, production target of a 2-package CPU spec, {rounds} round(s), medians")
    ok = True
    for label, values, target in rows:
        median = statistics.median(values)
        ratio = median / base
        verdict = "" if target is None else (" ok" if ratio <= target else " OVER TARGET")
        ok &= target is None or ratio <= target
        limit = "baseline" if target is None else f"target <= {target:.0%}"
        print(f"  {label:26} {median:6.2f} s  {ratio:6.1%} of cold  ({limit}){verdict}")
    verify_median = statistics.median(verify)
    print(f"  {'verify run (each build)':26} {verify_median:6.2f} s  (not in the figures above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
