"""Completion: every fact derived from a spec and its knowledge snapshot, filled in once.

Like Cog's `Complete()`: the loader completes a spec (and each resolved stage completes
itself from its own fields), so rules, renderers and drift read `Completed` fields and
never derive them again: the CUDA runtime and where it comes from (`cuda`, or the CUDA a
pinned torch build bundles), its driver floor, the torch build, the GPU names as written
with the products they stand for, and per stage the instance type's facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envparity.core import cuda_image, facts
from envparity.core.capacity import allocatable
from envparity.core.knowledge.tables import Tables
from envparity.core.model import (
    Completed,
    CudaRuntime,
    InstanceFacts,
    Software,
    TorchPin,
    WrittenGpu,
)
from envparity.core.requirements import parse, pinned_version


def complete(
    software: Software,
    tables: Tables,
    instance_types: Mapping[str, str | None],
    gpus: tuple[WrittenGpu, ...] = (),
) -> Completed:
    """The derived facts of `software` and of each stage's instance type (stage -> type)."""
    torch = torch_pin(software, tables)
    cuda = _cuda_runtime(software, torch, tables)
    return Completed(
        cuda=cuda,
        driver_floor=_driver_floor(software, cuda, tables),
        torch=torch,
        instances={stage: _instance(itype, tables) for stage, itype in instance_types.items()},
        gpus=gpus,
    )


def written_gpus(names: Iterable[object], tables: Tables) -> tuple[WrittenGpu, ...]:
    """The spec's `gpus` as written (values of another type are the schema's to report)."""
    return tuple(
        WrittenGpu(index, name, facts.gpu_products(name, tables) or ())
        for index, name in enumerate(names)
        if isinstance(name, str)
    )


def pin(software: Software, project: str) -> tuple[int, Version] | None:
    """(index, version) of the exact pin of `project` in python_packages, or None."""
    for index, text in enumerate(software.python_packages):
        req = parse(text)  # the loader has already checked and normalised every pin
        version = pinned_version(req) if canonicalize_name(req.name) == project else None
        if version is None:
            continue
        try:
            return index, Version(version)
        except InvalidVersion:
            return None
    return None


def build_of(software: Software, version: Version, tables: Tables) -> tuple[str | None, str]:
    """The build ('cu124', 'cpu') and how it was found: local label, index URL, or PyPI default."""
    if version.local:
        return version.local, "local version label"
    for url in software.package_indexes:
        last = url.rstrip("/").rsplit("/", 2)
        if len(last) == 3 and last[1] == "whl" and (last[2] == "cpu" or tables.build_cuda(last[2])):
            return last[2], f"from {url}"
    default = tables.torch_pypi_default_build(f"{version.major}.{version.minor}")
    return (default, f"PyPI default build {default}") if default else (None, "")


def torch_pin(software: Software, tables: Tables) -> TorchPin | None:
    """The exact torch pin and its build, or None when torch is not pinned exactly."""
    found = pin(software, "torch")
    if found is None:
        return None
    build, how = build_of(software, found[1], tables)
    return TorchPin(found[0], found[1], build, how)


def _cuda_runtime(software: Software, torch: TorchPin | None, tables: Tables) -> CudaRuntime | None:
    if software.cuda is not None:
        return CudaRuntime(software.cuda, "cuda")
    minor = tables.build_cuda(torch.build) if torch and torch.build else None
    if minor is None:
        return None
    return CudaRuntime(tables.dotted(minor), f"torch {torch.version} ({torch.how})", torch.build)  # type: ignore[union-attr]


def _driver_floor(software: Software, cuda: CudaRuntime | None, tables: Tables) -> str | None:
    """The Linux driver floor of `cuda`: what the nvidia/cuda base image requires at start, the
    release's Table 3 floor under another base image, else the floor of the wheel's CUDA
    runtime under minor version compatibility (docs/compatibility.md)."""
    if cuda is None:
        return None
    if cuda.build is None:
        if software.base_image is None or cuda_image.parse(software.base_image, tables):
            return tables.image_driver_floor(cuda.version)
        return tables.min_driver_for_cuda(cuda.version)
    return tables.wheel_driver_floor(tables.build_cuda(cuda.build))  # type: ignore[arg-type]


def _instance(instance_type: str | None, tables: Tables) -> InstanceFacts | None:
    info = tables.instance_info(instance_type) if instance_type else None
    return InstanceFacts(info, allocatable(info)) if info else None
