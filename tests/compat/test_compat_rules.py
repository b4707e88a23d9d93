"""One valid and at least one invalid spec per compatibility rule, through the real loader.

Each invalid case asserts the message, its severity and the line of the file it points
at; each valid case asserts that the loader reports no compatibility problem at all.
"""

from __future__ import annotations

import pytest

from tests.compat.conftest import CPU_SPEC, GPU_SPEC, edit, edits

G, C = GPU_SPEC, CPU_SPEC
TORCH = "  - torch==2.4.1+cu124\n"
STAGES_GPU_ONLY_LOCAL = (
    "  testing:\n    instance_type: p4de.24xlarge\n"
    "  production:\n    gpus: 8\n    instance_type: p5.48xlarge\n",
    "",
)


def gpus(*names: str) -> tuple[str, str]:
    return ("  - H100-80GB\n  - A100-80GB\n", "".join(f"  - {n}\n" for n in names))


def cuda(version: str, driver: str | None = None) -> list[tuple[str, str]]:
    pairs = [('cuda: "12.4.1"', f'cuda: "{version}"')]
    pairs.append(('driver: "550.54.15"\n', f'driver: "{driver}"\n' if driver else ""))
    return pairs


BASE_IMAGE = ("os: ubuntu22.04\n", "os: ubuntu22.04\nbase_image: ghcr.io/acme/cuda:custom\n")

