"""How fast `envparity plan` is (issue 5's speed targets), as whole CLI processes.

Targets: one spec and stage under 3 s; 50 environments in one stack under 15 s.
Baseline, measured in the same run: `python -c "import pulumi, pulumi_aws, pulumi_kubernetes"`,
the import a Pulumi program cannot avoid.
Run: .venv/bin/python bench/bench_plan.py [--runs N]
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
ENVPARITY = Path(sys.executable).with_name("envparity")
BASELINE = "import pulumi, pulumi_aws, pulumi_kubernetes"


def timed(cmd: list[str], runs: int, cwd: Path) -> float:
    """Median wall time of `cmd` over `runs` runs, after one warm-up run."""
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def project(directory: Path, count: int) -> list[str]:
    """A project with the example specs, an empty stacks/, and `count` copies of serve.yaml."""
    shutil.copytree(ROOT / "envspecs", directory / "envspecs")
    (directory / "stacks").mkdir()
    text = (ROOT / "envspecs" / "serve.yaml").read_text(encoding="utf-8")
    paths = []
    for i in range(count):
        path = directory / "envspecs" / f"serve{i}.yaml"
        path.write_text(text.replace("name: serve", f"name: serve{i}"), encoding="utf-8")
        paths.append(str(path.relative_to(directory)))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        fifty = project(cwd, 50)
        baseline = timed([sys.executable, "-c", BASELINE], args.runs, cwd)
        one = timed(
            [str(ENVPARITY), "plan", "envspecs/train.yaml", "--stage", "production", "--json"],
            args.runs,
            cwd,
        )
        many = timed(
            [str(ENVPARITY), "plan", *fifty, "--stage", "production", "--json"], args.runs, cwd
        )
    print(f"import pulumi SDKs            {baseline:6.2f} s  (baseline)")
    print(f"plan 1 spec, production       {one:6.2f} s  {one / baseline:5.1f}x  (target < 3 s)")
    print(f"plan 50 envs, one stack       {many:6.2f} s  {many / baseline:5.1f}x  (target < 15 s)")
    if one >= 3 or many >= 15:
        sys.exit(1)


if __name__ == "__main__":
    main()
