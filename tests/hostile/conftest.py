"""A project in a temporary folder, and the CLI run on it in-process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from envparity.cli.main import app
from typer.testing import CliRunner

from tests.spec.conftest import CPU_SPEC

BASE = CPU_SPEC


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(*args: str) -> Run:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@dataclass
class Project:
    root: Path

    def spec(self, text: str, name: str = "spec.yaml") -> Path:
        path = self.root / "envspecs" / name
        path.write_text(text, encoding="utf-8")
        return path

    def validate(self, text: str) -> Run:
        return cli("validate", str(self.spec(text)))


@pytest.fixture
def project(tmp_path) -> Project:
    """tmp/proj (with .git, so it is the project root) and its envspecs/ folder."""
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "envspecs").mkdir()
    return Project(root)


def with_field(field: str, value: str, base: str = BASE) -> str:
    return base.replace("python_packages:", f"{field}: {value}\npython_packages:", 1)
