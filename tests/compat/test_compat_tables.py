"""The compatibility tables: every row cited, the tables consistent, the lookups exact."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from envparity.adapters.knowledge_refresh import CURATED as CURATED_FILE
from envparity.core.knowledge import PACKAGED, version_key
from envparity.core.knowledge.tables import Tables

SNAPSHOT = json.loads(PACKAGED.read_text(encoding="utf-8"))
CURATED = json.loads(CURATED_FILE.read_text(encoding="utf-8"))
t = Tables.for_folder()  # the snapshot a spec in this repository is checked against
CITED = (
    "cuda_drivers",
    "cuda_minor_compat",
    "gpus",
    "arch_support",
    "eks_gpu_ami_types",
    "jax_cuda_extras",
    "cudnn_markers",
    "torch_build_arches",
    "torch_pypi_default",
    "wheels",
    "instance_types",
)


def _rows(document: dict):
    for kind in CITED:
        for row in document[kind]:
            yield kind, row
    for repository, rows in document["images"].items():
        for row in rows:
            yield repository, row


def test_every_entry_cites_a_known_source():
    for kind, row in _rows(SNAPSHOT):
        assert row["sources"], f"{kind} entry {row} names no source"
        unknown = [s for s in row["sources"] if s not in SNAPSHOT["sources"]]
        assert not unknown, f"{kind} entry {row} cites unknown sources {unknown}"


def test_every_source_says_where_and_when_and_is_used():
    used = {s for _, row in _rows(SNAPSHOT) for s in row["sources"]}
    used |= {s for row in CURATED["aws_gpu_names"] for s in row["sources"]}
    for key, source in SNAPSHOT["sources"].items():
        assert source.get("url") and source.get("read"), key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["read"]), key
        assert key in used, f"source {key} is cited by no entry"


def test_snapshot_is_sorted_and_regenerable():
    """The packaged file is what the generator writes: sorted keys, sorted entries."""
    text = PACKAGED.read_text(encoding="utf-8")
    assert text == json.dumps(SNAPSHOT, indent=1, sort_keys=True) + "\n"
    wheels = [(r["project"], version_key(r["version"]), r["build"]) for r in SNAPSHOT["wheels"]]
    assert wheels == sorted(wheels)
    tags = [r["tag"] for r in SNAPSHOT["images"]["nvidia/cuda"]]
    assert tags == sorted(tags)


def test_cuda_releases_are_sorted_and_floors_never_fall():
    releases = t.table3_releases()
    floors = [t.parse_version(t.min_driver_for_cuda(c)) for c in releases]
    assert all(v is not None and len(v) in (2, 3) for v in floors)
    assert floors == sorted(floors), "a newer CUDA release must not need an older driver"
    for cuda in releases:
        assert len(t.parse_version(cuda)) == 3, cuda
        if t.cuda_minor(cuda) == (11, 0):
            continue  # 11.0 shipped before the 11.x minor-compat floor existed (NVIDIA's note)
        major = t.cuda_minor(cuda)[0]
        assert t.driver_at_least(t.min_driver_for_cuda(cuda), t.minor_compat_driver(major)), cuda
    assert "13.2.2" in releases  # Table 3 through 13.2 Update 2


def test_gpus_instances_and_arches_agree():
    for name in t.gpu_products():
        info = t.gpu_info(name)
        assert t.arch_support(info.capability), f"{name}: no CUDA range for {info.capability}"
        assert all(" " not in label for label in info.gfd_products), name
    for itype, info in t.instance_types().items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9-]+", itype), itype
        assert info.arch in ("x86_64", "arm64"), itype
        assert (info.gpu is None) == (info.gpu_count == 0), itype
        assert info.gpu is None or t.gpu_info(info.gpu), f"{itype}: {info.gpu} is not a GPU"
        assert info.vcpus > 0 and info.memory_mib > 0 and info.max_pods > 2, itype
    for row in SNAPSHOT["arch_support"]:
        assert row["dropped_in"] is None or version_key(row["first_cuda"]) < version_key(
            row["dropped_in"]
        )


def test_gpu_families_of_the_facts_are_covered():
    """Every GPU family of FACTS.md that the snapshot has GPU facts for, with vCPU and memory."""
    families = {name.split(".", 1)[0] for name in t.instance_types()}
    for family in ("p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300"):
        assert family in families, family
    for family in ("g4dn", "g5", "g6", "gr6", "g6e", "g7e"):
        assert family in families, family
    assert t.instance_info("g5.xlarge").vcpus == 4
    assert t.instance_info("g5.xlarge").memory_mib == 16384


def test_device_names_map_to_one_product():
    names = [
        (n, p)
        for p in t.gpu_products()
        for n in (*t.gpu_info(p).nvml_names, *t.gpu_info(p).gfd_products)
    ]
    assert len({n for n, _ in names}) == len(names), "a device name belongs to two products"
    for name, product in names:
        assert t.gpu_for_device_name(name) == product


def test_torch_data_agrees():
    for minor in t.torch_minors():
        assert re.fullmatch(r"\d+\.\d+", minor)
    for row in SNAPSHOT["torch_pypi_default"]:
        assert t.build_cuda(row["build"]), row
    for row in SNAPSHOT["torch_build_arches"]:
        assert row["build"] in (t.torch_builds(row["torch"]) or ()), row
    for row in SNAPSHOT["wheels"]:
        assert row["build"] in ("cpu", "pypi") or t.build_cuda(row["build"]), row
        assert row["pythons"] is None or all(re.fullmatch(r"cp3\d+t?", p) for p in row["pythons"])


def test_image_tags_parse():
    for tag in t.image_tags():
        cuda, *middle, os = tag.split("-")
        assert os in t.UBUNTU_LTS and version_key(cuda) >= (11, 0), tag
        assert middle[-1] in t.FLAVORS, tag
        assert len(middle) == 1 or t.cudnn_major(middle[0]), tag


# --- lookups -----------------------------------------------------------------------------
def test_driver_floors_are_exact_never_interpolated():
    assert t.min_driver_for_cuda("12.4.1") == "550.54.15"
    assert t.min_driver_for_cuda("12.8.0") == "570.26"
    assert t.min_driver_for_cuda("12.4.2") is None  # no such release
    assert t.min_driver_for_cuda("12.3.2") == "545.23.08"  # exists, no Table 3 row: 12.3.1's
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
    p5 = t.instance_info("p5.48xlarge")
    assert (p5.gpu, p5.gpu_count, p5.arch, p5.vcpus) == ("H100-80GB", 8, "x86_64", 192)
    m6i = t.instance_info("m6i.large")
    assert (m6i.gpu, m6i.gpu_count, m6i.arch, m6i.vcpus) == (None, 0, "x86_64", 2)
    assert t.instance_info("p5.96xlarge") is None
    assert t.eks_gpu_ami_type("AL2_x86_64_GPU").end_of_support == "2025-11-26"
    assert t.eks_gpu_ami_type("AL2023_x86_64_NVIDIA").end_of_support is None
    assert t.torch_builds("2.4") == ("cu118", "cu121", "cu124")
    assert t.torch_builds("2.15") is None
    assert t.torch_pypi_default_build("2.8") == "cu128"
    assert t.torch_pypi_default_build("1.13") is None
    assert t.build_cuda("cu118") == (11, 8) and t.build_cuda("cu130") == (13, 0)
    assert t.build_cuda("cpu") is None and t.build_cuda("rocm6.1") is None
    assert t.jax_cuda_major("cuda12") == 12 and t.jax_cuda_major("cuda11") is None
    assert t.minor_compat_driver(11) == "450.80.02" and t.minor_compat_driver(10) is None


def test_importing_the_lookups_reads_nothing_until_asked():
    probe = (
        "import sys\n"
        "import envparity.core.knowledge.tables as t\n"
        "from envparity.core import knowledge\n"
        "before = knowledge._load.cache_info().currsize\n"
        "heavy = sorted({'yaml', 'jsonschema', 'boto3', 'urllib.request'} & set(sys.modules))\n"
        "k = t.Tables.for_folder()\n"
        "k.min_driver_for_cuda('12.4.1'); k.min_driver_for_cuda('12.8.1')\n"
        "print(before, heavy, knowledge._load.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 [] 1", out.stdout
