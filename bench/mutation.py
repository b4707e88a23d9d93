"""Mutation testing of the rule modules with mutmut 2 (not run in CI): the score per module.

    .venv/bin/pip install -e '.[mutation]'
    .venv/bin/python bench/mutation.py engine            # one module: drift engine
    .venv/bin/python bench/mutation.py compat spec       # several, one after the other
    .venv/bin/python bench/mutation.py --report          # scores of what already ran

mutmut writes each mutant into the source file, runs the module's tests, and restores
the file: run it in a checkout you are not editing. Each module runs only the fast tests
that cover it (in-process, no services), one mutant at a time (one core), so a module
takes minutes, not hours. Results are kept in .mutmut-cache; `mutmut show ID` prints a
surviving mutant.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module name -> (the file mutated, the tests that cover it)
MODULES = {
    "engine": (
        "envparity/drift/engine.py",
        [
            "tests/drift/test_engine_rules.py",
            "tests/drift/test_engine_and_report.py",
            "tests/drift/test_host.py",
            "tests/drift/test_host_rules.py",
        ],
    ),
    "compat": ("envparity/compat.py", ["tests/compat"]),
    "spec": (
        "envparity/spec.py",
        ["tests/spec/test_rules.py", "tests/spec/test_loader.py", "tests/spec/test_cli.py"],
    ),
}
KILLED = ("ok_killed", "bad_timeout", "ok_suspicious")  # a timeout or a crash is a detection


def run(name: str) -> None:
    path, tests = MODULES[name]
    runner = " ".join(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mutmut",
            "run",
            "--paths-to-mutate",
            path,
            "--tests-dir",
            "tests",
            "--runner",
            runner,
            "--simple-output",
        ],
        cwd=ROOT,
        check=False,  # mutmut exits non-zero whenever a mutant survives
    )


def scores() -> dict[str, tuple[int, int, list[int]]]:
    """file -> (killed, total, ids of the survivors) from mutmut's cache."""
    cache = ROOT / ".mutmut-cache"
    if not cache.exists():
        return {}
    with sqlite3.connect(cache) as db:
        rows = db.execute(
            "SELECT SourceFile.filename, Mutant.id, Mutant.status FROM Mutant "
            "JOIN Line ON Mutant.line = Line.id JOIN SourceFile ON Line.sourcefile = SourceFile.id"
        ).fetchall()
    out: dict[str, tuple[int, int, list[int]]] = {}
    for filename, mutant, status in rows:
        killed, total, survivors = out.get(filename, (0, 0, []))
        if status == "untested":
            continue
        if status in KILLED:
            killed += 1
        else:
            survivors.append(mutant)
        out[filename] = (killed, total + 1, survivors)
    return out


def report() -> None:
    for filename, (killed, total, survivors) in sorted(scores().items()):
        print(f"{filename}: {killed}/{total} killed ({100 * killed / total:.1f}%)")
        if survivors:
            print(f"  survivors (mutmut show ID): {' '.join(map(str, survivors))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--report", action="store_true", help="print the scores and exit")
    args = parser.parse_args()
    unknown = set(args.modules) - set(MODULES)
    if unknown:
        parser.error(f"unknown module(s) {', '.join(sorted(unknown))}: use {', '.join(MODULES)}")
    for name in [] if args.report else args.modules or list(MODULES):
        run(name)
    report()


if __name__ == "__main__":
    main()
