"""Compatibility knowledge as cited data tables, and small lookups over them.

Data only: plain dicts and NamedTuples, no I/O and no parsing at import, so the CLI
starts fast. Every table row ends with a ``# src: KEY`` comment naming the document it
was read from; ``SOURCES`` maps each KEY to that document's title and URL (a test
checks that every row carries a known key). A value that is not in a table is "not
known": the lookups return None and never interpolate (CUDA 12.4.2 is not 12.4.1).

How to add a row: docs/compatibility.md.
"""

from __future__ import annotations

from typing import NamedTuple

# KEY -> (document title, URL). Secondary copies are named as such: they reproduce a
# primary table that the search index holds only in part; see docs/compatibility.md.
SOURCES: dict[str, tuple[str, str]] = {
    "cuda-rn-t3": (
        "NVIDIA CUDA Toolkit Release Notes, Table 3 'CUDA Toolkit and Corresponding Driver "
        "Versions' (Linux x86_64 column; the 13.2 notes, as reproduced in two independent copies)",
        "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html",
    ),
    "cuda-rn-t3-13.3": (
        "NVIDIA CUDA Toolkit 13.3 Release Notes, Table 3 "
        "(rows for 13.2 Update 1 and 13.3, as quoted)",
        "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html",
    ),
    "cuda-minor-compat": (
        "NVIDIA CUDA Compatibility, 'Minor Version Compatibility', Table 1 "
        "(CUDA 11.x/12.x/13.x driver ranges)",
        "https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html",
    ),
    "cuda-gpus": (
        "NVIDIA 'CUDA GPU Compute Capability' and 'Legacy CUDA GPU Compute Capability'",
        "https://developer.nvidia.com/cuda-gpus",
    ),
    "cuda-guide-arch": (
        "NVIDIA CUDA C++ Programming Guide, 'Compute Capability' (major revision -> architecture)",
        "https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#compute-capability",
    ),
    "blackwell-guide": (
        "NVIDIA Blackwell Compatibility Guide for CUDA Applications (Blackwell = CC 10.x and 12.x; "
        "build with CUDA 12.8; a cubin runs on the same major and a higher-or-equal minor)",
        "https://docs.nvidia.com/cuda/blackwell-compatibility-guide/index.html",
    ),
    "a10g-cc": (
        "pytorch/test-infra PR 769 'Add g5.4xlarge instances' "
        "(NVIDIA A10G has compute capability sm8.6)",
        "https://github.com/pytorch/test-infra/pull/769",
    ),
    "nv-forum-first-cuda": (
        "NVIDIA Developer Forums, 'Minimum required CUDA version by GPU' "
        "(first CUDA for cc 8.0/8.6/8.9/9.0)",
        "https://forums.developer.nvidia.com/t/minimum-required-cuda-version-by-gpu/276955/2",
    ),
    "cmake-cuda12": (
        "Kitware CMake MR 8031 'CUDA: Update set of architectures supported by CUDA 12' "
        "(8.9/9.0 from 11.8; 3.5/3.7 removed in 12.0)",
        "https://gitlab.kitware.com/cmake/cmake/-/merge_requests/8031",
    ),
    "cuda-sdk-ranges": (
        "CUDA SDK compute capability ranges per release (9.0-9.2: up to 7.0; 10.x: up to 7.5)",
        "https://en.wikipedia.org/wiki/CUDA#GPUs_supported",
    ),
    "cuda-features-12.9": (
        "NVIDIA CUDA Features Archive, CUDA 12.9 "
        "('adds compiler target support for SM 10.3 and 12.1')",
        "https://docs.nvidia.com/cuda/archive/12.9.1/cuda-features-archive/index.html",
    ),
    "cuda-13-drop": (
        "CUDA 13.0 release notes, 'Deprecated Architectures' (Maxwell, Pascal, Volta removed), "
        "as applied in NVIDIA/cuDecomp PR 97 "
        "('CUDA 13.0 dropped support for Volta (SM70), but not Turing (SM75)')",
        "https://github.com/NVIDIA/cuDecomp/pull/97",
    ),
    "gfd-labels": (
        "NVIDIA GPU Feature Discovery 'nvidia.com/gpu.product' label values as reported by nodes "
        "(NVML device name with spaces replaced by '-'), e.g. vllm-project/aibrix PR 2388",
        "https://github.com/NVIDIA/k8s-device-plugin/tree/main/docs/gpu-feature-discovery",
    ),
    "gfd-a100-pcie": (
        "A100 80GB PCIe as nodes report it: nvidia-smi name 'NVIDIA A100 80GB PCIe' and "
        "nvidia.com/gpu.product 'NVIDIA-A100-80GB-PCIe' (NRP Nautilus node labels, "
        "listed beside NVIDIA-A100-SXM4-80GB and NVIDIA-A100-PCIE-40GB)",
        "https://github.com/NVIDIA/k8s-device-plugin/tree/main/docs/gpu-feature-discovery",
    ),
    "nvml-names": (
        "NVML nvmlDeviceGetName / nvidia-smi device names as printed on real hosts (Lambda A10, "
        "p6-b300 B300, H100 HBM3, H200)",
        "https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html",
    ),
    "aws-batch-gpu": (
        "AWS Batch User Guide, 'Run GPU jobs' (instance type -> GPUs)",
        "https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html",
    ),
    "aws-ac-specs": (
        "Amazon EC2 Instance Types, 'Accelerated computing instance specifications' "
        "(as reproduced in RAPIDS deployment docs and instance-to-GPU tables citing it)",
        "https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html",
    ),
    "aws-gp-specs": (
        "Amazon EC2 Instance Types, 'General purpose instance specifications'",
        "https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html",
    ),
    "aws-co-specs": (
        "Amazon EC2 Instance Types, 'Compute optimized instance specifications'",
        "https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html",
    ),
    "aws-mo-specs": (
        "Amazon EC2 Instance Types, 'Memory optimized instance specifications'",
        "https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html",
    ),
    "aws-ug": (
        "Amazon EC2 User Guide source (awsdocs/amazon-ec2-user-guide, doc_source/"
        "accelerated-computing-instances.md 'Hardware specifications': p3, p3dn, p4d and every "
        "g4dn size incl. g4dn.metal = 8 GPUs; general-purpose and memory-optimized tables: "
        "t3.nano..2xlarge, r5.large..24xlarge)",
        "https://github.com/awsdocs/amazon-ec2-user-guide/blob/"
        "3a075fc9145f86ed4b2d39a52498524bc0b118b0/doc_source/accelerated-computing-instances.md",
    ),
    "aws-hp": (
        "aws/sagemaker-hyperpod-cli src/sagemaker/hyperpod/training/constants.py "
        "INSTANCE_RESOURCES (AWS-maintained GPU count per size: p4de 8, p5.4xlarge 1, "
        "p5.48xlarge 8, p5e/p5en 8, p6-b200 8, p6-b300 8, g6/gr6/g6e per size; CPU sizes of "
        "m5, c5, t3, m6i, c6i, r6i, m7i, r7i with 0 GPUs) and INSTANCE_TYPE_MIG_PROFILES "
        "(7g.80gb on p4de, 7g.141gb on p5e/p5en, 7g.269gb on p6-b300)",
        "https://github.com/aws/sagemaker-hyperpod-cli/blob/"
        "2d082e9732d67d675407665dfb2848b5aaae2624/src/sagemaker/hyperpod/training/constants.py",
    ),
    "aws-sdk-c7i": (
        "AWS SDK generated instance-type enums (SageMaker InstanceType lists ml.c7i.large, "
        "ml.c7i.xlarge, ml.c7i.2xlarge, ml.c7i.4xlarge ...); C7i is an Intel (x86_64) family",
        "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html",
    ),
    "eks-ami-types": (
        "AWS CDK aws_eks.NodegroupAmiType (mirrors the EKS API amiType values)",
        "https://docs.aws.amazon.com/cdk/api/v2/python/aws_cdk.aws_eks/NodegroupAmiType.html",
    ),
    "eks-al2-eos": (
        "awslabs/amazon-eks-ami issue 2545 ('As of November 26, 2025, the Amazon Linux 2 (AL2) "
        "EKS-optimized AMIs have reached end of support'; points to the EKS AMI Deprecation FAQs)",
        "https://github.com/awslabs/amazon-eks-ami/issues/2545",
    ),
    "torch-prev": (
        "PyTorch 'Installing previous versions of PyTorch' "
        "(pip --index-url .../whl/cuXYZ per version)",
        "https://pytorch.org/get-started/previous-versions/",
    ),
    "torch-157517": (
        "pytorch/pytorch issue 157517 '[release 2.9] Deprecate support for Maxwell, Pascal, "
        "and Volta architectures' (2.8 deprecation plan; cu128 is the PyPI build)",
        "https://github.com/pytorch/pytorch/issues/157517",
    ),
    "torch-29-cu129": (
        "torch 2.9.0+cu129 wheels on download.pytorch.org/whl/cu129 (x86_64 and aarch64 wheel "
        "URLs pinned by sha256 in public builds; pytorch/pytorch issue 187834: cu129 binaries "
        "kept as unsupported builds from 2.10, dropped in 2.12) beside the cu126/cu128/cu130 "
        "that the previous-versions page lists",
        "https://download.pytorch.org/whl/cu129/torch/",
    ),
    "torch-build-cuda-2.8": (
        "pytorch/pytorch .ci/manywheel/build_cuda.sh at 00c7a380 (the 2.8 build matrix: "
        "12.6 '5.0;6.0;7.0;7.5;8.0;8.6;9.0', 12.8 '7.0;7.5;8.0;8.6;9.0;10.0;12.0', "
        "12.9 '7.0;7.5;8.0;8.6;9.0;10.0;12.0+PTX'; 'we would like to keep sm_70'); "
        "PR 158700 shows torch.cuda.get_arch_list() of a 12.8 build starting at sm_70",
        "https://github.com/pytorch/pytorch/blob/00c7a380b8369d08e02dd400aa76dc6c0738b589/"
        ".ci/manywheel/build_cuda.sh",
    ),
    "jax-install": (
        "JAX installation guide, 'NVIDIA GPU' (pip extras jax[cuda12], jax[cuda13])",
        "https://docs.jax.dev/en/latest/installation.html",
    ),
    "nvidia-cuda-tags": (
        "nvidia/cuda 'Supported tags' (gitlab.com/nvidia/container-images/cuda "
        "doc/supported-tags.md, mirror pranavmishra90/nvidia-container-images-cuda@181367a6)",
        "https://gitlab.com/nvidia/container-images/cuda/-/blob/master/doc/supported-tags.md",
    ),
    "cog-cudnn-major": (
        "replicate/cog pkg/config/cuda_compatibility.json "
        "(cuDNN major inside each nvidia/cuda cudnn tag)",
        "https://github.com/replicate/cog/blob/main/pkg/config/cuda_compatibility.json",
    ),
}


