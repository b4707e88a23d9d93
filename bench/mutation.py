"""Mutation testing of the rule modules with mutmut 3 (not run in CI): the score per module.

    .venv/bin/pip install -e '.[mutation]'
    .venv/bin/python bench/mutation.py engine            # one module: the drift engine
    .venv/bin/python bench/mutation.py compat spec       # several, one after the other
    .venv/bin/python bench/mutation.py --report engine   # the score of the last run, again

Each module is mutated in its own copy of the repository (.mutation/<module>/, ignored by
git), so the checkout is never changed. mutmut 3 runs the module's fast tests once, then
each mutant in a forked child, one child at a time by default (`--children N`): 2 cores
are shared on the CI machines. A surviving mutant, shown:

    cd .mutation/engine && ../../.venv/bin/python -m mutmut show NAME
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
COPIED = ("envparity", "cli", "components", "tests", "envspecs", "stacks", "Pulumi.yaml")

# module name -> (the file mutated, the in-process tests that cover it)
MODULES = {
    "engine": (
        "envparity/drift/engine.py",
        [
            "tests/drift/test_engine_rules.py",
            "tests/drift/test_engine_and_report.py",
            "tests/drift/test_host_rules.py",
        ],
    ),
    "compat": ("envparity/compat.py", ["tests/compat"]),
    "spec": (
        "envparity/spec.py",
        [
            "tests/spec/test_rules.py",
            "tests/spec/test_loader.py",
            "tests/spec/test_fingerprint_resolve.py",
        ],
    ),
}
KILLED = {"killed", "timeout", "segfault"}  # a crash or a hang is a detection too


def prepare(name: str) -> Path:
    """A fresh copy of the sources and tests, configured to mutate only the module's file."""
    path, tests = MODULES[name]
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    for item in COPIED:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, work / item, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, work / item)
    config = {
        "source_paths": ["envparity"],
        "only_mutate": [path],
        "pytest_add_cli_args_test_selection": tests,
        "also_copy": [item for item in COPIED if item != "envparity"],
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    (work / "pyproject.toml").write_text("[tool.mutmut]\n" + "\n".join(lines) + "\n")
    return work


def run(name: str, children: int) -> None:
    work = prepare(name)
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
        cwd=work,
        check=False,  # the score below is the result, not mutmut's exit code
    )


def score(name: str) -> tuple[Counter, list[str]]:
    """Statuses of the module's mutants, and the names of the survivors."""
    from mutmut.stats import status_by_exit_code

    path, _ = MODULES[name]
    meta = WORK / name / "mutants" / f"{path}.meta"
    if not meta.exists():
        return Counter(), []
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    statuses = {key: status_by_exit_code[code] for key, code in codes.items()}
    survivors = sorted(key for key, status in statuses.items() if status == "survived")
    return Counter(statuses.values()), survivors


def report(names: list[str]) -> None:
    for name in names:
        counts, survivors = score(name)
        total = sum(counts.values())
        if not total:
            print(f"{name}: not run")
            continue
        killed = sum(n for status, n in counts.items() if status in KILLED)
        print(
            f"{name} ({MODULES[name][0]}): {killed}/{total} killed "
            f"({100 * killed / total:.1f}%) {dict(sorted(counts.items()))}"
        )
        for survivor in survivors:
            print(f"  survived: {survivor}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--report", action="store_true", help="print the last scores only")
    parser.add_argument("--children", type=int, default=1, help="mutants run in parallel")
    args = parser.parse_args()
    unknown = set(args.modules) - set(MODULES)
    if unknown:
        parser.error(f"unknown module(s) {', '.join(sorted(unknown))}: use {', '.join(MODULES)}")
    names = args.modules or list(MODULES)
    if not args.report:
        for name in names:
            run(name, args.children)
    report(names)


if __name__ == "__main__":
    main()
