"""`validate` and `render` must start fast: no heavy SDK may be imported on their path."""

from __future__ import annotations

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
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
print('HEAVY=' + ','.join(heavy))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "envspecs/train.yaml"],
        ["show", "envspecs/train.yaml", "-s", "production"],
        ["render", "envspecs/train.yaml", "--check", "--out", "build"],
    ],
)
def test_no_heavy_imports(args):
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line, proc.stderr
    assert line[0] == "HEAVY=", f"{args[0]} imported {line[0][6:]}"
