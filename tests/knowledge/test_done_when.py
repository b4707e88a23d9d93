"""Issue 9's done-when checks, over every entry of the packaged snapshot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envparity.core.knowledge import version_key
from envparity.core.knowledge.tables import Tables
from envparity.core.render.dockerfile import choose_base
from envparity.core.spec import load_spec, parse_spec

t = Tables.for_folder()  # the snapshot a spec in this repository is checked against

HERE = Path(__file__).resolve().parent


def gpu_spec(cuda: str, os: str, python: str, packages: list[str], **extra: str) -> str:
    lines = [
        "envparity: 1",
        "name: probe",
        "version: 1.0.0",
        f'python: "{python}"',
        f'cuda: "{cuda}"',
        f"os: {os}",
        *(f"{key}: {value}" for key, value in extra.items()),
        f"python_packages: [{', '.join(packages) or 'numpy==1.26.4'}]",
        "run: {command: [python, -m, app]}",
        "stages: {local: {}}",
    ]
    return "\n".join(lines) + "\n"


def _cudnn_runtime_tags() -> list[tuple[str, str, str, str]]:
    """(tag, cuda, os, cuDNN major) of the cuDNN runtime tags for CUDA >= 11.8 on 22.04/24.04."""
    found = []
    for tag in sorted(t.image_tags()):
        m = re.fullmatch(r"(\d+\.\d+\.\d+)-(cudnn\d*)-runtime-(ubuntu2[24]\.04)", tag)
        if m and version_key(m[1]) >= (11, 8, 0):
            found.append((tag, m[1], m[3], t.cudnn_major(m[2])))
    return found


def test_the_snapshot_has_the_cudnn_tags_of_the_registry():
    pairs = {
        (m[1], m[2])
        for tag in t.image_tags()
        if (m := re.fullmatch(r"(\d+\.\d+\.\d+)-cudnn\d*-\w+-(ubuntu2[24]\.04)", tag))
        and version_key(m[1]) >= (11, 8, 0)
    }
    assert len(pairs) >= 41  # issue 9 counted 41 CUDA/OS pairs with cuDNN tags
    assert ("12.8.1", "ubuntu24.04") in pairs and ("12.6.1", "ubuntu22.04") in pairs


@pytest.mark.parametrize(("tag", "cuda", "os", "cudnn"), _cudnn_runtime_tags())
def test_every_cudnn_runtime_tag_renders_as_that_base(tag, cuda, os, cudnn):
    spec = parse_spec(gpu_spec(cuda, os, "3.11.9", [], cudnn=f'"{cudnn}"'), "probe.yaml")
    assert choose_base(spec).ref == f"nvidia/cuda:{tag}"
    assert choose_base(spec).ref.split(":", 1)[1] in t.image_tags()


def _torch_builds() -> list[tuple[str, str, str]]:
    """(version, build, python) of every torch >= 2.0 CUDA/CPU build of the snapshot."""
    found = []
    for version in t.releases("torch"):
        for build, row in t.wheels("torch", version).items():
            pythons = [p for p in (row.pythons or ("cp311",)) if re.fullmatch(r"cp3\d+", p)]
            found.append((version, build, f"3.{pythons[-1][3:]}.1"))
    return found


def _cuda_for(build: str) -> tuple[str, str] | None:
    """A CUDA release of the build's minor with a runtime image, and its OS."""
    minor = t.build_cuda(build)
    for cuda in reversed(t.cuda_releases()):
        if t.cuda_minor(cuda) == minor and t.min_driver_for_cuda(cuda):
            oses = t.image_oses_for_cuda(cuda)
            if oses:
                return cuda, oses[0]
    return None


@pytest.mark.parametrize(("version", "build", "python"), _torch_builds())
def test_every_torch_build_validates_with_its_index_and_cuda(version, build, python):
    index = f"[https://download.pytorch.org/whl/{build}]"
    if build == "cpu":
        text = gpu_spec("x", "debian12", python, [f"torch=={version}"], package_indexes=index)
        text = text.replace('cuda: "x"\n', "")
    else:
        cuda, os = _cuda_for(build)
        text = gpu_spec(cuda, os, python, [f"torch=={version}"], package_indexes=index)
    spec = parse_spec(text, "probe.yaml")  # raises SpecError on any error
    assert not [w for w in spec.warnings if "torch" in w.message and "two CUDA" not in w.message]


