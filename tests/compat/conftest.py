"""Specs for the compatibility tests: valid bases, and edits of them that break one rule each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from envparity.core.diagnostics import Diagnostic, SpecError
from envparity.core.spec import load_spec

GPU_SPEC = """\
envparity: 1
name: train
version: 1.0.0
python: "3.11.9"
cuda: "12.4.1"
cudnn: "9"
driver: "550.54.15"
gpus:
  - H100-80GB
  - A100-80GB
os: ubuntu22.04
python_packages:
  - numpy==1.26.4
  - torch==2.4.1+cu124
run:
  command: [python, -m, train]
  gpus: 1
stages:
  local:
    gpus: 0
  testing:
    instance_type: p4de.24xlarge
  production:
    gpus: 8
    instance_type: p5.48xlarge
"""

CPU_SPEC = """\
envparity: 1
name: svc
version: 1.0.0
python: "3.12.7"
os: debian12
python_packages:
  - flask==3.0.3
run:
  command: [gunicorn, app]
stages:
  local: {}
  production:
    instance_type: m6i.large
"""


def edit(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced by `new` (fails loudly when absent)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def edits(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        text = edit(text, old, new)
    return text


@dataclass(frozen=True)
class Outcome:
    """What the real loader said about a spec file: its diagnostics and the file's lines."""

    diagnostics: list[Diagnostic]
    lines: list[str]
    loaded: bool

    def find(self, message: str) -> Diagnostic:
        hits = [d for d in self.diagnostics if message in d.message]
        assert hits, f"no diagnostic contains {message!r}; got:\n" + "\n".join(
            d.format() for d in self.diagnostics
        )
        return hits[0]

    def line_of(self, diagnostic: Diagnostic) -> str:
        assert diagnostic.line is not None, diagnostic.format()
        return self.lines[diagnostic.line - 1]

    def assert_at(self, message: str, line_pattern: str, severity: str) -> Diagnostic:
        found = self.find(message)
        assert found.severity == severity, found.format()
        assert re.search(line_pattern, self.line_of(found)), (
            f"{found.format()} points at {self.line_of(found)!r}, expected /{line_pattern}/"
        )
        return found


@pytest.fixture
def load(tmp_path: Path):
    """Write a spec to a file and load it through envparity.core.spec.load_spec."""

    def _load(text: str) -> Outcome:
        path = tmp_path / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            spec = load_spec(path)
        except SpecError as exc:
            return Outcome(exc.diagnostics, text.splitlines(), loaded=False)
        return Outcome(list(spec.warnings), text.splitlines(), loaded=True)

    return _load
