"""devcontainer.json files validate against the Dev Container schema; editors find them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from envparity.core.render.devcontainer import (
    editor_path,
    render_devcontainer,
    render_editor_devcontainer,
)
from envparity.core.resolve import resolve
from envparity.core.spec import load_spec
from tests.conftest import ROOT

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "devContainer.base.schema.json").read_text()
)
SPECS = sorted((ROOT / "envspecs").glob("*.yaml"))


def errors(config: dict) -> list[str]:
    return [e.message for e in jsonschema.Draft201909Validator(SCHEMA).iter_errors(config)]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_devcontainers_validate_against_the_schema(path):
    local = resolve(load_spec(path), "local")
    for text in (render_devcontainer(local), render_editor_devcontainer(local)):
        assert errors(json.loads(text)) == []


def test_the_schema_check_can_fail():
    local = resolve(load_spec(ROOT / "envspecs" / "features.yaml"), "local")
    config = json.loads(render_devcontainer(local))
    config["forwardPort"] = config.pop("forwardPorts")  # a misspelt key
    assert errors(config)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_editors_find_the_repository_devcontainers(path):
    """.devcontainer/<name>/devcontainer.json is committed, current, and builds build/<name>/."""
    local = resolve(load_spec(path), "local")
    committed = ROOT / editor_path(local.name)
    assert committed.read_text(encoding="utf-8") == render_editor_devcontainer(local)
    build = json.loads(committed.read_text(encoding="utf-8"))["build"]
    assert (committed.parent / build["context"]).resolve() == ROOT / "build" / local.name
