"""How fast `envparity validate` starts and how it scales (issue 3's speed targets).

Targets: one spec within 8x (aim 4x) of a bare `python -c pass`; 500 specs in one call under 2 s.
Run: .venv/bin/python bench/bench_validate.py [--runs N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVPARITY = Path(sys.executable).with_name("envparity")


CPU: dict[str, float] = {}  # median CPU seconds (user + system) of the same runs, by label


def timed(cmd: list[str], runs: int, label: str = "") -> float:
    """Median wall time of `cmd` over `runs` runs, after one warm-up run.

    The median CPU time of the same runs goes to CPU[label]: on a shared machine it moves
    far less than wall time, so before/after comparisons use it.
    """
    subprocess.run(cmd, check=True, capture_output=True)
    samples, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU[label] = statistics.median(cpu)
    return statistics.median(samples)


def many_specs(directory: Path, count: int) -> list[str]:
    text = (ROOT / "envspecs" / "train.yaml").read_text()
    paths = []
    for i in range(count):
        path = directory / f"env{i}.yaml"
        path.write_text(text.replace("name: train", f"name: env{i}"))
        paths.append(str(path))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    spec = str(ROOT / "envspecs" / "train.yaml")
    baseline = timed([sys.executable, "-c", "pass"], args.runs, "python -c pass")
    one = timed([str(ENVPARITY), "validate", spec], args.runs, "validate 1 spec")
    print(f"python -c pass          {baseline * 1000:7.1f} ms  (baseline)")
    print(
        f"validate 1 spec         {one * 1000:7.1f} ms  {one / baseline:5.2f}x baseline"
        "  (target <= 8x, aim 4x)"
    )
    directory = Path(tempfile.mkdtemp())
    try:
        paths = many_specs(directory, 500)
        many = timed([str(ENVPARITY), "validate", *paths], max(3, args.runs // 5), "500 specs")
        print(
            f"validate 500 specs      {many * 1000:7.1f} ms  {many / baseline:5.2f}x baseline  "
            f"{(many - one) / 499 * 1000:.2f} ms/spec  (target < 2000 ms)"
        )
        print(
            "CPU time (user+system, median): "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in CPU.items())
        )
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
