"""Golden files: regenerated only outside CI, none left over, and the repository's own
generated files (stack configs, drift workflow) equal to a fresh render."""

from __future__ import annotations

import os
import subprocess
import sys

from envparity.core.model import STAGES
from envparity.core.render.stack_config import render_stack_configs
from envparity.core.render.workflow import PATH as WORKFLOW
from envparity.core.render.workflow import render_workflow
from envparity.core.spec import load_specs
from tests.conftest import ROOT
from tests.render.test_golden import CASE_NAMES
from tests.spec.test_cli import EXAMPLES

# Every golden folder, and the files its tests produce (tests/golden/<case>/ is checked file by
# file by tests/render/test_golden.py, which renders the case).
SHOW = ROOT / "tests" / "spec" / "golden"
STACKS = ROOT / "tests" / "pulumi" / "golden"
RENDER = ROOT / "tests" / "golden"


def files(folder) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_every_golden_folder_is_known():
    folders = {p for p in (ROOT / "tests").rglob("golden") if p.is_dir()}
    assert folders == {SHOW, STACKS, RENDER}, "a new golden folder needs a stale-file check here"


def test_no_stale_show_goldens():
    produced = {f"show-{spec.stem}-{stage}.json" for spec in EXAMPLES for stage in STAGES}
    assert files(SHOW) == produced


def test_no_stale_stack_config_goldens():
    assert files(STACKS) == {f"Pulumi.{stage}.yaml" for stage in STAGES}


def test_no_stale_render_goldens():
    folders = {p.name for p in RENDER.iterdir()}
    assert folders == {*CASE_NAMES, "drift"}
    # pulumi-export-local/ is rewritten whole by tests/cluster/test_pulumi_up.py (rmtree first)
    assert {p.name for p in (RENDER / "drift").iterdir()} == {
        "envparity-drift.yml",
        "pulumi-export-local",
    }


def test_update_golden_is_refused_in_ci(tmp_path):
    env = {**os.environ, "CI": "true", "UPDATE_GOLDEN": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_goldens.py::test_every_golden_folder_is_known",  # writes nothing
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert "UPDATE_GOLDEN=1 rewrites golden files; it is refused when CI is set" in done.stderr


def test_the_repositorys_stack_configs_and_workflow_are_fresh(monkeypatch):
    """What `envparity render envspecs/*.yaml --check` checks for project files, from the root."""
    monkeypatch.chdir(ROOT)
    specs = load_specs(sorted(str(p.relative_to(ROOT)) for p in EXAMPLES))
    assert render_stack_configs(specs, ROOT / "stacks", check=True) == []
    assert (ROOT / WORKFLOW).read_bytes() == render_workflow(specs, ROOT), (
        f"{WORKFLOW} is stale: run `envparity render envspecs/*.yaml`"
    )
