"""The scheduled-drift workflow renderer, and the CLI's usage errors (exit 1, one line)."""

from __future__ import annotations

import json
import re

import yaml

from envparity import __version__
from envparity.core.render.workflow import SCHEDULE, render_workflow
from envparity.core.spec import load_spec, load_specs
from tests.conftest import ROOT, assert_golden
from tests.drift.conftest import base_spec, gpu_spec

GOLDEN = ROOT / "tests" / "golden" / "drift" / "envparity-drift.yml"


def test_workflow_golden(monkeypatch):
    monkeypatch.chdir(ROOT)
    specs = load_specs(["envspecs/train.yaml", "envspecs/serve.yaml", "envspecs/features.yaml"])
    text = render_workflow(specs, ROOT).decode()
    assert_golden(GOLDEN, text)
    assert (
        render_workflow(list(reversed(specs)), ROOT).decode() == text
    )  # order of specs does not matter


def test_workflow_shape():
    workflow = yaml.safe_load(render_workflow(load_specs([ROOT / "envspecs/train.yaml"]), ROOT))
    assert workflow["on"]["schedule"] == [{"cron": SCHEDULE}]
    rows = workflow["jobs"]["drift"]["strategy"]["matrix"]["include"]
    assert {(r["stage"], r["target"]) for r in rows} == {
        (s, t) for s in ("testing", "staging", "production") for t in ("aws", "kubernetes")
    }


def test_spec_values_never_reach_a_shell_line(write_spec, tmp_path):
    path = write_spec(gpu_spec(), name="$(touch pwned);.yaml")
    text = render_workflow([load_spec(path)], path.parent).decode()
    workflow = yaml.safe_load(text)
    rows = workflow["jobs"]["drift"]["strategy"]["matrix"]["include"]
    assert rows[0]["spec"].endswith("$(touch pwned);.yaml")
    for step in workflow["jobs"]["drift"]["steps"]:
        assert "${{" not in step.get("run", ""), step  # matrix values reach shells via env only


def test_workflow_without_aws_stages_is_still_valid(write_spec, tmp_path):
    workflow = yaml.safe_load(render_workflow([load_spec(write_spec(base_spec()))], tmp_path))
    assert "nothing to check" in workflow["jobs"]["drift"]["steps"][0]["run"]


def test_unknown_target_is_one_line_exit_1(cli, write_spec):
    run = cli(write_spec(base_spec()), "--stage", "local", "--target", "cloud")
    assert run.code == 1
    assert run.stderr.count("\n") == 1 and "hint: use one of host, docker" in run.stderr


def test_undeclared_stage_is_exit_1(cli, write_spec):
    run = cli(write_spec(base_spec()), "--stage", "production", "--target", "host")
    assert (
        run.code == 1
        and "no stage 'production'" in run.stderr
        and "hint: use one of local" in run.stderr
    )


def test_invalid_spec_is_exit_1_with_location(cli, write_spec):
    run = cli(write_spec(base_spec(python="3.11")), "--stage", "local", "--target", "host")
    assert run.code == 1 and "demo.yaml:" in run.stderr and "Traceback" not in run.stderr


def test_junit_file_is_written(cli, write_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_MODE", "strict")
    report = tmp_path / "reports" / "drift.xml"
    run = cli(write_spec(base_spec()), "--stage", "local", "--target", "host", "--junit", report)
    assert run.code == 0 and "No drift." in run.stdout
    assert report.read_bytes().startswith(b"<?xml") and b"<testcase" in report.read_bytes()


def test_unreachable_docker_engine_is_exit_3(write_spec, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    run = cli(write_spec(base_spec()), "--stage", "local", "--target", "docker")
    assert run.code == 3
    assert "cannot reach it" in run.stdout and "DOCKER_HOST" in run.stdout


def test_unwritable_junit_path_is_one_line_exit_1(cli, write_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_MODE", "strict")
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = cli(
        write_spec(base_spec()),
        "--stage",
        "local",
        "--target",
        "host",
        "--junit",
        blocker / "drift.xml",
    )
    assert run.code == 1 and "cannot write --junit" in run.stderr and "hint:" in run.stderr


def _tool(name: str) -> str:
    """A CI tool: actionlint is built by `.ci/tools` (cached by version), zizmor is in .venv."""
    import subprocess
    import sys
    from pathlib import Path

    if name == "zizmor":
        return str(Path(sys.executable).parent / "zizmor")
    tools = ["bash", str(ROOT / ".ci" / "tools")]
    subprocess.run([*tools, "ensure", name], check=True, capture_output=True)
    return subprocess.run(
        [*tools, "path", name], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_workflow_is_adoptable_and_least_privileged():
    workflow = yaml.safe_load(
        render_workflow(load_specs(sorted(ROOT.glob("envspecs/*.yaml"))), ROOT)
    )
    assert workflow["permissions"] == {"contents": "read"}  # no id-token for the workflow
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    steps = job["steps"]
    for step in steps:
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    assert steps[0]["with"] == {"persist-credentials": False}
    [install] = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert install == f"python -m pip install 'envparity[aws,kubernetes]=={__version__}'"


def _zizmor(path, *persona: str) -> tuple[int, set[str]]:
    """zizmor's exit code and the audits it reports (`--persona auditor` shows everything).

    JSON, not the plain diagnostics: with CI set, zizmor colours its plain output.
    """
    import subprocess

    done = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--format", "json", *persona, str(path)],
        capture_output=True,
        text=True,
    )
    return done.returncode, {finding["ident"] for finding in json.loads(done.stdout)}


def test_workflow_passes_actionlint_and_zizmor(tmp_path):
    import subprocess

    path = tmp_path / ".github" / "workflows" / "envparity-drift.yml"
    path.parent.mkdir(parents=True)
    path.write_bytes(render_workflow(load_specs(sorted(ROOT.glob("envspecs/*.yaml"))), ROOT))
    lint = subprocess.run([_tool("actionlint"), str(path)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert _zizmor(path) == (0, set())
    risky = {"artipacked", "template-injection", "excessive-permissions", "unpinned-uses"}
    assert not _zizmor(path, "--persona", "auditor")[1] & risky
    # The audit can fail: a shell line that expands a matrix value, checkout keeping credentials.
    path.write_text(
        path.read_text()
        .replace('"$SPEC"', "${{ matrix.spec }}")
        .replace("persist-credentials: false", "persist-credentials: true")
    )
    assert {"artipacked", "template-injection"} <= _zizmor(path, "--persona", "auditor")[1]
