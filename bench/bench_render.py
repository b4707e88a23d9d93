"""How fast `envparity render` is (issue 4's target: 500 specs x 4 stages under 2 s, one process).

Figures are given as ratios to a baseline measured in the same run: loading and validating
the same 500 specs (what every command does first). Lock files are made once by uv from
a few local wheels (no network) and copied beside each spec, as `envparity lock` would.
Run: .venv/bin/python bench/bench_render.py [--specs N] [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envparity.adapters.uv import compile_locks  # noqa: E402
from envparity.core.lockfile import lock_files, write_locks  # noqa: E402
from envparity.core.render.artifacts import render, write  # noqa: E402 (after the path set-up)
from envparity.core.resolve import resolve_all  # noqa: E402
from envparity.core.spec import load_specs  # noqa: E402
from tests.render.conftest import WHEELS, build_wheel  # noqa: E402

TEMPLATE = (
    ROOT / "tests" / "cases" / "gpu-train" / "envspec.yaml"
)  # all four stages, a testing lock


def median_time(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def make_specs(directory: Path, count: int) -> list[Path]:
    wheels = directory / "wheels"
    wheels.mkdir()
    for name, version, requires in WHEELS:
        build_wheel(wheels, name, version, requires)
    text = TEMPLATE.read_text()
    paths = []
    for i in range(count):
        path = directory / f"env{i}.yaml"
        path.write_text(
            text.replace("name: gpu-train", f"name: env{i}").replace(
                'PYTHONHASHSEED: "0"', f'PYTHONHASHSEED: "{i}"'
            )
        )
        paths.append(path)
    # One real uv lock serves all: the specs differ only in what resolution does not read.
    [first] = load_specs(paths[:1])
    write_locks(first, compile_locks(first, find_links=wheels, no_index=True))
    for path in paths[1:]:
        for lock in lock_files(first):
            shutil.copy(lock.path, path.parent / lock.path.name.replace("env0", path.stem))
    return paths


def row(label: str, seconds: float, baseline: float) -> None:
    print(f"{label:<44}{seconds * 1000:8.1f} ms  ({seconds / baseline:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="envparity-bench-") as tmp:
        paths = make_specs(Path(tmp), args.specs)
        specs = load_specs(paths)
        out = Path(tmp) / "build"

        load = median_time(lambda: load_specs(paths), args.runs)
        stages = median_time(lambda: [resolve_all(s) for s in specs], args.runs)
        rendered = []
        to_bytes = median_time(
            lambda: rendered.__setitem__(slice(None), [render(s) for s in specs]), args.runs
        )
        first_write = median_time(lambda: [write(r, out) for r in rendered], 1)
        rewrite = median_time(lambda: [write(r, out) for r in rendered], args.runs)
        files = sum(len(r.files) for r in rendered)
        cli = median_time(
            lambda: subprocess.run(
                [
                    str(Path(sys.executable).with_name("envparity")),
                    "render",
                    *map(str, paths),
                    "--out",
                    str(out),
                    "--check",
                ],
                cwd=tmp,  # no ./stacks or ./.github there: only the build contexts are checked
                check=True,
                capture_output=True,
            ),
            1,
        )

    total = load + to_bytes + first_write
    print(f"{args.specs} specs x 4 stages, {files} files, median of {args.runs} runs")
    print(f"baseline: load + validate {args.specs} specs      {load * 1000:8.1f} ms  (1.00x)")
    row("resolve all stages", stages, load)
    row("render to bytes (all targets, locks read)", to_bytes, load)
    print(
        f"write, first time (atomic)                  {first_write * 1000:8.1f} ms  "
        f"({first_write / load:.2f}x)"
    )
    row("write again, nothing changed", rewrite, load)
    print(f"whole `envparity render --check` process    {cli * 1000:8.1f} ms  ({cli / load:.2f}x)")
    verdict = "OK" if total < 2.0 else "OVER"
    print(f"load + render + first write: {total:.2f} s (target < 2 s: {verdict})")


if __name__ == "__main__":
    main()