# (id, spec text, message part, regex of the line it must point at, severity)
INVALID = [
    # CUDA -> driver floor
    (
        "driver below cuda floor",
        edit(G, 'driver: "550.54.15"', 'driver: "525.60.13"'),
        "driver 525.60.13 is below the minimum 550.54.14 that CUDA 12.4.1 needs (its nvidia/cuda "
        "image requires a driver for CUDA 12.4: NVIDIA_REQUIRE_CUDA cuda>=12.4)",
        r"^driver:",
        "error",
    ),
    (
        "driver without cuda",
        edit(C, "os: debian12\n", 'os: debian12\ndriver: "550.54.15"\n'),
        "driver is set but cuda is not",
        r"^driver:",
        "warning",
    ),
    # unknown CUDA release: no interpolation between 12.4.1 and 12.5.0
    (
        "cuda patch not in table",
        edit(G, 'cuda: "12.4.1"', 'cuda: "12.4.2"'),
        "CUDA 12.4.2 is not known to envparity",
        r"^cuda:",
        "error",
    ),
    (
        "cuda 12.7 does not exist",
        edit(G, 'cuda: "12.4.1"', 'cuda: "12.7.0"'),
        "CUDA 12.7.0 is not known to envparity",
        r"^cuda:",
        "error",
    ),
    # GPU architecture vs CUDA: too new for it, and dropped by it
    (
        "H100 needs 11.8",
        edits(
            G,
            *cuda("11.7.1", "515.48.07"),
            ('cudnn: "9"', 'cudnn: "8"'),
            ("torch==2.4.1+cu124", "torch==2.0.1+cu117"),
        ),
        "H100-80GB (sm_90) needs CUDA >= 11.8; cuda is 11.7.1",
        r"^  - H100-80GB",
        "error",
    ),
    (
        "V100 dropped in 13.0",
        edits(
            G, *cuda("13.0.2"), gpus("V100-32GB"), BASE_IMAGE, STAGES_GPU_ONLY_LOCAL, (TORCH, "")
        ),
        "V100-32GB (sm_70) is not supported by CUDA 13.0 and later; cuda is 13.0.2",
        r"^  - V100-32GB",
        "error",
    ),
    (
        "B200 needs 12.8",
        edits(G, gpus("B200"), STAGES_GPU_ONLY_LOCAL, (TORCH, "")),
        "B200 (sm_100) needs CUDA >= 12.8; cuda is 12.4.1",
        r"^  - B200",
        "error",
    ),
    # gpus without cuda; unknown GPU (points at its own list item)
    (
        "gpus without cuda",
        edit(C, "os: debian12\n", "os: debian12\ngpus: [L4]\n"),
        "gpus lists L4 but the environment has no CUDA",
        r"^gpus:",
        "error",
    ),
    (
        "unknown GPU",
        edit(G, "  - A100-80GB\n", "  - A100-80GB\n  - X200\n"),
        "GPU 'X200' is not known to envparity",
        r"^  - X200",
        "error",
    ),
    # official base image: cuDNN major, and CUDA/OS pairs NVIDIA does not publish
    (
        "cudnn 8 with 12.4.1",
        edit(G, 'cudnn: "9"', 'cudnn: "8"'),
        "nvidia/cuda has no cuDNN 8 runtime tag for CUDA 12.4.1 on ubuntu22.04",
        r"^cudnn:",
        "error",
    ),
    (
        "no 12.4.1 image on ubuntu24.04",
        edit(G, "os: ubuntu22.04", "os: ubuntu24.04"),
        "nvidia/cuda has no tag 12.4.1-runtime-ubuntu24.04; nearest: 12.5.1-runtime-ubuntu24.04",
        r"^os:",
        "error",
    ),
    (
        "GPU env on debian",
        edit(G, "os: ubuntu22.04", "os: debian12"),
        "nvidia/cuda has no tag 12.4.1-runtime-debian12",
        r"^os:",
        "error",
    ),
    (
        "12.7.0 does not exist",
        edits(G, *cuda("12.7.0"), ("torch==2.4.1+cu124", "torch==2.7.1+cu128")),
        "CUDA 12.7.0 is not known to envparity",
        r"^cuda:",
        "error",
    ),
    # stages: instance types
    (
        "instance GPU not in gpus",
        edit(G, "instance_type: p4de.24xlarge", "instance_type: g5.xlarge"),
        "g5.xlarge has A10G GPUs, which are not in gpus (A100-80GB, H100-80GB)",
        r"^    instance_type: g5.xlarge",
        "error",
    ),
    (
        "gpus per replica above instance",
        edit(G, "instance_type: p5.48xlarge", "instance_type: p5.4xlarge"),
        "stage production needs 8 GPUs per replica but p5.4xlarge has 1",
        r"instance_type: p5.4xlarge",
        "error",
    ),
    (
        "CPU instance for GPU stage",
        edit(G, "instance_type: p4de.24xlarge", "instance_type: m6i.large"),
        "stage testing needs 1 GPU(s) per replica but m6i.large has no GPU",
        r"instance_type: m6i.large",
        "error",
    ),
    (
        "GPU instance for CPU env",
        edit(C, "instance_type: m6i.large", "instance_type: g5.xlarge"),
        "g5.xlarge is a GPU instance (1 x A10G) but the environment is CPU-only",
        r"instance_type: g5.xlarge",
        "warning",
    ),
    (
        "unknown instance size",
        edit(G, "instance_type: p4de.24xlarge", "instance_type: g5.96xlarge"),
        "instance type 'g5.96xlarge' is not known to envparity",
        r"instance_type: g5.96xlarge",
        "error",
    ),
    (
        "stage gpus in CPU env",
        edit(C, "    instance_type: m6i.large\n", "    instance_type: m6i.large\n    gpus: 1\n"),
        "stage production asks for 1 GPUs per replica but the environment is CPU-only",
        r"^    gpus: 1",
        "error",
    ),
    (
        "run.gpus in CPU env",
        edit(C, "  command: [gunicorn, app]\n", "  command: [gunicorn, app]\n  gpus: 2\n"),
        "run.gpus is 2 but the environment is CPU-only",
        r"^  gpus: 2",
        "error",
    ),
    # torch: driver floor of its CUDA build (label, index URL), build CUDA vs cuda, arch lists
    (
        "torch build needs newer driver",
        edits(G, *cuda("12.2.2"), ('cudnn: "9"', 'cudnn: "8"')),
        "torch 2.4.1+cu124 bundles CUDA 12.4, newer than driver 535.54.03 supports: it runs "
        "under CUDA minor version compatibility",
        r"^  - torch==2.4.1\+cu124",
        "warning",
    ),
    (
        "torch index build needs newer driver",
        edits(
            G,
            *cuda("12.2.2", "535.104.05"),
            ('cudnn: "9"', 'cudnn: "8"'),
            ("torch==2.4.1+cu124", "torch==2.4.1"),
            ("run:\n", "package_indexes:\n  - https://download.pytorch.org/whl/cu124/\nrun:\n"),
        ),
        "torch 2.4.1 (from https://download.pytorch.org/whl/cu124/) bundles CUDA 12.4, newer "
        "than driver 535.104.05 supports",
        r"^  - torch==2.4.1$",
        "warning",
    ),
    (
        "torch build CUDA differs",
        edit(G, "torch==2.4.1+cu124", "torch==2.4.1+cu121"),
        "torch 2.4.1+cu121 bundles CUDA 12.1 while cuda is 12.4.1",
        r"^  - torch==2.4.1\+cu121",
        "warning",
    ),
    # torch 2.8 arch lists (build_cuda.sh): cu126 stops at sm_90, cu128/cu129 keep sm_70.
    (
        "torch cu126 not built for Blackwell",
        edits(
            G,
            *cuda("12.6.3"),
            gpus("B200"),
            BASE_IMAGE,
            STAGES_GPU_ONLY_LOCAL,
            ("torch==2.4.1+cu124", "torch==2.8.0+cu126"),
        ),
        "torch 2.8.0+cu126 is not built for B200 (sm_100); it carries sm_50, sm_60, sm_70",
        r"torch==2.8.0",
        "error",
    ),
    (
        "torch too old for Blackwell",
        edits(G, *cuda("12.8.1"), gpus("B200"), BASE_IMAGE, STAGES_GPU_ONLY_LOCAL),
        "torch 2.4.1+cu124 is built with CUDA 12.4, which cannot target B200 (sm_100)",
        r"torch==2.4.1",
        "error",
    ),
    (
        "cpu torch in GPU env",
        edit(G, "torch==2.4.1+cu124", "torch==2.4.1+cpu"),
        "torch 2.4.1+cpu is a CPU-only build in a GPU environment",
        r"torch==2.4.1\+cpu",
        "warning",
    ),
    (
        "torch build not published",
        edit(G, "torch==2.4.1+cu124", "torch==2.4.1+cu126"),
        "torch 2.4.1 has no cu126 build on download.pytorch.org",
        r"torch==2.4.1\+cu126",
        "error",
    ),
    (
        "torch from PyPI bundles another CUDA",
        edit(G, "torch==2.4.1+cu124", "torch==2.4.1"),
        "torch 2.4.1 (PyPI default build cu121) bundles CUDA 12.1 while cuda is 12.4.1",
        r"^  - torch==2.4.1$",
        "warning",
    ),
    (
        "torch newer than the snapshot",
        edit(G, "torch==2.4.1+cu124", "torch==2.15.0+cu124"),
        "torch 2.15.0 is newer than the knowledge snapshot (newest known: 2.14.0)",
        r"torch==2.15.0",
        "warning",
    ),
    (
        "torch release that does not exist",
        edit(G, "torch==2.4.1+cu124", "torch==2.4.0.post9+cu124"),
        "torch 2.4.0.post9 is not a release on the package indexes",
        r"torch==2.4.0.post9",
        "error",
    ),
    (
        "torch without a wheel for the Python",
        edits(G, ("torch==2.4.1+cu124", "torch==2.0.1+cu118"), ('"3.11.9"', '"3.12.7"')),
        "torch 2.0.1 has no wheel for Python 3.12 (cp312); it has cp38 to cp311",
        r"torch==2.0.1",
        "error",
    ),
    (
        "torch 2.10 from the cu118 index",
        edits(
            G,
            ("torch==2.4.1+cu124", "torch==2.10.0"),
            (
                "os: ubuntu22.04\n",
                "os: ubuntu22.04\npackage_indexes: [https://download.pytorch.org/whl/cu118]\n",
            ),
        ),
        "torch 2.10.0 has no cu118 build on download.pytorch.org "
        "(its builds: cpu, cu126, cu128, cu129, cu130)",
        r"torch==2.10.0",
        "error",
    ),
    # jax[cudaNN]
    (
        "jax cuda13 with cuda 12",
        edit(G, TORCH, '  - "jax[cuda13]==0.7.2"\n'),
        "jax[cuda13] is built for CUDA 13 but cuda is 12.4.1",
        r"jax\[cuda13\]",
        "error",
    ),
    (
        "jax cuda12 in CPU env",
        edit(C, "  - flask==3.0.3\n", "  - flask==3.0.3\n  - jax[cuda12]==0.4.30\n"),
        "jax[cuda12] needs CUDA 12 but the environment is CPU-only",
        r"jax\[cuda12\]",
        "error",
    ),
    (
        "jax extra not known",
        edit(G, TORCH, "  - jax[cuda11]==0.4.30\n"),
        "jax[cuda11] is not known to envparity",
        r"jax\[cuda11\]",
        "warning",
    ),
]

