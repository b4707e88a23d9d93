"""Issue 21 items 3 and 6: pins are PEP 440 versions, and URL lines say what to do instead."""

from __future__ import annotations

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.spec import parse_spec

SPEC = """\
envparity: 1
name: probe
version: 1.0.0
python: "PY"
cuda: "12.1.1"
os: ubuntu22.04
python_packages: [PKGS]
run: {command: [python, -m, app]}
stages: {local: {}}
"""


def spec(pkgs: str, python: str = "3.11.9", extra: str = "", read=None):
    text = SPEC.replace("PKGS", pkgs).replace("PY", python) + extra
    return parse_spec(text, "p.yaml", read=read)


def errors(pkgs: str, **kw) -> list:
    with pytest.raises(SpecError) as caught:
        spec(pkgs, **kw)
    return [d for d in caught.value.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    "pin", ["torch==2.2", "torch==2.2.0", "torch==2.2.0+cu121", "torch==2.2+cu121"]
)
def test_exact_pins_are_compared_as_versions(pin):
    """`torch==2.2` is release 2.2.0 (as cog-flux and cog-stable-diffusion-3 write it)."""
    found = spec(pin)
    assert found.completed.torch.build == "cu121"
    assert not [w for w in found.warnings if "torch" in w.message and "two CUDA" not in w.message]


def test_a_short_pin_of_a_missing_python_keeps_the_users_spelling():
    (error,) = [e for e in errors("torch==2.2", python="3.13.1") if "torch" in e.message]
    assert error.message.startswith("torch 2.2 has no wheel for Python 3.13 (cp313)")
    assert "2.2.0" not in error.message


def test_a_short_pin_of_a_release_that_does_not_exist_is_still_refused():
    (error,) = [e for e in errors("torch==2.2.0.1") if "torch" in e.message]
    assert error.message.startswith("torch 2.2.0.1 is not a release on the package indexes")


@pytest.mark.parametrize(
    ("pin", "message", "hint"),
    [
        (
            "torch===2.2.0",
            "'torch===2.2.0' uses arbitrary equality (===), which compares text, not versions",
            "pin it with ==: torch==2.2.0",
        ),
        (
            "torch==2.2.*",
            "'torch==2.2.*' is not pinned to one exact version: it is a prefix match, allowing "
            "every release of 2.2.*",
            "pin one release with ==, e.g. torch==<version> (see `pip index versions torch`)",
        ),
        (
            "torch~=2.2.0",
            "'torch~=2.2.0' is not pinned to one exact version",
            "pin it with ==, e.g. torch==<version> (see `pip index versions torch`)",
        ),
    ],
)
def test_specifiers_that_are_not_one_version_are_refused(pin, message, hint):
    (error,) = errors(pin)
    assert (error.message, error.hint) == (message, hint)


URL_LINES = [
    (
        "torch @ https://download.pytorch.org/whl/cu121/torch-2.2.0%2Bcu121-cp311-cp311-linux_x86_64.whl",
        "torch==2.2.0+cu121",
    ),
    ("git+https://github.com/openai/CLIP.git", "CLIP==<version>"),
    ("clip @ git+https://github.com/openai/CLIP.git@a1b2c3", "clip==<version>"),
]


@pytest.mark.parametrize(("line", "pin"), URL_LINES)
def test_a_url_in_python_packages_says_to_publish_and_pin_by_version(line, pin):
    (error,) = errors(f'"{line}"')
    assert error.message == (
        f"{line!r} installs from a URL: a spec pins each package by version and cannot pin a URL"
    )
    assert "package index or a wheelhouse" in error.hint and error.hint.endswith(pin)
    assert error.path == ("python_packages", 0)


@pytest.mark.parametrize(("line", "pin"), URL_LINES)
def test_a_url_in_a_requirements_file_says_the_same(line, pin):
    read = {"requirements.txt": f"numpy==1.26.4\n{line}\n"}.__getitem__
    with pytest.raises(SpecError) as caught:
        spec("fastapi==0.115.0", extra="python_requirements: requirements.txt\n", read=read)
    (error,) = [d for d in caught.value.diagnostics if "URL" in d.message]
    assert error.message.endswith("a spec pins each package by version and cannot pin a URL")
    assert error.hint.endswith(pin) and error.file.endswith("requirements.txt")
    assert error.line == 2