# --- CUDA toolkit -> minimum Linux x86_64 driver (full toolkit floor) ------------------
# "X.Y.Z" exactly as NVIDIA names the release (GA = X.Y.0, Update N = X.Y.N; 11.0 GA is 11.0.2).
CUDA_MIN_DRIVER: dict[str, str] = {
    "11.0.2": "450.51.05",  # src: cuda-rn-t3
    "11.0.3": "450.51.06",  # src: cuda-rn-t3
    "11.1.0": "455.23",  # src: cuda-rn-t3
    "11.1.1": "455.32",  # src: cuda-rn-t3
    "11.2.0": "460.27.03",  # src: cuda-rn-t3
    "11.2.1": "460.32.03",  # src: cuda-rn-t3
    "11.2.2": "460.32.03",  # src: cuda-rn-t3
    "11.3.0": "465.19.01",  # src: cuda-rn-t3
    "11.3.1": "465.19.01",  # src: cuda-rn-t3
    "11.4.0": "470.42.01",  # src: cuda-rn-t3
    "11.4.1": "470.57.02",  # src: cuda-rn-t3
    "11.4.2": "470.57.02",  # src: cuda-rn-t3
    "11.4.3": "470.82.01",  # src: cuda-rn-t3
    "11.4.4": "470.82.01",  # src: cuda-rn-t3
    "11.5.0": "495.29.05",  # src: cuda-rn-t3
    "11.5.1": "495.29.05",  # src: cuda-rn-t3
    "11.5.2": "495.29.05",  # src: cuda-rn-t3
    "11.6.0": "510.39.01",  # src: cuda-rn-t3
    "11.6.1": "510.47.03",  # src: cuda-rn-t3
    "11.6.2": "510.47.03",  # src: cuda-rn-t3
    "11.7.0": "515.43.04",  # src: cuda-rn-t3
    "11.7.1": "515.48.07",  # src: cuda-rn-t3
    "11.8.0": "520.61.05",  # src: cuda-rn-t3
    "12.0.0": "525.60.13",  # src: cuda-rn-t3
    "12.0.1": "525.85.12",  # src: cuda-rn-t3
    "12.1.0": "530.30.02",  # src: cuda-rn-t3
    "12.1.1": "530.30.02",  # src: cuda-rn-t3
    "12.2.0": "535.54.03",  # src: cuda-rn-t3
    "12.2.1": "535.86.09",  # src: cuda-rn-t3
    "12.2.2": "535.104.05",  # src: cuda-rn-t3
    "12.3.0": "545.23.06",  # src: cuda-rn-t3
    "12.3.1": "545.23.08",  # src: cuda-rn-t3
    "12.4.0": "550.54.14",  # src: cuda-rn-t3
    "12.4.1": "550.54.15",  # src: cuda-rn-t3
    "12.5.0": "555.42.02",  # src: cuda-rn-t3
    "12.5.1": "555.42.06",  # src: cuda-rn-t3
    "12.6.0": "560.28.03",  # src: cuda-rn-t3
    "12.6.1": "560.35.03",  # src: cuda-rn-t3
    "12.6.2": "560.35.03",  # src: cuda-rn-t3
    "12.6.3": "560.35.05",  # src: cuda-rn-t3
    "12.8.0": "570.26",  # src: cuda-rn-t3
    "12.8.1": "570.124.06",  # src: cuda-rn-t3
    "12.9.0": "575.51.03",  # src: cuda-rn-t3
    "12.9.1": "575.57.08",  # src: cuda-rn-t3
    "13.0.0": "580.65.06",  # src: cuda-rn-t3
    "13.0.1": "580.82.07",  # src: cuda-rn-t3
    "13.0.2": "580.95.05",  # src: cuda-rn-t3
    "13.1.0": "590.44.01",  # src: cuda-rn-t3
    "13.1.1": "590.48.01",  # src: cuda-rn-t3
    "13.2.0": "595.45.04",  # src: cuda-rn-t3
    "13.2.1": "595.58.03",  # src: cuda-rn-t3-13.3
    "13.3.0": "610.43.02",  # src: cuda-rn-t3-13.3
    "13.3.1": "610.43.02",  # src: cuda-rn-t3-13.3
}

