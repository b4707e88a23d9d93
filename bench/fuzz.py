"""A long fuzz run of the property tests (not run in CI): many more examples, a fresh seed.

    .venv/bin/python bench/fuzz.py                  # 50x the examples, a random seed
    .venv/bin/python bench/fuzz.py --scale 200 --seed 7 -k render

CI runs the same tests derandomized with their usual example counts (tests/conftest.py,
profile `ci`); here they draw `--scale` times as many examples from a seed, without the
example database, so a finding is reproducible with the seed printed. A failure shows
hypothesis' shrunk "Falsifying example"; fix the bug, then add that input to the test as an
`@example(...)` so every later run, CI's included, repeats it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "tests/spec/test_property.py",
    "tests/spec/test_property_pipeline.py",
    "tests/spec/test_property_commands.py",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=50, help="examples x this (default 50)")
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: a random one)")
    parser.add_argument("-k", dest="select", help="only the tests pytest -k selects")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    command = [
        sys.executable,
        "-m",
        "pytest",
        *TESTS,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--hypothesis-seed={seed}",
        "--hypothesis-profile=fuzz",
        *(["-k", args.select] if args.select else []),
    ]
    env = {**os.environ, "ENVPARITY_FUZZ_SCALE": str(args.scale)}
    env.pop("CI", None)  # the ci profile would derandomize: the seed would mean nothing
    print(f"fuzz: seed {seed}, {args.scale}x the examples: {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if done.returncode:
        print(
            f"fuzz: failures above (seed {seed}); fix them, then add each falsifying input "
            "as an @example(...) of its test",
            file=sys.stderr,
        )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
