"""How fast `envparity plan` is (issue 5's and issue 18's speed targets), as whole CLI processes.

Targets: one spec and stage under 3 s wall and at most 1 s CPU; 50 environments in one stack
under 15 s. Wall time moves with the load of a shared machine; CPU time (user + system, of
the process and its children) far less, so before/after comparisons use CPU.
Baselines, measured in the same run: `python -c pass`, `python -c "import pulumi"` (the
mock runtime a plan cannot run without) and `import pulumi, pulumi_aws, pulumi_kubernetes`.
Run: .venv/bin/python bench/bench_plan.py [--runs N]
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
BASELINES = {
    "python -c pass": "pass",
    "import pulumi": "import pulumi",
    "import pulumi SDKs": "import pulumi, pulumi_aws, pulumi_kubernetes",
}


def timed(cmd: list[str], runs: int, cwd: Path) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of `cmd` over `runs` runs, after a warm-up."""
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


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
    parser.add_argument("--no-fifty", action="store_true", help="skip the 50-environment plan")
    args = parser.parse_args()
    rows: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        fifty = project(cwd, 50)
        for label, code in BASELINES.items():
            rows[label] = timed([sys.executable, "-c", code], args.runs, cwd)
        one = [str(ENVPARITY), "plan", "envspecs/train.yaml", "--stage", "production", "--json"]
        rows["plan 1 spec, production"] = timed(one, args.runs, cwd)
        if not args.no_fifty:
            many = [str(ENVPARITY), "plan", *fifty, "--stage", "production", "--json"]
            rows["plan 50 envs, one stack"] = timed(many, args.runs, cwd)
    pass_cpu = rows["python -c pass"][1]
    print(f"median of {args.runs} runs{'':9}wall       cpu  cpu / python -c pass")
    for label, (wall, cpu) in rows.items():
        print(f"{label:<26}{wall:7.2f} s {cpu:7.2f} s {cpu / pass_cpu:8.1f}x")
    one_wall, one_cpu = rows["plan 1 spec, production"]
    many_wall = rows.get("plan 50 envs, one stack", (0.0, 0.0))[0]
    print("targets: plan 1 spec < 3 s wall and <= 1 s CPU; 50 envs < 15 s wall")
    if one_wall >= 3 or one_cpu > 1 or many_wall >= 15:
        sys.exit(1)


if __name__ == "__main__":
    main()