# CUDA major -> the oldest driver that runs any toolkit of that major with minor-version
# compatibility (limited feature set). 11.x names the exact driver; 12.x and 13.x a branch.
CUDA_MINOR_COMPAT_DRIVER: dict[int, str] = {
    11: "450.80.02",  # src: cuda-minor-compat
    12: "525",  # src: cuda-minor-compat
    13: "580",  # src: cuda-minor-compat
}


# --- GPU products ------------------------------------------------------------------------
class GpuInfo(NamedTuple):
    """A GPU product as specs name it, with what a live system reports for it."""

    capability: tuple[int, int]  # compute capability (major, minor)
    architecture: str
    nvml_names: tuple[str, ...] = ()  # nvmlDeviceGetName strings seen for this product
    gfd_products: tuple[str, ...] = ()  # nvidia.com/gpu.product label values seen


# Product name in specs -> facts. Architecture names: cuda-guide-arch (major revision),
# blackwell-guide (10.x, 12.x). Device names only where a source shows them.
GPUS: dict[str, GpuInfo] = {
    "V100-16GB": GpuInfo(
        (7, 0), "Volta", (), ("Tesla-V100-SXM2-16GB",)
    ),  # src: cuda-gpus, cuda-guide-arch, gfd-labels
    "V100-32GB": GpuInfo(
        (7, 0), "Volta", (), ("Tesla-V100-SXM2-32GB",)
    ),  # src: cuda-gpus, cuda-guide-arch, gfd-labels
    "T4": GpuInfo(
        (7, 5), "Turing", (), ("Tesla-T4",)
    ),  # src: cuda-gpus, cuda-guide-arch, gfd-labels
    "A100-40GB": GpuInfo(
        (8, 0), "Ampere", (), ("NVIDIA-A100-SXM4-40GB",)
    ),  # src: cuda-gpus, cuda-guide-arch, gfd-labels
    "A100-80GB": GpuInfo(
        (8, 0),
        "Ampere",
        ("NVIDIA A100-SXM4-80GB",),
        ("NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"),
    ),  # src: cuda-gpus, cuda-guide-arch, nvml-names, gfd-labels, gfd-a100-pcie
    "A10": GpuInfo(
        (8, 6), "Ampere", ("NVIDIA A10",), ("NVIDIA-A10",)
    ),  # src: cuda-gpus, cuda-guide-arch, nvml-names, gfd-labels
    "A10G": GpuInfo(
        (8, 6), "Ampere", (), ("NVIDIA-A10G",)
    ),  # src: a10g-cc, cuda-guide-arch, gfd-labels
    "L4": GpuInfo(
        (8, 9), "Ada Lovelace", (), ("NVIDIA-L4",)
    ),  # src: cuda-gpus, cuda-guide-arch, gfd-labels
    "L40S": GpuInfo(
        (8, 9), "Ada Lovelace", (), ("NVIDIA-L40S",)
    ),  # src: cuda-gpus, cuda-guide-arch, gfd-labels
    "H100-80GB": GpuInfo(
        (9, 0), "Hopper", ("NVIDIA H100 80GB HBM3",), ("NVIDIA-H100-80GB-HBM3",)
    ),  # src: cuda-gpus, cuda-guide-arch, nvml-names, gfd-labels
    "H200": GpuInfo(
        (9, 0), "Hopper", ("NVIDIA H200",), ()
    ),  # src: cuda-gpus, cuda-guide-arch, nvml-names
    "GH200": GpuInfo((9, 0), "Hopper"),  # src: cuda-gpus, cuda-guide-arch
    "B200": GpuInfo((10, 0), "Blackwell"),  # src: cuda-gpus, cuda-guide-arch, blackwell-guide
    "B300": GpuInfo(
        (10, 3), "Blackwell", ("NVIDIA B300 SXM6 AC",), ("NVIDIA-B300-SXM6-AC",)
    ),  # src: cuda-gpus, cuda-guide-arch, nvml-names, gfd-labels
    "RTX-PRO-6000": GpuInfo(
        (12, 0), "Blackwell"
    ),  # src: cuda-gpus, cuda-guide-arch, blackwell-guide
}


