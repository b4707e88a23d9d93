"""Piped, a table prints whole: no cell is folded or cut to fit a terminal that is not there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.pulumi.plan_helpers import copy_project

ENVPARITY = str(Path(sys.executable).parent / "envparity")


def test_piped_plan_table_is_not_folded(tmp_path):
    copy_project(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")
    }
    result = subprocess.run(
        [ENVPARITY, "plan", "envspecs/serve.yaml", "--stage", "production"],
        cwd=tmp_path,
        capture_output=True,  # stdout is a pipe, as in `envparity plan ... | grep`
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    row = next(line for line in lines if "aws:eks:NodeGroup" in line)
    assert 'instanceTypes=["g6.2xlarge"]' in row  # the whole instance type, on its row
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/production/serve:2.1.0-"
    assert any(image in line for line in lines), result.stdout
    assert "envparity-production-us-east-1-pod-identity-agent" in result.stdout
