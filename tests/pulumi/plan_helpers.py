"""Helpers of the Pulumi tests (a module name of its own: every test folder has a conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ("train", "serve", "features")


def copy_project(tmp: Path) -> Path:
    """A project directory with the example specs and an empty stacks/: returns its stacks dir."""
    shutil.copytree(ROOT / "envspecs", tmp / "envspecs")
    (tmp / "stacks").mkdir()
    return tmp / "stacks"


def one(p, type_: str):
    found = p.of_type(type_)
    assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
    return found[0]