# --- CUDA release -> GPU architectures it compiles for -----------------------------------
class ArchSupport(NamedTuple):
    first_cuda: tuple[int, int]  # first CUDA (major, minor) that targets this compute capability
    dropped_in: tuple[int, int] | None  # first CUDA that no longer does; None while supported


# Compute capability -> CUDA range. Rows exist for the capabilities of GPUS only.
ARCH_SUPPORT: dict[tuple[int, int], ArchSupport] = {
    (7, 0): ArchSupport((9, 0), (13, 0)),  # src: cuda-sdk-ranges, cuda-13-drop
    (7, 5): ArchSupport((10, 0), None),  # src: cuda-sdk-ranges, cuda-13-drop
    (8, 0): ArchSupport((11, 0), None),  # src: nv-forum-first-cuda
    (8, 6): ArchSupport((11, 1), None),  # src: nv-forum-first-cuda
    (8, 9): ArchSupport((11, 8), None),  # src: nv-forum-first-cuda, cmake-cuda12
    (9, 0): ArchSupport((11, 8), None),  # src: nv-forum-first-cuda, cmake-cuda12
    (10, 0): ArchSupport((12, 8), None),  # src: blackwell-guide
    (10, 3): ArchSupport((12, 9), None),  # src: cuda-features-12.9
    (12, 0): ArchSupport((12, 8), None),  # src: blackwell-guide
}


