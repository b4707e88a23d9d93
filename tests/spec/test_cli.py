"""The spec commands through the CLI: exit codes, JSON, golden `show --json`, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from envparity.cli.main import COMMANDS, app
from typer.testing import CliRunner

from tests.conftest import ROOT, assert_golden
from tests.spec.conftest import GPU_SPEC, edit, write

runner = CliRunner()
EXAMPLES = sorted((ROOT / "envspecs").glob("*.yaml"))


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_validate_examples_ok():
    result = run("validate", *EXAMPLES)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("ok: ") == len(EXAMPLES)


def test_validate_invalid_exit_1_with_location(tmp_path):
    path = write(tmp_path, edit(GPU_SPEC, "python:", "pyton:"))
    result = run("validate", path)
    assert result.exit_code == 1
    assert (
        f"{path}:5:1: error: pyton: unknown field 'pyton' (hint: did you mean 'python'?)"
        in result.stderr
    )


def test_validate_json(tmp_path):
    path = write(tmp_path, edit(GPU_SPEC, "numpy==1.26.4", "numpy>=1"))
    result = run("validate", "--json", path)
    assert result.exit_code == 1
    [error] = json.loads(result.stdout)
    assert error["path"] == "python_packages[0]" and error["line"] == 13 and error["column"] == 5
    assert (
        "not pinned" in error["message"]
        and error["severity"] == "error"
        and error["file"] == str(path)
    )
    ok = run("validate", "--json", EXAMPLES[0])
    assert ok.exit_code == 0 and isinstance(json.loads(ok.stdout), list)


def test_validate_against_git_ref(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    path = write(tmp_path, GPU_SPEC)
    git("init", "-q")
    git(
        "-c",
        "user.email=t@e.invalid",
        "-c",
        "user.name=t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "0",
    )
    git("add", ".")
    git("-c", "user.email=t@e.invalid", "-c", "user.name=t", "commit", "-qm", "1")
    path.write_text(edit(GPU_SPEC, "numpy==1.26.4", "numpy==1.26.5"))
    result = run("validate", "--against", "HEAD", path)
    assert result.exit_code == 1 and "needs a MINOR version bump" in result.stderr
    assert f"{path}:3:10: error: version:" in result.stderr
    assert run("validate", "--against", "HEAD~1", path).exit_code == 0  # new file at HEAD~1


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.parametrize("stage", ["local", "testing", "staging", "production"])
def test_show_json_golden(spec, stage):
    result = run("show", spec, "--stage", stage, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stage"] == stage and len(data["fingerprint"]) == 64
    assert_golden(
        ROOT / "tests" / "spec" / "golden" / f"show-{spec.stem}-{stage}.json", result.stdout
    )


def test_show_human_and_unknown_stage(tmp_path):
    result = run("show", EXAMPLES[0], "--stage", "production")
    assert result.exit_code == 0 and "fingerprint" in result.stdout
    path = write(tmp_path, GPU_SPEC)
    bad = run("show", path, "--stage", "staging")
    assert bad.exit_code == 1 and "has no stage 'staging'" in bad.stderr


def test_schema_is_the_shipped_json_schema():
    result = run("schema")
    shipped = ROOT / "envparity" / "core" / "schema" / "envspec.schema.json"
    assert result.exit_code == 0
    assert result.stdout == shipped.read_text(encoding="utf-8")
    assert json.loads(result.stdout)["$schema"].endswith("2020-12/schema")


def test_parity_table_and_json(tmp_path):
    path = write(tmp_path, GPU_SPEC)
    result = run("parity", "--json", path)
    assert result.exit_code == 0
    rows = {r["field"]: r for r in json.loads(result.stdout)["rows"]}
    assert rows["fingerprint"]["differs"] is False and rows["replicas"]["differs"] is True
    assert rows["instance_type"]["values"] == {
        "local": "-",
        "testing": "g5.xlarge",
        "production": "g6.xlarge",
    }
    human = run("parity", path)
    assert human.exit_code == 0 and "identical in every stage" in human.stdout


def test_parity_fails_on_promoted_stage_with_extra_packages(tmp_path):
    path = write(
        tmp_path,
        edit(
            GPU_SPEC,
            "    replicas: 3",
            "    replicas: 3\n    extra_python_packages: [rich==13.8.0]",
        ),
    )
    result = run("parity", "--json", path)
    assert result.exit_code == 2
    assert "production adds extra_python_packages" in json.loads(result.stdout)["problems"][0]


@pytest.mark.parametrize("command", [None] + [name for name, _ in COMMANDS])
def test_help_everywhere(command):
    result = run(*([command] if command else []), "--help")
    assert result.exit_code == 0 and "Usage" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "missing.yaml"],
        ["show", "missing.yaml", "--stage", "local"],
        ["validate"],
        ["show", str(ROOT / "envspecs" / "train.yaml"), "--stage", "nope"],
        ["nosuchcommand"],
    ],
)
def test_user_mistakes_never_print_a_traceback(args):
    proc = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr and proc.stderr.strip()
