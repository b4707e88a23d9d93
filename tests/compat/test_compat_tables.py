"""The compatibility tables: every row cited, the tables consistent, the lookups exact."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from envparity import compat_tables as t

SOURCE = Path(t.__file__).read_text(encoding="utf-8")
TABLES = (
    "CUDA_MIN_DRIVER",
    "CUDA_MINOR_COMPAT_DRIVER",
    "GPUS",
    "ARCH_SUPPORT",
    "INSTANCE_TYPES",
    "EKS_GPU_AMI_TYPES",
    "TORCH_CUDA_BUILDS",
    "TORCH_PYPI_DEFAULT_BUILD",
    "TORCH_BUILD_ARCHES",
    "JAX_CUDA_EXTRAS",
    "NVIDIA_CUDA_IMAGES",
    "CUDNN_MARKER_MAJOR",
)


def _table_rows() -> list[tuple[str, int, int]]:
    """(table, first line, last line) of every row of every table, nested image rows included."""
    rows = []
    for node in ast.parse(SOURCE).body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id in TABLES
        ):
            assert isinstance(node.value, ast.Dict), node.target.id
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(value, ast.Dict):  # NVIDIA_CUDA_IMAGES: os -> {cuda: marker}
                    rows += [
                        (node.target.id, k.lineno, v.end_lineno)
                        for k, v in zip(value.keys, value.values, strict=True)
                    ]
                else:
                    rows.append((node.target.id, key.lineno, value.end_lineno))
    return rows


def _comments() -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(SOURCE).readline)
    return {tok.start[0]: tok.string for tok in tokens if tok.type == tokenize.COMMENT}


def test_every_table_row_cites_a_known_source():
    comments, rows = _comments(), _table_rows()
    assert {name for name, _, _ in rows} == set(TABLES)
    for table, first, last in rows:
        cited = [
            comments[n] for n in range(first, last + 1) if n in comments and "src:" in comments[n]
        ]
        assert cited, f"{table} row at line {first} has no '# src:' comment"
        keys = re.split(r"[,\s]+", cited[0].split("src:", 1)[1].strip())
        assert keys and all(k in t.SOURCES for k in keys), (
            f"line {first}: unknown source in {cited[0]!r}"
        )


def test_every_source_has_a_title_and_url_and_is_used():
    used = {
        k
        for line in _comments().values()
        if "src:" in line
        for k in re.split(r"[,\s]+", line.split("src:", 1)[1].strip())
    }
    for key, (title, url) in t.SOURCES.items():
        assert title and url.startswith("https://"), key
        assert key in used, f"source {key} is cited by no row"


def test_cuda_releases_are_sorted_and_floors_never_fall():
    releases = list(t.CUDA_MIN_DRIVER)
    assert releases == sorted(releases, key=t.parse_version)
    floors = [t.parse_version(d) for d in t.CUDA_MIN_DRIVER.values()]
    assert all(v is not None and len(v) in (2, 3) for v in floors)
    assert floors == sorted(floors), "a newer CUDA release must not need an older driver"
    for cuda in releases:
        assert len(t.parse_version(cuda)) == 3, cuda
        if t.cuda_minor(cuda) == (11, 0):
            continue  # 11.0 shipped before the 11.x minor-compat floor existed (NVIDIA's note)
        major = t.cuda_minor(cuda)[0]
        assert t.driver_at_least(t.CUDA_MIN_DRIVER[cuda], t.CUDA_MINOR_COMPAT_DRIVER[major]), cuda


def test_gpus_instances_and_arches_agree():
    for name, info in t.GPUS.items():
        assert info.capability in t.ARCH_SUPPORT, f"{name}: no CUDA range for {info.capability}"
        assert all(" " not in label for label in info.gfd_products), name
    for itype, info in t.INSTANCE_TYPES.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9]+", itype), itype
        assert info.arch in ("x86_64", "arm64"), itype
        assert (info.gpu is None) == (info.gpu_count == 0), itype
        assert info.gpu is None or info.gpu in t.GPUS, f"{itype}: {info.gpu} is not in GPUS"
    for cap, support in t.ARCH_SUPPORT.items():
        assert support.dropped_in is None or support.first_cuda < support.dropped_in, cap
    for ami, info in t.EKS_GPU_AMI_TYPES.items():
        assert info.arch in ("x86_64", "arm64"), ami


def test_device_names_map_to_one_product():
    names = [(n, p) for p, i in t.GPUS.items() for n in (*i.nvml_names, *i.gfd_products)]
    assert len({n for n, _ in names}) == len(names), "a device name belongs to two products"
    for name, product in names:
        assert t.gpu_for_device_name(name) == product


def test_torch_tables_agree():
    for minor, builds in t.TORCH_CUDA_BUILDS.items():
        assert re.fullmatch(r"\d+\.\d+", minor)
        assert all(t.build_cuda(b) for b in builds), minor
    for minor, build in t.TORCH_PYPI_DEFAULT_BUILD.items():
        assert build in t.TORCH_CUDA_BUILDS[minor]
    for (minor, build), arches in t.TORCH_BUILD_ARCHES.items():
        assert build in t.TORCH_CUDA_BUILDS[minor]
        built_with = ".".join(map(str, t.build_cuda(build)))
        assert all(
            t.cuda_supports_capability(built_with, a) is not False
            for a in arches
            if a in t.ARCH_SUPPORT
        ), (minor, build)


def test_image_table_agrees():
    for os, by_cuda in t.NVIDIA_CUDA_IMAGES.items():
        assert os in t.UBUNTU_LTS
        assert list(by_cuda) == sorted(by_cuda, key=t.parse_version), os
        assert all(m is None or m in t.CUDNN_MARKER_MAJOR for m in by_cuda.values()), os


# --- lookups -----------------------------------------------------------------------------
def test_driver_floors_are_exact_never_interpolated():
    assert t.min_driver_for_cuda("12.4.1") == "550.54.15"
    assert t.min_driver_for_cuda("12.8.0") == "570.26"
    assert t.min_driver_for_cuda("12.4.2") is None
    assert t.min_driver_for_cuda("12.7.0") is None
    assert t.min_driver_for_cuda("12.4") is None
    assert t.min_driver_for_cuda_minor((12, 4)) == "550.54.14"
    assert t.min_driver_for_cuda_minor((12, 7)) is None
    assert t.driver_at_least("570.124.06", "570.26") and not t.driver_at_least(
        "570.26", "570.124.06"
    )
    assert t.driver_at_least("550.54.15", "525")
    with pytest.raises(ValueError, match="not a driver version"):
        t.driver_at_least("latest", "525")


def test_cuda_architecture_ranges():
    assert t.cuda_supports_capability("11.7.1", (9, 0)) is False
    assert t.cuda_supports_capability("11.8.0", (9, 0)) is True
    assert t.cuda_supports_capability("12.9.1", (7, 0)) is True
    assert t.cuda_supports_capability("13.0.0", (7, 0)) is False
    assert t.cuda_supports_capability("13.0.0", (7, 5)) is True
    assert t.cuda_supports_capability("12.8.0", (10, 3)) is False
    assert t.cuda_supports_capability("12.9.0", (10, 3)) is True
    assert t.cuda_supports_capability("12.4.1", (6, 1)) is None  # capability not in the table
    assert t.cuda_supports_capability("twelve", (9, 0)) is None
    assert t.sm((10, 0)) == "sm_100"


@pytest.mark.parametrize(
    ("args", "tag"),
    [
        (("12.4.1", "9", "ubuntu22.04", "runtime"), "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04"),
        (("12.4.1", None, "ubuntu22.04", "base"), "nvidia/cuda:12.4.1-base-ubuntu22.04"),
        (("12.3.2", "9", "ubuntu20.04", "devel"), "nvidia/cuda:12.3.2-cudnn9-devel-ubuntu20.04"),
        (
            ("12.2.2", "8", "ubuntu22.04", "runtime"),
            "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04",
        ),
        (("13.0.3", "9", "ubuntu24.04", "devel"), "nvidia/cuda:13.0.3-cudnn-devel-ubuntu24.04"),
        (("12.4.1", "8", "ubuntu22.04", "runtime"), None),  # 12.4.1 images carry cuDNN 9
        (("12.4.1", "9", "ubuntu22.04", "base"), None),  # no cudnn-base tags exist
        (("12.4.1", None, "ubuntu24.04", "runtime"), None),  # no Ubuntu 24.04 image for 12.4.1
        (("12.5.1", "9", "ubuntu24.04", "runtime"), None),  # 12.5.1 on 24.04: plain tags only
        (("12.5.1", None, "ubuntu24.04", "runtime"), "nvidia/cuda:12.5.1-runtime-ubuntu24.04"),
        (("12.4.1", None, "debian12", "runtime"), None),
        (("12.4.2", None, "ubuntu22.04", "runtime"), None),
    ],
)
def test_cuda_base_image(args, tag):
    assert t.cuda_base_image(*args) == tag


def test_cuda_base_image_rejects_an_unknown_flavor():
    with pytest.raises(ValueError, match="flavor must be one of"):
        t.cuda_base_image("12.4.1", None, "ubuntu22.04", "slim")


def test_default_os():
    assert t.default_os(None) == "debian12"
    assert t.default_os("12.4.1") == "ubuntu22.04"
    assert t.default_os("12.6.3") == "ubuntu24.04"
    assert t.default_os("11.0.3") == "ubuntu20.04"
    assert t.default_os("12.7.0") == "ubuntu24.04"  # no tag known: the compat check reports it


def test_lookups_by_name():
    assert t.gpu_for_device_name("NVIDIA H100 80GB HBM3") == "H100-80GB"
    assert t.gpu_for_device_name(b"NVIDIA A10") == "A10"  # older pynvml returns bytes
    assert t.gpu_for_device_name("NVIDIA-H100-80GB-HBM3") == "H100-80GB"
    assert t.gpu_for_device_name("NVIDIA-A10G") == "A10G"
    assert t.gpu_for_device_name("NVIDIA-A10") == "A10"
    assert t.gpu_for_device_name("NVIDIA GeForce RTX 3090") is None
    assert t.instance_info("p5.48xlarge") == t.InstanceInfo("H100-80GB", 8, "x86_64")
    assert t.instance_info("m6i.large") == t.InstanceInfo(None, 0, "x86_64")
    assert t.instance_info("p5.96xlarge") is None
    assert t.eks_gpu_ami_type("AL2_x86_64_GPU").end_of_support == "2025-11-26"
    assert t.eks_gpu_ami_type("AL2023_x86_64_NVIDIA").end_of_support is None
    assert t.torch_builds("2.4") == ("cu118", "cu121", "cu124")
    assert t.torch_builds("2.13") is None
    assert (
        t.torch_pypi_default_build("2.8") == "cu128" and t.torch_pypi_default_build("2.4") is None
    )
    assert t.build_cuda("cu118") == (11, 8) and t.build_cuda("cu130") == (13, 0)
    assert t.build_cuda("cpu") is None and t.build_cuda("rocm6.1") is None
    assert t.jax_cuda_major("cuda12") == 12 and t.jax_cuda_major("cuda11") is None
    assert t.minor_compat_driver(11) == "450.80.02" and t.minor_compat_driver(10) is None


def test_importing_the_tables_reads_nothing_and_pulls_in_no_parser():
    probe = (
        "import sys, builtins\n"
        "opened = []\n"
        "real = builtins.open\n"
        "builtins.open = lambda *a, **k: opened.append(a[0]) or real(*a, **k)\n"
        "import envparity.compat_tables\n"
        "heavy = sorted({'yaml', 'json', 'jsonschema', 'packaging'} & set(sys.modules))\n"
        "print(opened, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []", out.stdout