# --- AWS instance types ------------------------------------------------------------------
class InstanceInfo(NamedTuple):
    gpu: str | None  # a key of GPUS, or None for a CPU-only instance
    gpu_count: int
    arch: str  # "x86_64" or "arm64"


INSTANCE_TYPES: dict[str, InstanceInfo] = {
    # GPU instances: each size checked against a source that lists it.
    "p3.2xlarge": InstanceInfo("V100-16GB", 1, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "p3.8xlarge": InstanceInfo("V100-16GB", 4, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "p3.16xlarge": InstanceInfo("V100-16GB", 8, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "p3dn.24xlarge": InstanceInfo(
        "V100-32GB", 8, "x86_64"
    ),  # src: aws-batch-gpu, aws-ac-specs, aws-ug
    "p4d.24xlarge": InstanceInfo("A100-40GB", 8, "x86_64"),  # src: aws-ac-specs, aws-ug
    "p4de.24xlarge": InstanceInfo("A100-80GB", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "p5.4xlarge": InstanceInfo("H100-80GB", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "p5.48xlarge": InstanceInfo("H100-80GB", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "p5e.48xlarge": InstanceInfo("H200", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "p5en.48xlarge": InstanceInfo("H200", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "p6-b200.48xlarge": InstanceInfo("B200", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "p6-b300.48xlarge": InstanceInfo("B300", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g4dn.xlarge": InstanceInfo("T4", 1, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "g4dn.2xlarge": InstanceInfo("T4", 1, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "g4dn.4xlarge": InstanceInfo("T4", 1, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "g4dn.8xlarge": InstanceInfo("T4", 1, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "g4dn.12xlarge": InstanceInfo("T4", 4, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "g4dn.16xlarge": InstanceInfo("T4", 1, "x86_64"),  # src: aws-batch-gpu, aws-ug
    "g4dn.metal": InstanceInfo("T4", 8, "x86_64"),  # src: aws-ac-specs, aws-ug
    "g5.xlarge": InstanceInfo("A10G", 1, "x86_64"),  # src: aws-batch-gpu
    "g5.2xlarge": InstanceInfo("A10G", 1, "x86_64"),  # src: aws-batch-gpu
    "g5.4xlarge": InstanceInfo("A10G", 1, "x86_64"),  # src: aws-batch-gpu
    "g5.8xlarge": InstanceInfo("A10G", 1, "x86_64"),  # src: aws-batch-gpu
    "g5.16xlarge": InstanceInfo("A10G", 1, "x86_64"),  # src: aws-batch-gpu
    "g5.12xlarge": InstanceInfo("A10G", 4, "x86_64"),  # src: aws-batch-gpu
    "g5.24xlarge": InstanceInfo("A10G", 4, "x86_64"),  # src: aws-batch-gpu
    "g5.48xlarge": InstanceInfo("A10G", 8, "x86_64"),  # src: aws-batch-gpu
    "g6.xlarge": InstanceInfo("L4", 1, "x86_64"),  # src: aws-batch-gpu
    "g6.2xlarge": InstanceInfo("L4", 1, "x86_64"),  # src: aws-batch-gpu
    "g6.4xlarge": InstanceInfo("L4", 1, "x86_64"),  # src: aws-batch-gpu
    "g6.8xlarge": InstanceInfo("L4", 1, "x86_64"),  # src: aws-batch-gpu
    "g6.16xlarge": InstanceInfo("L4", 1, "x86_64"),  # src: aws-batch-gpu
    "g6.12xlarge": InstanceInfo("L4", 4, "x86_64"),  # src: aws-batch-gpu
    "g6.24xlarge": InstanceInfo("L4", 4, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6.48xlarge": InstanceInfo("L4", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    "gr6.8xlarge": InstanceInfo("L4", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.xlarge": InstanceInfo("L40S", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.2xlarge": InstanceInfo("L40S", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.4xlarge": InstanceInfo("L40S", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.8xlarge": InstanceInfo("L40S", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.16xlarge": InstanceInfo("L40S", 1, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.12xlarge": InstanceInfo("L40S", 4, "x86_64"),  # src: aws-ac-specs, aws-hp
    "g6e.48xlarge": InstanceInfo("L40S", 8, "x86_64"),  # src: aws-ac-specs, aws-hp
    # CPU-only instances: the sizes every one of these families has.
    "m5.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m5.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m5.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m5.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m6i.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m6i.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m6i.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m6i.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m7i.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m7i.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m7i.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "m7i.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp
    "t3.micro": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-ug
    "t3.small": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-ug
    "t3.medium": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp, aws-ug
    "t3.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp, aws-ug
    "t3.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp, aws-ug
    "t3.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-gp-specs, aws-hp, aws-ug
    "c5.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c5.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c5.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c5.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c6i.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c6i.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c6i.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c6i.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-hp
    "c7i.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-sdk-c7i
    "c7i.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-sdk-c7i
    "c7i.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-sdk-c7i
    "c7i.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-co-specs, aws-sdk-c7i
    "r5.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-ug
    "r5.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-ug
    "r5.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-ug
    "r5.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-ug
    "r6i.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r6i.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r6i.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r6i.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r7i.large": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r7i.xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r7i.2xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
    "r7i.4xlarge": InstanceInfo(None, 0, "x86_64"),  # src: aws-mo-specs, aws-hp
}


# --- EKS managed node group AMI types for NVIDIA GPUs ------------------------------------
class EksAmiType(NamedTuple):
    arch: str
    end_of_support: str | None  # ISO date when AWS stops supporting it, None while current


EKS_GPU_AMI_TYPES: dict[str, EksAmiType] = {
    "AL2023_x86_64_NVIDIA": EksAmiType("x86_64", None),  # src: eks-ami-types
    "AL2023_ARM_64_NVIDIA": EksAmiType("arm64", None),  # src: eks-ami-types
    "BOTTLEROCKET_x86_64_NVIDIA": EksAmiType("x86_64", None),  # src: eks-ami-types
    "BOTTLEROCKET_ARM_64_NVIDIA": EksAmiType("arm64", None),  # src: eks-ami-types
    "AL2_x86_64_GPU": EksAmiType("x86_64", "2025-11-26"),  # src: eks-ami-types, eks-al2-eos
}


# --- PyTorch wheels ----------------------------------------------------------------------
# torch "X.Y" -> CUDA builds published on download.pytorch.org/whl/cuXYZ.
TORCH_CUDA_BUILDS: dict[str, tuple[str, ...]] = {
    "2.0": ("cu117", "cu118"),  # src: torch-prev
    "2.1": ("cu118", "cu121"),  # src: torch-prev
    "2.2": ("cu118", "cu121"),  # src: torch-prev
    "2.3": ("cu118", "cu121"),  # src: torch-prev
    "2.4": ("cu118", "cu121", "cu124"),  # src: torch-prev
    "2.5": ("cu118", "cu121", "cu124"),  # src: torch-prev
    "2.6": ("cu118", "cu124", "cu126"),  # src: torch-prev
    "2.7": ("cu118", "cu126", "cu128"),  # src: torch-prev
    "2.8": ("cu126", "cu128", "cu129"),  # src: torch-prev
    "2.9": ("cu126", "cu128", "cu129", "cu130"),  # src: torch-prev, torch-29-cu129
}

# torch "X.Y" -> the CUDA build of the plain Linux x86_64 wheel on PyPI, where a source says.
TORCH_PYPI_DEFAULT_BUILD: dict[str, str] = {
    "2.8": "cu128",  # src: torch-157517
}

# (torch "X.Y", build) -> compute capabilities the wheel carries cubins for, where a source says.
TORCH_BUILD_ARCHES: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {
    ("2.8", "cu126"): (
        (5, 0),
        (6, 0),
        (7, 0),
        (7, 5),
        (8, 0),
        (8, 6),
        (9, 0),
    ),  # src: torch-build-cuda-2.8
    ("2.8", "cu128"): (
        (7, 0),
        (7, 5),
        (8, 0),
        (8, 6),
        (9, 0),
        (10, 0),
        (12, 0),
    ),  # src: torch-build-cuda-2.8
    ("2.8", "cu129"): (
        (7, 0),
        (7, 5),
        (8, 0),
        (8, 6),
        (9, 0),
        (10, 0),
        (12, 0),
    ),  # src: torch-build-cuda-2.8
}


# --- JAX ---------------------------------------------------------------------------------
# pip extra of the jax package -> CUDA major its plugin wheels are built for.
JAX_CUDA_EXTRAS: dict[str, int] = {
    "cuda12": 12,  # src: jax-install
    "cuda13": 13,  # src: jax-install
}


# --- Official nvidia/cuda base images ----------------------------------------------------
# os -> {CUDA "X.Y.Z" -> cuDNN marker in its tags, or None when only plain tags exist}.
# Every listed pair has base, runtime and devel tags; cuDNN tags exist for runtime and devel.
NVIDIA_CUDA_IMAGES: dict[str, dict[str, str | None]] = {
    "ubuntu24.04": {
        "12.5.1": None,  # src: nvidia-cuda-tags
        "12.6.3": "cudnn",  # src: nvidia-cuda-tags
        "12.8.2": None,  # src: nvidia-cuda-tags
        "12.9.1": "cudnn",  # src: nvidia-cuda-tags
        "13.0.3": "cudnn",  # src: nvidia-cuda-tags
        "13.1.2": "cudnn",  # src: nvidia-cuda-tags
        "13.2.1": "cudnn",  # src: nvidia-cuda-tags
    },
    "ubuntu22.04": {
        "11.7.1": "cudnn8",  # src: nvidia-cuda-tags
        "11.8.0": "cudnn8",  # src: nvidia-cuda-tags
        "12.0.1": "cudnn8",  # src: nvidia-cuda-tags
        "12.1.1": "cudnn8",  # src: nvidia-cuda-tags
        "12.2.2": "cudnn8",  # src: nvidia-cuda-tags
        "12.3.2": "cudnn9",  # src: nvidia-cuda-tags
        "12.4.1": "cudnn",  # src: nvidia-cuda-tags
        "12.5.1": "cudnn",  # src: nvidia-cuda-tags
        "12.6.3": "cudnn",  # src: nvidia-cuda-tags
        "12.8.2": None,  # src: nvidia-cuda-tags
        "12.9.1": "cudnn",  # src: nvidia-cuda-tags
        "13.0.3": "cudnn",  # src: nvidia-cuda-tags
        "13.1.2": "cudnn",  # src: nvidia-cuda-tags
        "13.2.1": "cudnn",  # src: nvidia-cuda-tags
    },
    "ubuntu20.04": {
        "11.0.3": "cudnn8",  # src: nvidia-cuda-tags
        "11.1.1": "cudnn8",  # src: nvidia-cuda-tags
        "11.2.2": "cudnn8",  # src: nvidia-cuda-tags
        "11.4.3": "cudnn8",  # src: nvidia-cuda-tags
        "11.5.2": "cudnn8",  # src: nvidia-cuda-tags
        "11.6.2": "cudnn8",  # src: nvidia-cuda-tags
        "11.7.1": "cudnn8",  # src: nvidia-cuda-tags
        "11.8.0": "cudnn8",  # src: nvidia-cuda-tags
        "12.0.1": "cudnn8",  # src: nvidia-cuda-tags
        "12.1.1": "cudnn8",  # src: nvidia-cuda-tags
        "12.2.2": "cudnn8",  # src: nvidia-cuda-tags
        "12.3.2": "cudnn9",  # src: nvidia-cuda-tags
        "12.4.1": "cudnn",  # src: nvidia-cuda-tags
        "12.5.1": "cudnn",  # src: nvidia-cuda-tags
        "12.6.3": "cudnn",  # src: nvidia-cuda-tags
        "12.8.2": None,  # src: nvidia-cuda-tags
        "12.9.1": "cudnn",  # src: nvidia-cuda-tags
    },
}

# cuDNN marker in a tag -> the cuDNN major inside the image.
CUDNN_MARKER_MAJOR: dict[str, str] = {
    "cudnn8": "8",  # src: nvidia-cuda-tags
    "cudnn9": "9",  # src: nvidia-cuda-tags
    "cudnn": "9",  # src: cog-cudnn-major
}

# Newest first: default_os picks the first with a tag for the CUDA version.
UBUNTU_LTS = ("ubuntu24.04", "ubuntu22.04", "ubuntu20.04")
CPU_DEFAULT_OS = "debian12"
FLAVORS = ("base", "runtime", "devel")


# --- Lookups -----------------------------------------------------------------------------
def parse_version(text: str) -> tuple[int, ...] | None:
    """'550.54.15' -> (550, 54, 15); None when the text is not dot-separated numbers."""
    parts = text.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def cuda_minor(cuda: str) -> tuple[int, int] | None:
    """'12.4.1' -> (12, 4)."""
    version = parse_version(cuda)
    return version[:2] if version and len(version) >= 2 else None


def min_driver_for_cuda(cuda: str) -> str | None:
    """The full-toolkit Linux driver floor of an exact CUDA release, or None when not known."""
    return CUDA_MIN_DRIVER.get(cuda)


def minor_compat_driver(cuda_major: int) -> str | None:
    """The oldest driver that runs CUDA `cuda_major`.x with minor-version compatibility."""
    return CUDA_MINOR_COMPAT_DRIVER.get(cuda_major)


def driver_at_least(driver: str, floor: str) -> bool:
    """Whether driver version `driver` is `floor` or newer (numeric, field by field)."""
    have, need = parse_version(driver), parse_version(floor)
    if have is None or need is None:
        raise ValueError(f"not a driver version: {driver!r} / {floor!r}")
    return have >= need


def gpu_info(product: str) -> GpuInfo | None:
    return GPUS.get(product)


def sm(capability: tuple[int, int]) -> str:
    """(9, 0) -> 'sm_90'."""
    return f"sm_{capability[0]}{capability[1]}"


def cuda_supports_capability(cuda: str, capability: tuple[int, int]) -> bool | None:
    """Whether CUDA `cuda` ('X.Y.Z' or 'X.Y') targets `capability`; None when not known."""
    minor = cuda_minor(cuda)
    support = ARCH_SUPPORT.get(capability)
    if minor is None or support is None:
        return None
    return support.first_cuda <= minor and (
        support.dropped_in is None or minor < support.dropped_in
    )


def gpu_for_device_name(name: str) -> str | None:
    """The spec product for an NVML device name or GFD `nvidia.com/gpu.product` label, else None."""
    text = name.decode() if isinstance(name, bytes) else name
    label = text.strip().replace(" ", "-")  # GFD's label is the NVML name with spaces as '-'
    for product, info in GPUS.items():
        if text in info.nvml_names or label in info.gfd_products:
            return product
        if label in (n.replace(" ", "-") for n in info.nvml_names):
            return product
    return None


def instance_info(instance_type: str) -> InstanceInfo | None:
    return INSTANCE_TYPES.get(instance_type)


def eks_gpu_ami_type(ami_type: str) -> EksAmiType | None:
    return EKS_GPU_AMI_TYPES.get(ami_type)


def torch_builds(torch_minor: str) -> tuple[str, ...] | None:
    """CUDA builds ('cu124', ...) published for torch 'X.Y', or None when not known."""
    return TORCH_CUDA_BUILDS.get(torch_minor)


def torch_pypi_default_build(torch_minor: str) -> str | None:
    return TORCH_PYPI_DEFAULT_BUILD.get(torch_minor)


def torch_build_arches(torch_minor: str, build: str) -> tuple[tuple[int, int], ...] | None:
    return TORCH_BUILD_ARCHES.get((torch_minor, build))


def build_cuda(build: str) -> tuple[int, int] | None:
    """'cu124' -> (12, 4); 'cu118' -> (11, 8); None for anything else."""
    digits = build[2:] if build.startswith("cu") else ""
    if len(digits) != 3 or not digits.isdigit():
        return None
    return int(digits[:2]), int(digits[2])


def min_driver_for_cuda_minor(minor: tuple[int, int]) -> str | None:
    """The lowest full-toolkit floor among the known releases of CUDA 'X.Y' (all need it)."""
    floors = [driver for cuda, driver in CUDA_MIN_DRIVER.items() if cuda_minor(cuda) == minor]
    return min(floors, key=parse_version) if floors else None


def jax_cuda_major(extra: str) -> int | None:
    return JAX_CUDA_EXTRAS.get(extra)


def cuda_base_image(cuda: str, cudnn: str | None, os: str, flavor: str) -> str | None:
    """The exact official `nvidia/cuda` tag, or None when NVIDIA publishes none (as far as known).

    `cudnn` is the cuDNN major ("9") or None for an image without cuDNN; `flavor` is
    "base", "runtime" or "devel" (cuDNN images exist for runtime and devel only).
    """
    if flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {FLAVORS}, not {flavor!r}")
    by_cuda = NVIDIA_CUDA_IMAGES.get(os, {})
    if cuda not in by_cuda:
        return None
    if cudnn is None:
        return f"nvidia/cuda:{cuda}-{flavor}-{os}"
    marker = by_cuda[cuda]
    if marker is None or flavor == "base" or CUDNN_MARKER_MAJOR[marker] != str(cudnn):
        return None
    return f"nvidia/cuda:{cuda}-{marker}-{flavor}-{os}"


def image_oses_for_cuda(cuda: str) -> tuple[str, ...]:
    """The OSes with official nvidia/cuda tags for CUDA `cuda`, newest Ubuntu first."""
    return tuple(os for os in UBUNTU_LTS if cuda in NVIDIA_CUDA_IMAGES.get(os, {}))


def default_os(cuda: str | None) -> str:
    """The base OS a spec gets when it names none.

    CPU-only: debian12. GPU: the newest Ubuntu LTS with an official nvidia/cuda tag for
    `cuda`; when no tag is known, the newest Ubuntu LTS (the compatibility check then
    says that no official image exists and asks for `os` or `base_image`).
    """
    if cuda is None:
        return CPU_DEFAULT_OS
    oses = image_oses_for_cuda(cuda)
    return oses[0] if oses else UBUNTU_LTS[0]
