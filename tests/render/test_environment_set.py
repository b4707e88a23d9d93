"""The environment set is the specs folder: repo-level files always come from all of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from envparity.cli.main import app
from typer.testing import CliRunner

from tests.conftest import ROOT

runner = CliRunner()
WORKFLOW = Path(".github/workflows/envparity-drift.yml")
REPO_FILES = [
    *(Path("stacks") / f"Pulumi.{s}.yaml" for s in ("local", "testing", "staging", "production")),
    WORKFLOW,
]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A checkout of the example project: specs, committed stack configs and workflow."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "envspecs", root / "envspecs")
    for path in REPO_FILES:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, root / path)
    monkeypatch.chdir(root)
    return root


def render(*args):
    return runner.invoke(app, ["render", *map(str, args)])


def texts(root: Path) -> dict[Path, str]:
    return {p: (root / p).read_text(encoding="utf-8") for p in REPO_FILES}


def test_rendering_one_spec_keeps_the_whole_set(project):
    before = texts(project)
    result = render("envspecs/train.yaml")
    assert result.exit_code == 0, result.output
    assert texts(project) == before  # serve and features stay in stacks and the workflow
    assert "serve" in before[WORKFLOW] and "envspecs/features.yaml" in before[WORKFLOW]
    assert render("--check", "envspecs/train.yaml").exit_code == 0


def test_a_spec_outside_the_project_leaves_no_absolute_path(project, tmp_path):
    outside = tmp_path / "elsewhere" / "extra.yaml"
    outside.parent.mkdir()
    text = (ROOT / "envspecs" / "features.yaml").read_text(encoding="utf-8")
    outside.write_text(text.replace("name: features", "name: extra"), encoding="utf-8")
    before = texts(project)
    result = render(outside)
    assert result.exit_code == 0, result.output
    assert (project / "build" / "extra" / "Dockerfile").is_file()
    assert texts(project) == before
    assert not any(str(tmp_path) in t or "extra" in t for t in texts(project).values())


def test_a_removed_spec_disappears_and_check_says_so(project):
    (project / "envspecs" / "features.yaml").unlink()
    (project / "envspecs" / "features.lock").unlink()
    check = render("--check", "envspecs/train.yaml")
    assert check.exit_code == 1
    stale = {
        line.split(": ", 1)[1] for line in check.output.splitlines() if line.startswith("stale: ")
    }
    assert {str(p) for p in REPO_FILES} <= stale
    assert render("envspecs/train.yaml").exit_code == 0
    assert not any("features" in t for t in texts(project).values())
    assert render("--check", "envspecs/train.yaml").exit_code == 0


def test_the_specs_folder_is_set_in_pyproject(project):
    (project / "envspecs").rename(project / "environments")
    (project / "pyproject.toml").write_text(
        '[tool.envparity]\nspecs-dir = "environments"\n', encoding="utf-8"
    )
    assert render("environments/serve.yaml").exit_code == 0
    for text in texts(project).values():
        assert "environments/train.yaml" in text and "envspecs/" not in text


def test_a_specs_folder_outside_the_project_is_one_line(project):
    (project / "pyproject.toml").write_text(
        '[tool.envparity]\nspecs-dir = "../x"\n', encoding="utf-8"
    )
    result = render("envspecs/serve.yaml")
    assert result.exit_code == 1
    [error] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "outside the project" in error and "hint:" in error
