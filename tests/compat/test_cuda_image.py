"""Issue 21 item 7: a `base_image` that is an nvidia/cuda tag must agree with the spec's cuda,
cudnn, cuda_flavor and os, and be a tag that exists; any other image is not judged."""

from __future__ import annotations

import pytest

from envparity.core import cuda_image
from envparity.core.diagnostics import SpecError
from envparity.core.knowledge.tables import Tables
from envparity.core.spec import parse_spec

t = Tables.for_folder()

SPEC = """\
envparity: 1
name: probe
version: 1.0.0
python: "3.12.7"
cuda: "12.4.1"
cudnn: "9"
cuda_flavor: runtime
os: ubuntu22.04
base_image: nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
python_packages: [numpy==1.26.4]
run: {command: [python, -m, app]}
stages: {local: {}}
"""


def problems(text: str) -> list[tuple[str, str]]:
    try:
        found = parse_spec(text, "p.yaml").warnings
    except SpecError as exc:
        found = exc.diagnostics
    return [(d.severity, d.message) for d in found if d.path and d.path[0] == "base_image"]


def test_an_agreeing_tag_is_accepted():
    assert problems(SPEC) == []


@pytest.mark.parametrize(
    ("field", "old", "new", "message"),
    [
        (
            "cuda",
            'cuda: "12.4.1"',
            'cuda: "12.4.0"',
            "base_image has CUDA 12.4.1 but cuda is 12.4.0",
        ),
        ("cudnn", 'cudnn: "9"', 'cudnn: "8"', "base_image has cuDNN 9 but cudnn is 8"),
        (
            "flavour",
            "cuda_flavor: runtime",
            "cuda_flavor: devel",
            "base_image is a runtime image but cuda_flavor is devel",
        ),
        (
            "os",
            "os: ubuntu22.04",
            "os: ubuntu20.04",
            "base_image is built on ubuntu22.04 but os is ubuntu20.04",
        ),
    ],
)
def test_each_disagreement_is_an_error(field, old, new, message):
    assert ("error", message) in problems(SPEC.replace(old, new))


def test_a_tag_without_cudnn_when_the_spec_has_cudnn_is_an_error():
    text = SPEC.replace("12.4.1-cudnn-runtime", "12.4.1-runtime")
    assert ("error", "base_image has no cuDNN but cudnn is 9") in problems(text)


def test_a_cudnn_tag_the_spec_does_not_mention_is_a_warning():
    text = SPEC.replace('cudnn: "9"\n', "")
    assert problems(text) == [("warning", "base_image has cuDNN 9 but the spec does not say so")]


def test_a_non_nvidia_image_is_not_judged():
    for ref in (
        "ghcr.io/acme/cuda:12.4.1-cudnn-runtime-ubuntu20.04",
        "nvidia/cudagl:12.4.1-runtime-ubuntu22.04",
    ):
        assert cuda_image.parse(ref, t) is None
        assert problems(SPEC.replace("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", ref)) == []


def test_registry_prefixes_and_digests_are_the_same_tag():
    for ref in (
        "docker.io/nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04",
        "nvcr.io/nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04@sha256:" + "a" * 64,
    ):
        assert cuda_image.parse(ref, t) == cuda_image.CudaTag(
            "12.4.1", "9", "runtime", "ubuntu22.04"
        )
        assert problems(SPEC.replace("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", ref)) == []


def test_a_tag_known_not_to_exist_is_an_error_and_an_unlisted_one_a_warning():
    """The spec agrees with the tag, but NVIDIA never published it: it fails at `docker pull`."""
    absent = (
        SPEC.replace("12.4.1-cudnn-runtime-ubuntu22.04", "11.8.0-cudnn8-runtime-ubuntu24.04")
        .replace('cuda: "12.4.1"', 'cuda: "11.8.0"')
        .replace('cudnn: "9"', 'cudnn: "8"')
        .replace("os: ubuntu22.04", "os: ubuntu24.04")
    )
    (found,) = problems(absent)
    assert found[0] == "error"
    assert found[1].startswith("nvidia/cuda has no tag 11.8.0-cudnn8-runtime-ubuntu24.04")
    unlisted = (
        SPEC.replace("12.4.1-cudnn-runtime", "13.1.0-cudnn-runtime")
        .replace('cuda: "12.4.1"', 'cuda: "13.1.0"')
        .replace("os: ubuntu22.04", "os: ubuntu24.04")
        .replace("ubuntu22.04", "ubuntu24.04")
    )
    (found,) = problems(unlisted)
    assert found[0] == "warning" and "not listed in the knowledge snapshot" in found[1]
