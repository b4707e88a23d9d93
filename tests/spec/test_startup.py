"""`validate` and `render` must start fast: no heavy SDK may be imported on their path."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = (
    "pulumi",
    "pulumi_aws",
    "pulumi_kubernetes",
    "docker",
    "boto3",
    "botocore",
    "kubernetes",
    "pynvml",
    "pydantic",
)

PROBE = """
import sys
from envparity.cli.main import app
try:
    code = app(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
print('HEAVY=' + ','.join(heavy))
print('EXIT=' + str(code or 0))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "envspecs/train.yaml"],
        ["show", "envspecs/train.yaml", "-s", "production"],
        ["render", "envspecs/train.yaml", "--out", "build"],
        ["render", "envspecs/train.yaml", "--check", "--out", "build"],
    ],
)
def test_no_heavy_imports(args, tmp_path):
    """Each command succeeds (exit 0) in a copy of the examples, and imports no SDK."""
    shutil.copytree(ROOT / "envspecs", tmp_path / "envspecs")
    if "--check" in args:  # what --check compares with: a fresh render
        subprocess.run(
            [sys.executable, "-c", PROBE % (HEAVY,), *args[:2]],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line, proc.stderr
    assert proc.returncode == 0 and "EXIT=0" in proc.stdout.splitlines(), proc.stderr
    assert line[0] == "HEAVY=", f"{args[0]} imported {line[0][6:]}"
