"""The team snapshot is looked for up to the project root, never in a shared parent (/tmp)."""

from __future__ import annotations

from envparity.core.knowledge import PACKAGED, TEAM_FILE, locate
from envparity.core.project import project_root


def plant(folder):
    path = folder / TEAM_FILE
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    return path


def test_a_snapshot_above_the_project_root_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("ENVPARITY_KNOWLEDGE", raising=False)
    tmp_path = tmp_path.resolve()
    plant(tmp_path)
    project = tmp_path / "proj"
    (project / "envspecs").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    assert project_root(project / "envspecs") == project
    assert locate(project / "envspecs") == (PACKAGED, "packaged")
    ours = plant(project)
    assert locate(project / "envspecs") == (ours, "team")


def test_without_a_project_the_folder_itself_is_the_root(tmp_path, monkeypatch):
    monkeypatch.delenv("ENVPARITY_KNOWLEDGE", raising=False)
    tmp_path = tmp_path.resolve()
    plant(tmp_path)
    (tmp_path / "specs").mkdir()
    assert project_root(tmp_path / "specs") == tmp_path / "specs"
    assert locate(tmp_path / "specs") == (PACKAGED, "packaged")
