"""Specs for the loader tests: a valid base, and edits of it that break one rule each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.spec import load_spec

GPU_SPEC = """\
envparity: 1
name: serve
version: 1.0.0
description: test service
python: "3.11.9"
cuda: "12.4.1"
cudnn: "9"
driver: "550.54.15"
gpus: [A10G, L4]
os: ubuntu22.04
system_packages: [git, libgl1]
python_packages:
  - numpy==1.26.4
  - fastapi==0.115.0
env:
  PYTHONHASHSEED: "0"
run:
  command: [python, -m, app]
  port: 8080
  gpus: 1
  cpu: "3"
  memory: 12Gi
stages:
  local:
    gpus: 0
  testing:
    replicas: 1
    instance_type: g5.xlarge
    extra_python_packages: [pytest==8.3.3]
  production:
    replicas: 3
    instance_type: g6.xlarge
    nodes: {min: 3, max: 6}
    region: us-east-1
    env: {LOG_LEVEL: info}
    secrets: [API_TOKEN]
"""

CPU_SPEC = """\
envparity: 1
name: features
version: 0.1.0
python: "3.12.7"
python_packages: [flask==3.0.3]
run:
  command: [flask, run]
stages:
  production:
    replicas: 2
    instance_type: m6i.large
"""


def edit(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence of `old` (so a test cannot silently edit nothing)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, pattern: str) -> int:
    """1-based number of the first line matching the regex `pattern`."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"no line matches {pattern!r}")


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list:
    """The diagnostics loading `text` gives (errors and warnings); [] for a clean spec."""
    try:
        return list(load_spec(write(tmp_path, text)).warnings)
    except SpecError as exc:
        return exc.diagnostics


@pytest.fixture
def check(tmp_path):
    """check(text, message_part, line_pattern): exactly the expected error at the expected line."""

    def run(text: str, message: str, line_pattern: str, severity: str = "error"):
        found = [d for d in problems(tmp_path, text) if d.severity == severity]
        matching = [d for d in found if message in d.message]
        assert matching, f"no {severity} containing {message!r}; got {[d.format() for d in found]}"
        assert matching[0].line == line_of(text, line_pattern), matching[0].format()
        assert matching[0].file == str(tmp_path / "spec.yaml")
        return matching[0]

    return run