def test_a_torch_pinned_to_an_index_without_that_build_is_rejected_naming_torch():
    from envparity.core.diagnostics import SpecError

    for version in t.releases("torch"):
        builds = t.wheels("torch", version)
        if not all(w.complete for w in builds.values()):
            continue
        missing = next(b for b in ("cu117", "cu118", "cu121", "cu124", "cu126") if b not in builds)
        cuda, os = _cuda_for(missing)
        text = gpu_spec(
            cuda,
            os,
            "3.11.9",
            [f"torch=={version}"],
            package_indexes=f"[https://download.pytorch.org/whl/{missing}]",
        )
        with pytest.raises(SpecError, match=rf"torch {re.escape(version)} has no {missing} build"):
            parse_spec(text, "probe.yaml")


def test_cuda_1281_torch_271_cu128_python_3127_ubuntu2404_validates():
    spec = load_spec(HERE / "cuda1281.yaml")
    assert spec.software.cuda == "12.8.1" and not [w for w in spec.warnings if "torch" in w.message]
    assert choose_base(spec).ref == "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04"


def test_an_update_release_without_a_table3_row_takes_its_minors_floor():
    """12.3.2 is not in Table 3. Its nvidia/cuda image declares NVIDIA_REQUIRE_CUDA cuda>=12.3,
    so any driver for CUDA 12.3 starts it (545.23.06, 12.3.0's floor); on another base image
    it needs 12.3.1's 545.23.08 (never less than a listed update)."""
    from envparity.core.diagnostics import SpecError

    base = gpu_spec("12.3.2", "ubuntu22.04", "3.11.9", [], cudnn='"9"', driver='"545.23.06"')
    assert parse_spec(base, "p.yaml").completed.driver_floor == "545.23.06"
    low = base.replace('driver: "545.23.06"', 'driver: "545.23.05"')
    with pytest.raises(SpecError, match=r"minimum 545\.23\.06 .* NVIDIA_REQUIRE_CUDA cuda>=12\.3"):
        parse_spec(low, "p.yaml")
    custom = base.replace("os: ubuntu22.04", "os: ubuntu22.04\nbase_image: ghcr.io/acme/cuda:x")
    with pytest.raises(SpecError, match=r"minimum 545\.23\.08 .* \(the floor of 12\.3\.1"):
        parse_spec(custom, "p.yaml")


def test_a_cuda_newer_than_the_snapshot_is_a_warning_saying_how_to_refresh():
    spec = parse_spec(gpu_spec("14.0.0", "ubuntu24.04", "3.12.7", []), "p.yaml")
    (warning,) = [w for w in spec.warnings if "newer than the knowledge snapshot" in w.message]
    assert "envparity knowledge refresh" in warning.hint


@pytest.mark.parametrize(
    ("torch", "ok"),
    [
        ("2.7.1+cu128", False),
        ("2.8.0+cu128", True),
        ("2.10.0+cu128", True),
        ("2.11.0+cu128", False),
    ],
)
def test_sm70_on_cu128_follows_the_release(torch, ok):
    """FACTS: cu128 has no sm_70 in 2.7, keeps it in 2.8-2.10, drops it from 2.11."""
    from envparity.core.diagnostics import SpecError

    text = gpu_spec("12.8.1", "ubuntu24.04", "3.12.7", [f"torch=={torch}"], gpus="[V100-16GB]")
    if ok:
        parse_spec(text, "p.yaml")
    else:
        with pytest.raises(SpecError, match=r"is not built for V100-16GB \(sm_70\)"):
            parse_spec(text, "p.yaml")


def test_torchvision_older_than_the_snapshot_is_not_judged_and_newer_is_a_warning():
    base = gpu_spec("12.4.1", "ubuntu22.04", "3.11.9", ["torch==2.4.1+cu124"])
    old = parse_spec(base.replace("[torch", "[torchvision==0.19.1+cu124, torch"), "p.yaml")
    assert not [w for w in old.warnings if "torchvision" in w.message]
    new = parse_spec(base.replace("[torch", "[torchvision==0.99.0, torch"), "p.yaml")
    (warning,) = [w for w in new.warnings if "torchvision" in w.message]
    assert warning.message.startswith("torchvision 0.99.0 is newer than the knowledge snapshot")


def test_the_image_rule_judges_the_flavour_the_spec_asks_for():
    """13.0.1 is known by its cuDNN devel tags: a devel spec with cuDNN renders that tag."""
    text = gpu_spec("13.0.1", "ubuntu24.04", "3.12.7", [], cudnn='"9"', cuda_flavor="devel")
    assert choose_base(parse_spec(text, "p.yaml")).ref == (
        "nvidia/cuda:13.0.1-cudnn-devel-ubuntu24.04"
    )
