"""Issue 21 item 1: nvidia/cuda tags. A listed tag proves its sibling flavours; a missing tag
is an error only where the snapshot's tag list for it is complete (else a warning)."""

from __future__ import annotations

import re

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.knowledge import version_key
from envparity.core.knowledge.tables import Tables
from envparity.core.render.dockerfile import choose_base
from envparity.core.spec import parse_spec

t = Tables.for_folder()
TAG = re.compile(r"(\d+\.\d+\.\d+)-(?:(cudnn\d*)-)?(base|runtime|devel)-(ubuntu\d+\.\d+)")


def spec_text(cuda: str, os: str, flavor: str, cudnn: str | None = None) -> str:
    return "\n".join(
        [
            "envparity: 1",
            "name: probe",
            "version: 1.0.0",
            'python: "3.12.7"',
            f'cuda: "{cuda}"',
            f"os: {os}",
            f"cuda_flavor: {flavor}",
            *([f'cudnn: "{cudnn}"'] if cudnn else []),
            "python_packages: [numpy==1.26.4]",
            "run: {command: [python, -m, app]}",
            "stages: {local: {}}",
            "",
        ]
    )


def _releases() -> list[tuple[str, str, str | None, str]]:
    """(cuda, os, cuDNN major or None, flavour) of every release/OS the snapshot has a tag of,
    CUDA >= 11.8: each of base/runtime/devel, and cuDNN runtime/devel where cuDNN tags exist."""
    found: set[tuple[str, str, str | None, str]] = set()
    for tag in t.image_tags():
        m = TAG.fullmatch(tag)
        if not m or version_key(m[1]) < (11, 8, 0):
            continue
        cudnn = t.cudnn_major(m[2]) if m[2] else None
        for flavor in ("base", "runtime", "devel") if cudnn is None else ("runtime", "devel"):
            found.add((m[1], m[4], cudnn, flavor))
    return sorted(found, key=lambda r: (version_key(r[0]), r[1], r[2] or "", r[3]))


@pytest.mark.parametrize(("cuda", "os", "cudnn", "flavor"), _releases())
def test_every_listed_release_renders_each_flavour(cuda, os, cudnn, flavor):
    spec = parse_spec(spec_text(cuda, os, flavor, cudnn), "probe.yaml")
    marker = "cudnn-" if cudnn == "9" and version_key(cuda) >= (12, 4, 0) else ""
    ref = choose_base(spec).ref
    assert ref.startswith(f"nvidia/cuda:{cuda}-") and ref.endswith(f"{flavor}-{os}")
    if cudnn is None:
        assert ref == f"nvidia/cuda:{cuda}-{flavor}-{os}"
    else:
        assert re.fullmatch(rf"nvidia/cuda:{re.escape(cuda)}-cudnn\d*-{flavor}-{os}", ref)
        assert marker in ref
    assert not [w for w in spec.warnings if "nvidia/cuda has no" in w.message]


def test_13_1_0_runtime_renders_and_its_missing_cudnn_tag_is_only_a_warning():
    """13.1.0's runtime tag is listed by public Dockerfiles only (not a complete list): its
    cuDNN tags are not known to exist, nor known not to."""
    spec = parse_spec(spec_text("13.1.0", "ubuntu24.04", "runtime"), "p.yaml")
    assert choose_base(spec).ref == "nvidia/cuda:13.1.0-runtime-ubuntu24.04"
    assert not t.tags_complete("13.1.0", "ubuntu24.04", "cudnn-runtime")


def test_a_missing_flavour_is_an_error_where_the_list_is_complete():
    """11.8.0 on ubuntu22.04 is listed in full by NVIDIA's tag documents: no runtime tag on an
    OS NVIDIA never published is an error naming the OS that has it."""
    assert t.tags_complete("11.8.0", "ubuntu20.04", "runtime")
    with pytest.raises(SpecError, match=r"nvidia/cuda has no tag 11\.8\.0-runtime-ubuntu24\.04"):
        parse_spec(spec_text("11.8.0", "ubuntu24.04", "runtime"), "p.yaml")


def test_a_listed_tag_proves_its_siblings_and_no_cudnn_tag():
    suffixes = t.snapshot.images["ubuntu22.04"]
    # a complete release/OS pair with no devel tag does not exist in NVIDIA's lists, so build one
    data = dict(t.snapshot.data)
    data["images"] = {
        "nvidia/cuda": [
            {"tag": "12.4.1-runtime-ubuntu22.04", "sources": ["x"]},
        ]
    }
    data["image_lists"] = {
        "nvidia/cuda": [
            {
                "cuda": "12.4.1",
                "os": "ubuntu22.04",
                "sources": ["x"],
                "complete": ["base", "runtime", "devel", "cudnn-runtime", "cudnn-devel"],
            }
        ]
    }
    from envparity.core.knowledge import Knowledge

    small = Tables(Knowledge(data, t.snapshot.path, "env"))
    assert "runtime" in suffixes["12.4.1"]
    assert small.cuda_base_image("12.4.1", None, "ubuntu22.04", "runtime")
    # sibling flavours of a listed tag exist (NVIDIA publishes them together) ...
    assert small.cuda_base_image("12.4.1", None, "ubuntu22.04", "devel")
    # ... but never the cuDNN ones, which are separate images
    assert small.cuda_base_image("12.4.1", "9", "ubuntu22.04", "runtime") is None
    with pytest.raises(SpecError, match=r"no cuDNN 9 devel tag for CUDA 12\.4\.1"):
        parse_spec(spec_text("12.4.1", "ubuntu22.04", "devel", "9"), "p.yaml", tables=small)


def test_a_missing_cudnn_tag_where_the_list_is_incomplete_is_a_warning_naming_refresh():
    spec = parse_spec(spec_text("13.1.0", "ubuntu24.04", "runtime", "9"), "p.yaml")
    (warning,) = [w for w in spec.warnings if "nvidia/cuda" in w.message]
    assert "13.1.0" in warning.message and "not listed" in warning.message
    assert "envparity knowledge refresh" in warning.hint
    # What validate only warns about renders: NVIDIA's name, with the marker the nearest
    # listed release of that cuDNN major uses (13.x: plain `cudnn`).
    assert choose_base(spec).ref == "nvidia/cuda:13.1.0-cudnn-runtime-ubuntu24.04"


def test_a_tag_known_absent_does_not_render():
    assert t.tag_known_absent("12.0.0", "ubuntu24.04", "cudnn-runtime")
    assert t.unlisted_cuda_image("12.0.0", "8", "ubuntu24.04", "runtime") is None
    assert t.unlisted_cuda_image("12.3.2", "9", "ubuntu22.04", "runtime") is None  # listed
