"""Issue 10 item 1: GPU environments whose CUDA comes from a pinned wheel's build."""

from __future__ import annotations

from pathlib import Path

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.drift.engine import driver_floor
from envparity.core.render.dockerfile import choose_base
from envparity.core.resolve import resolve, resolved_json
from envparity.core.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EMBED = (ROOT / "envspecs" / "embed.yaml").read_text(encoding="utf-8")


def test_the_bundled_example_validates_on_a_slim_python_base():
    spec = load_spec(ROOT / "envspecs" / "embed.yaml")
    assert spec.software.cuda is None and spec.software.os == "debian12"
    assert choose_base(spec).ref == "python:3.12.7-slim-bookworm"
    production = resolve(spec, "production")
    assert (production.cuda_runtime, production.cuda_from) == (
        "12.6",
        "torch 2.7.1 (PyPI default build cu126)",
    )
    assert resolved_json(production)["cuda"] == {"runtime": "12.6", "from": production.cuda_from}
    # the wheel's CUDA 12.6 runtime runs under minor version compatibility: CUDA 12.x's floor
    assert driver_floor(production) == "525.60.13"


def test_the_wheels_cuda_decides_the_gpu_architectures():
    """torch 2.3.1 from PyPI is cu121: no B200 (sm_100 needs CUDA 12.8)."""
    text = EMBED.replace("torch==2.7.1", "torch==2.3.1").replace("[L4, A10G]", "[L4, B200]")
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "embed.yaml")
    (error,) = [d for d in caught.value.diagnostics if d.message.startswith("B200")]
    assert error.message == (
        "B200 (sm_100) needs CUDA >= 12.8; torch 2.3.1 (PyPI default build cu121) brings CUDA 12.1"
    )


def test_the_wheels_cuda_decides_the_driver_floor():
    """Below CUDA 12.x's minor-compatibility floor the wheel cannot run: an error."""
    text = EMBED.replace('python: "3.12.7"', 'python: "3.12.7"\ndriver: "520.61.05"')
    with pytest.raises(SpecError, match=r"torch 2\.7\.1 .* needs NVIDIA driver 525\.60\.13"):
        parse_spec(text, "embed.yaml")


def test_a_driver_older_than_the_wheels_cuda_is_minor_version_compatibility_a_warning():
    """torch cu126 on a 550 driver (CUDA 12.4) runs, without PTX JIT of newer code."""
    text = EMBED.replace('python: "3.12.7"', 'python: "3.12.7"\ndriver: "550.54.15"')
    (warning,) = [w for w in parse_spec(text, "embed.yaml").warnings if "torch" in w.message]
    assert "minor version compatibility" in warning.message and "PTX" in warning.message
    assert warning.hint == 'set driver: "560.28.03" or newer to run it without these limits'


def test_torch_2_0_1_on_cuda_11_6_2_is_not_refused():
    """PyPI's torch 2.0.1 is cu117: its runtime runs on the 11.6 image's driver (CUDA 11.x
    minor version compatibility), not "needs 515.43.04 (CUDA 11.7)" as before issue 21."""
    text = (
        'envparity: 1\nname: p\nversion: 1.0.0\npython: "3.10.14"\ncuda: "11.6.2"\n'
        "os: ubuntu20.04\npython_packages: [torch==2.0.1]\nrun: {command: [python]}\n"
        "stages: {local: {}}\n"
    )
    spec = parse_spec(text, "p.yaml")
    assert spec.completed.driver_floor == "510.39.01"  # NVIDIA_REQUIRE_CUDA cuda>=11.6
    assert [w for w in spec.warnings if "minor version compatibility" in w.message]


def test_an_index_build_brings_its_cuda_too():
    text = EMBED.replace("torch==2.7.1", "torch==2.7.1+cu128")
    runtime = parse_spec(text, "embed.yaml").completed.cuda
    assert (runtime.version, runtime.build) == ("12.8", "cu128")


def test_gpus_without_cuda_or_a_cuda_wheel_is_still_refused():
    text = EMBED.replace("torch==2.7.1", "torch==2.7.1+cpu")
    with pytest.raises(SpecError, match="gpus lists A10G, L4 but the environment has no CUDA"):
        parse_spec(text, "embed.yaml")


def test_pods_must_fit_their_nodes():
    """Issue 10 item 4, with the EKS AMI's reservation (docs/compatibility.md)."""
    text = EMBED.replace('cpu: "3"\n  memory: 12Gi', 'cpu: "4"\n  memory: 16Gi')
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "embed.yaml")
    messages = sorted({d.message for d in caught.value.diagnostics})
    assert messages == [
        "run asks 4 CPU / 16Gi per replica; g5.xlarge allocates at most 3.92 CPU / 15Gi to pods",
        "run asks 4 CPU / 16Gi per replica; g6.xlarge allocates at most 3.92 CPU / 15Gi to pods",
    ]
    (hint,) = {d.hint for d in caught.value.diagnostics if "g5" in d.message}
    assert hint == 'use cpu: "3.92" and memory: "15Gi" or less, or instance_type: g5.2xlarge'


def test_build_verify_checks_the_cuda_runtime_the_wheel_brought():
    from envparity.core.image_check import Difference, ImageContents, compare_cuda

    env = resolve(load_spec(ROOT / "envspecs" / "embed.yaml"), "production")

    def image(**distributions: str) -> ImageContents:
        return ImageContents("3.12.7", "/opt/venv", dict(distributions))

    assert compare_cuda(env, image(**{"nvidia-cuda-runtime-cu12": "12.6.77"})) == []
    assert compare_cuda(env, image(**{"nvidia-cuda-runtime-cu12": "12.8.90"})) == [
        Difference("cuda runtime (torch 2.7.1 (PyPI default build cu126))", "12.6", "12.8.90")
    ]
    assert compare_cuda(env, image()) == [
        Difference("cuda runtime (torch 2.7.1 (PyPI default build cu126))", "12.6", None)
    ]
    serve = resolve(load_spec(ROOT / "envspecs" / "serve.yaml"), "production")
    assert compare_cuda(serve, image()) == []  # CUDA from the base image: not a wheel's
