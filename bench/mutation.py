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

# module name -> (the files mutated, the in-process tests that cover them)
MODULES = {
    "engine": (
        [
            "envparity/core/drift/engine.py",
            "envparity/core/drift/outcome.py",
            "envparity/core/drift/rules/*",
        ],
        [
            "tests/drift/test_engine_rules.py",
            "tests/drift/test_engine_and_report.py",
            "tests/drift/test_host_rules.py",
        ],
    ),
    "compat": (
        ["envparity/core/compat/*", "envparity/core/complete.py", "envparity/core/capacity.py"],
        ["tests/compat", "tests/spec/test_model_build.py"],
    ),
    "spec": (
        ["envparity/core/spec.py"],
        [
            "tests/spec/test_model_build.py",
            "tests/spec/test_rules.py",
            "tests/spec/test_loader.py",
            "tests/spec/test_fingerprint_resolve.py",
        ],
    ),
}
KILLED = {"killed", "timeout", "segfault"}  # a crash or a hang is a detection too


def prepare(name: str) -> Path:
    """A fresh copy of the sources and tests, configured to mutate only the module's file."""
    paths, tests = MODULES[name]
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
        "only_mutate": paths,
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


def statuses(name: str) -> dict[str, dict[str, str]]:
    """file -> mutant name -> status, from the .meta files mutmut wrote for the module."""
    from mutmut.stats import status_by_exit_code

    root = WORK / name / "mutants"
    found = {}
    for meta in sorted(root.rglob("*.py.meta")) if root.exists() else ():
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key") or {}
        if codes:
            source = str(meta.relative_to(root))[: -len(".meta")]
            found[source] = {key: status_by_exit_code[code] for key, code in codes.items()}
    return found


def line(label: str, counts: Counter) -> str:
    total = sum(counts.values())
    killed = sum(n for status, n in counts.items() if status in KILLED)
    return f"{label}: {killed}/{total} killed ({100 * killed / total:.1f}%)"


def report(names: list[str]) -> None:
    for name in names:
        files = statuses(name)
        if not files:
            print(f"{name}: not run")
            continue
        every = Counter(s for mutants in files.values() for s in mutants.values())
        print(line(name, every), dict(sorted(every.items())))
        for source, mutants in files.items():
            print("  " + line(source, Counter(mutants.values())))
            for mutant, status in sorted(mutants.items()):
                if status not in KILLED:
                    print(f"    {status}: {mutant}")


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
