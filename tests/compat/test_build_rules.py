"""Issue 21 item 2: torch, torchvision and torchaudio builds. A missing build or Python ABI is
an error where the index data for the release is complete, a warning otherwise; torchvision
and torchaudio go with the torch release they were released with."""

from __future__ import annotations

import re

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.knowledge.tables import Tables
from envparity.core.spec import parse_spec

t = Tables.for_folder()

SPEC = """\
envparity: 1
name: probe
version: 1.0.0
python: "PY"
cuda: "CUDA"
os: ubuntu22.04
python_packages: [PKGS]
run: {command: [python, -m, app]}
stages: {local: {}}
"""


def spec(pkgs: str, cuda: str = "12.8.1", python: str = "3.12.7"):
    text = SPEC.replace("PKGS", pkgs).replace("CUDA", cuda).replace("PY", python)
    return parse_spec(text, "p.yaml")


def findings(pkgs: str, **kw) -> list:
    try:
        return spec(pkgs, **kw).warnings
    except SpecError as exc:
        return exc.diagnostics


def test_a_build_missing_from_an_incomplete_release_is_a_warning_naming_refresh():
    """torch 2.9.0 is known from copies that do not list all its builds (cu126..cu130 only):
    a cu124 build is not known to be absent."""
    assert not all(w.complete for w in t.wheels("torch", "2.9.0").values())
    (found,) = [d for d in findings("torch==2.9.0+cu124") if "cu124 build" in d.message]
    assert found.severity == "warning"
    assert "not complete" in found.message and "envparity knowledge refresh" in found.hint


def test_a_build_missing_from_a_complete_release_is_an_error():
    assert all(w.complete for w in t.wheels("torch", "2.8.0").values())
    (found,) = [d for d in findings("torch==2.8.0+cu124") if "cu124 build" in d.message]
    assert found.severity == "error"
    assert found.message.startswith("torch 2.8.0 has no cu124 build on download.pytorch.org")
    assert found.hint == "use torch==2.8.0+cu128"
    spec("torch==2.8.0+cu128")  # the hint is accepted


def test_a_python_missing_from_an_incomplete_release_is_a_warning():
    """torchvision 0.24.0's rows come from a copy that does not list every wheel."""
    rows = t.wheels("torchvision", "0.24.0")
    assert rows and not all(w.complete for w in rows.values())
    found = findings("torch==2.9.0+cu128, torchvision==0.24.0+cu128", python="3.15.2")
    python = [d for d in found if "no wheel for Python" in d.message]
    assert python and all(d.severity == "warning" for d in python)
    assert all("envparity knowledge refresh" in d.hint for d in python)


def test_a_python_missing_from_a_complete_release_is_an_error():
    (found,) = [d for d in findings("torch==2.0.1+cu118", python="3.12.7") if "Python" in d.message]
    assert found.severity == "error" and found.message.startswith(
        "torch 2.0.1 has no wheel for Python 3.12 (cp312)"
    )


def _companion_pins() -> list[tuple[str, str, str]]:
    """(torch, project, version) of every companion the snapshot ties to a torch release."""
    return [
        (row["torch"], project, row[project])
        for row in t.snapshot.data["torch_companions"]
        for project in ("torchvision", "torchaudio")
        if row.get(project)
    ]


@pytest.mark.parametrize(("torch", "project", "version"), _companion_pins())
def test_every_companion_validates_with_its_torch(torch, project, version):
    parsed = spec(f"torch=={torch}, {project}=={version}", cuda="13.0.1", python="3.10.14")
    assert not [w for w in parsed.warnings if "does not go with" in w.message]


def test_a_companion_of_another_torch_release_is_an_error_naming_the_right_version():
    (found,) = [
        d
        for d in findings("torch==2.10.0+cu128, torchvision==0.24.1+cu128")
        if "does not go with" in d.message
    ]
    assert found.severity == "error"
    assert found.message == (
        "torchvision 0.24.1 does not go with torch 2.10.0: torch 2.10.0 was released with "
        "torchvision 0.25.0"
    )
    assert found.hint.startswith("use torchvision==0.25.0+cu128 or pin torch==2.9.1+cu128")
    for fix in re.findall(r"(torch\w*==[\d.]+\+cu\d+)", found.hint):
        pins = "torch==2.10.0+cu128, " + fix if fix.startswith("torchvision") else fix
        if not fix.startswith("torchvision"):
            pins += ", torchvision==0.24.1+cu128"
        spec(pins)  # every version the hint proposes is accepted


def test_a_short_companion_pin_is_the_same_release():
    spec("torch==2.10, torchvision==0.25, torchaudio==2.10")
