"""`envparity plan` as a user runs it: a real process, exit codes, stdout vs stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.pulumi.plan_helpers import ROOT, copy_project

ENVPARITY = str(Path(sys.executable).parent / "envparity")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "240"}  # rich wraps to the terminal; make it wide enough
    return subprocess.run(
        [ENVPARITY, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


def test_json_plan_of_production(tmp_path):
    copy_project(tmp_path)
    result = run("plan", "envspecs/train.yaml", "--stage", "production", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"resources"}
    assert all(set(r) == {"type", "name", "parent", "inputs"} for r in data["resources"])
    groups = [r for r in data["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"]
    assert [g["inputs"]["instanceTypes"] for g in groups] == [["p5.48xlarge"]]
    assert groups[0]["parent"] == "train-nodes"
    assert "warning: train: no image recorded" in result.stderr  # diagnostics on stderr only


def test_table_plan_of_local(tmp_path):
    copy_project(tmp_path)
    result = run("plan", "envspecs/serve.yaml", "--stage", "local", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "kubernetes:apps/v1:Deployment" in result.stdout
    assert "aws:" not in result.stdout
    assert "placeholders" in result.stdout


def test_undeclared_stage_is_one_line_exit_1(tmp_path):
    copy_project(tmp_path)
    spec = tmp_path / "envspecs" / "lonely.yaml"
    text = (tmp_path / "envspecs" / "features.yaml").read_text(encoding="utf-8")
    spec.write_text(
        text.replace("name: features", "name: lonely").split("  testing:")[0], encoding="utf-8"
    )
    result = run("plan", str(spec), "--stage", "production", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "production" in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_spec_exits_1_with_location(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("envparity: 1\nname: Bad\n", encoding="utf-8")
    result = run("plan", str(spec), "--stage", "local", cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.yaml:" in result.stderr and "Traceback" not in result.stderr
