"""Each compatibility refusal, exact: where (line:col), severity, message and hint."""

from __future__ import annotations

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.spec import parse_spec
from tests.spec.test_model_build import FULL, MINIMAL

CASES = {
    "unknown size": (
        FULL.replace("instance_type: p5.48xlarge", "instance_type: p5.2xlarge"),
        (24, 20, "error", "instance type 'p5.2xlarge' is not known to envparity"),
        "known p5 sizes: p5.4xlarge, p5.48xlarge",
    ),
    "gpu not listed": (
        FULL.replace("gpus: [H100-80GB, A100-80GB]", "gpus: [A100-80GB]"),
        (24, 20, "error", "p5.48xlarge has H100-80GB GPUs, which are not in gpus (A100-80GB)"),
        "add H100-80GB to gpus, or use an instance type with one of them",
    ),
    "too many gpus": (
        FULL.replace("    gpus: 2\n", "    gpus: 16\n"),
        (24, 20, "error", "stage production needs 16 GPUs per replica but p5.48xlarge has 8"),
        "use gpus: 8 or fewer",
    ),
    "gpu instance, cpu env": (
        MINIMAL.replace("  local:\n", "  production: {instance_type: p5.48xlarge}\n"),
        (
            8,
            31,
            "warning",
            "p5.48xlarge is a GPU instance (8 x H100-80GB) but the environment is CPU-only "
            "(no cuda)",
        ),
        "use a CPU instance type such as m6i.large, or set cuda and gpus",
    ),
    "gpu stage, cpu env": (
        MINIMAL.replace("  local:\n", "  production: {gpus: 2}\n"),
        (
            8,
            22,
            "error",
            "stage production asks for 2 GPUs per replica but the environment is CPU-only "
            "(no cuda)",
        ),
        "set gpus: 0 for this stage, or set cuda and gpus",
    ),
    "run gpus, cpu env": (
        MINIMAL.replace("python_packages: []", "python_packages: []\nrun: {command: [x], gpus: 1}"),
        (7, 27, "error", "run.gpus is 1 but the environment is CPU-only (no cuda)"),
        "set run.gpus: 0, or set cuda and gpus for a GPU environment",
    ),
    "cpu instance, gpu stage": (
        FULL.replace("instance_type: p5.48xlarge", "instance_type: m6i.4xlarge"),
        (24, 20, "error", "stage production needs 2 GPU(s) per replica but m6i.4xlarge has no GPU"),
        "use a GPU instance type such as p4de.24xlarge, or set gpus: 0 for this stage",
    ),
    "torch for another cuda": (
        FULL.replace("torch==2.4.1+cu124", "torch==2.4.1+cu118"),
        (
            12,
            34,
            "warning",
            "torch 2.4.1+cu118 bundles CUDA 11.8 while cuda is 12.4.1: the image carries two "
            "CUDA runtimes",
        ),
        "use torch==2.4.1+cu124, or a cuda 11.8 release",
    ),
    "os without images": (
        FULL.replace("os: ubuntu20.04", "os: ubuntu24.04"),
        (
            10,
            5,
            "error",
            "nvidia/cuda has no tag 12.4.1-runtime-ubuntu24.04; nearest: "
            "12.5.1-runtime-ubuntu24.04, 12.6.1-runtime-ubuntu24.04, 12.6.0-runtime-ubuntu24.04",
        ),
        "use os: ubuntu22.04 (it has nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04)",
    ),
}


def found(text: str) -> list[tuple]:
    try:
        diagnostics = parse_spec(text, "c.yaml").warnings
    except SpecError as exc:
        diagnostics = exc.diagnostics
    return [(d.line, d.column, d.severity, d.message, d.hint) for d in diagnostics]


@pytest.mark.parametrize("case", sorted(CASES))
def test_refusal_is_exact(case):
    text, (line, column, severity, message), hint = CASES[case]
    assert found(text) == [(line, column, severity, message, hint)]


def test_an_unknown_family_lists_the_known_ones():
    [(line, column, severity, message, hint)] = found(
        FULL.replace("instance_type: p5.48xlarge", "instance_type: zz9.large")
    )
    assert (line, column, severity, message) == (
        24,
        20,
        "error",
        "instance type 'zz9.large' is not known to envparity",
    )
    assert hint.startswith("use a known type of the families c5, ") and ", p5, " in hint
    assert hint.endswith(" (see docs/compatibility.md)")


def test_the_default_os_is_blamed_on_cuda():
    """With no `os:` written, the finding points at cuda (11.0.2 has a Table 3 row, no tags).

    No source lists 11.0.2's tags in full, so their absence is a warning (issue 21)."""
    text = FULL.replace("os: ubuntu20.04\n", "").replace('cuda: "12.4.1"', 'cuda: "11.0.2"')
    line, column, severity, message, hint = found(text)[0]
    assert (line, column, severity) == (6, 7, "warning")
    assert message.startswith(
        "the nvidia/cuda:11.0.2-runtime-ubuntu24.04 is not listed in the knowledge snapshot"
    )
    assert hint.startswith("run `envparity knowledge refresh`")