VALID = [
    ("GPU base", G),
    ("CPU base", C),
    (
        "driver exactly the floor",
        edits(G, *cuda("12.2.2", "535.104.05"), ('cudnn: "9"', 'cudnn: "8"'), (TORCH, "")),
    ),
    ("no driver: cuda's floor", edit(G, 'driver: "550.54.15"\n', "")),
    (
        "H100 on 11.8.0",
        edits(
            G,
            *cuda("11.8.0", "520.61.05"),
            ('cudnn: "9"', 'cudnn: "8"'),
            ("torch==2.4.1+cu124", "torch==2.4.1+cu118"),
        ),
    ),
    (
        "V100 on 12.9.1",
        edits(G, *cuda("12.9.1"), gpus("V100-32GB"), STAGES_GPU_ONLY_LOCAL, (TORCH, "")),
    ),
    (
        "V100 with torch 2.8 cu128",
        edits(
            G,
            *cuda("12.8.1"),
            gpus("V100-16GB"),
            BASE_IMAGE,
            STAGES_GPU_ONLY_LOCAL,
            ("torch==2.4.1+cu124", "torch==2.8.0+cu128"),
        ),
    ),
    (
        "V100 with the torch 2.8 PyPI default build (cu128)",
        edits(
            G,
            *cuda("12.8.1"),
            gpus("V100-16GB"),
            BASE_IMAGE,
            STAGES_GPU_ONLY_LOCAL,
            ("torch==2.4.1+cu124", "torch==2.8.0"),
        ),
    ),
    (
        "B300 on 12.9.1 with torch 2.8 cu129",
        edits(
            G,
            *cuda("12.9.1"),
            gpus("B300"),
            STAGES_GPU_ONLY_LOCAL,
            ("torch==2.4.1+cu124", "torch==2.8.0+cu129"),
        ),
    ),
    ("12.3.1 (Update 1) with a base image", edits(G, *cuda("12.3.1"), BASE_IMAGE, (TORCH, ""))),
    ("cudnn 8 with an explicit base image", edits(G, ('cudnn: "9"', 'cudnn: "8"'), BASE_IMAGE)),
    ("no cudnn", edit(G, 'cudnn: "9"\n', "")),
    ("os left to the default", edit(G, "os: ubuntu22.04\n", "")),
    (
        "12.5.1 on ubuntu24.04 without cudnn",
        edits(
            G,
            *cuda("12.5.1"),
            ('cudnn: "9"\n', ""),
            ("os: ubuntu22.04", "os: ubuntu24.04"),
            (TORCH, ""),
        ),
    ),
    (
        "GPU instance of a listed GPU",
        edit(G, "instance_type: p4de.24xlarge", "instance_type: p5.4xlarge"),
    ),
    (
        "CPU instance for a CPU-only stage",
        edit(G, "  local:\n    gpus: 0\n", "  local:\n    gpus: 0\n    instance_type: m6i.large\n"),
    ),
    (
        "torch index build",
        edits(
            G,
            ("torch==2.4.1+cu124", "torch==2.4.1"),
            ("run:\n", "package_indexes:\n  - https://download.pytorch.org/whl/cu124\nrun:\n"),
        ),
    ),
    (
        "torch PyPI default build",
        edits(G, *cuda("12.8.1"), BASE_IMAGE, ("torch==2.4.1+cu124", "torch==2.8.0")),
    ),
    (
        "torch 2.7 cu128 on Blackwell",
        edits(
            G,
            *cuda("12.8.1"),
            gpus("B200", "RTX-PRO-6000"),
            BASE_IMAGE,
            STAGES_GPU_ONLY_LOCAL,
            ("torch==2.4.1+cu124", "torch==2.7.1+cu128"),
        ),
    ),
    (
        "cpu torch in CPU env",
        edit(C, "  - flask==3.0.3\n", "  - flask==3.0.3\n  - torch==2.4.1+cpu\n"),
    ),
    (
        "plain torch in CPU env",
        edit(C, "  - flask==3.0.3\n", "  - flask==3.0.3\n  - torch==2.4.1\n"),
    ),
    ("jax cuda12 with cuda 12", edit(G, TORCH, "  - jax[cuda12]==0.4.30\n")),
    ("plain jax in CPU env", edit(C, "  - flask==3.0.3\n", "  - flask==3.0.3\n  - jax==0.4.30\n")),
]


