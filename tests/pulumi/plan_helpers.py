"""Helpers of the Pulumi tests (a module name of its own: every test folder has a conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

from envparity.core.model import STAGES

ROOT = Path(__file__).resolve().parents[2]
SPECS = ("train", "serve", "features")


# A drift image pinned by digest, as `envparity build drift/envparity-drift.yaml --push` records.
DRIFT_IMAGE = f"127.0.0.1:5000/envparity-drift:0.1.0-0123456789ab@sha256:{'d' * 64}"


def copy_project(tmp: Path, *, drift_image: str | None = DRIFT_IMAGE) -> Path:
    """A project directory with the example specs and stacks/ configs holding only the drift
    image (none with `drift_image=None`): returns its stacks dir."""
    shutil.copytree(ROOT / "envspecs", tmp / "envspecs")
    (tmp / "stacks").mkdir()
    if drift_image:
        for stage in STAGES:
            (tmp / "stacks" / f"Pulumi.{stage}.yaml").write_text(
                f"config:\n  envparity:driftImage: '{drift_image}'\n", encoding="utf-8"
            )
    return tmp / "stacks"


def one(p, type_: str):
    found = p.of_type(type_)
    assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
    return found[0]
