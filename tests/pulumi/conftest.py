"""Plans of the bundled example specs, made once per test session (a plan takes ~50 ms warm)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envparity.adapters.pulumi_plan import Plan, plan
from envparity.core.model import STAGES
from envparity.core.spec import load_spec
from tests.pulumi.plan_helpers import SPECS, copy_project


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """The stacks dir of a copy of the project with default stack settings."""
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def plans(project) -> dict[tuple[str, str], Plan]:
    """(spec name, stage) -> the plan of that spec alone."""
    out = {}
    for name in SPECS:
        spec = load_spec(project.parent / "envspecs" / f"{name}.yaml")
        for stage in STAGES:
            if stage in spec.stages:
                out[(name, stage)] = plan([spec], stage, project)
    return out