@pytest.mark.parametrize(
    ("text", "message", "line", "severity"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid(load, text, message, line, severity):
    outcome = load(text)
    found = outcome.assert_at(message, line, severity)
    assert found.hint, f"{found.format()} has no hint"
    assert outcome.loaded == (
        severity == "warning" and not [d for d in outcome.diagnostics if d.severity == "error"]
    )


@pytest.mark.parametrize("text", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid(load, text):
    outcome = load(text)
    assert outcome.loaded and outcome.diagnostics == [], "\n".join(
        d.format() for d in outcome.diagnostics
    )


def test_hints_say_what_is_right(load):
    """The hints of the central rules name the value that would be right."""
    assert (
        load(edit(G, 'driver: "550.54.15"', 'driver: "525.60.13"')).find("below the minimum").hint
        == 'use driver: "550.54.14" or newer'
    )
    old = load(
        edits(
            G,
            *cuda("11.7.1", "515.48.07"),
            ('cudnn: "9"', 'cudnn: "8"'),
            ("torch==2.4.1+cu124", "torch==2.0.1+cu117"),
        )
    )
    assert old.find("H100-80GB (sm_90)").hint == 'use cuda 11.8 or newer (e.g. cuda: "11.8.0")'
    unknown = load(edit(G, 'cuda: "12.4.1"', 'cuda: "12.4.2"')).find("not known")
    assert unknown.hint.startswith('use a release that exists: cuda: "12.4.1"')
    blackwell = load(edits(G, *cuda("12.8.1"), gpus("B200"), BASE_IMAGE, STAGES_GPU_ONLY_LOCAL))
    assert "torch 2.11 with cu128" in blackwell.find("cannot target B200").hint  # newest <= 12.8
    image = load(edit(G, "os: ubuntu22.04", "os: ubuntu24.04")).find("nvidia/cuda has no tag")
    assert image.hint == "use os: ubuntu22.04 (it has nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04)"
    size = load(edit(G, "instance_type: p5.48xlarge", "instance_type: p5.4xlarge")).find(
        "p5.4xlarge has 1"
    )
    assert size.hint == "use gpus: 1 or fewer, or p5.48xlarge"


def test_default_os_follows_the_image_table(load):
    """A GPU spec without os gets the newest Ubuntu with a tag for its CUDA; CPU gets debian12."""
    from envparity.core.spec import parse_spec

    assert parse_spec(edit(G, "os: ubuntu22.04\n", ""), "g.yaml").software.os == "ubuntu22.04"
    newer = edits(G, *cuda("12.6.3"), ("os: ubuntu22.04\n", ""), (TORCH, ""))
    assert parse_spec(newer, "g.yaml").software.os == "ubuntu24.04"
    assert parse_spec(edit(C, "os: debian12\n", ""), "c.yaml").software.os == "debian12"


def test_bundled_examples_have_no_compat_problems(root):
    from envparity.core.spec import load_spec

    for path in sorted((root / "envspecs").glob("*.yaml")):
        assert load_spec(path).warnings == (), path
