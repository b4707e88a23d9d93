"""Lookups over the compatibility knowledge (envparity.core.knowledge): no facts live here.

`Tables(snapshot)` answers from one snapshot, the one the loader found for the spec's folder
and that the spec and its resolved stages carry (no snapshot is "in use" process-wide).
The functions at module level need no snapshot (version arithmetic). A value the snapshot
does not hold is "not known": lookups return None. The one inference is NVIDIA's own rule
for update releases: a CUDA release that exists (it has nvidia/cuda tags) but has no
Table 3 row needs at least the floor of the newest listed update of its minor
(docs/compatibility.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from packaging.version import InvalidVersion, Version

from envparity.core import knowledge
from envparity.core.knowledge import Instance, Knowledge, Wheels, version_key

# Newest first: default_os picks the first with a tag for the CUDA version.
UBUNTU_LTS = ("ubuntu24.04", "ubuntu22.04", "ubuntu20.04")
CPU_DEFAULT_OS = "debian12"
FLAVORS = ("base", "runtime", "devel")
COMPANIONS = ("torchvision", "torchaudio")  # released with each torch release

InstanceInfo = Instance


class GpuInfo(NamedTuple):
    """A GPU product as specs name it, with what a live system reports for it."""

    capability: tuple[int, int]
    architecture: str
    nvml_names: tuple[str, ...] = ()
    gfd_products: tuple[str, ...] = ()


class ArchSupport(NamedTuple):
    first_cuda: tuple[int, int]
    dropped_in: tuple[int, int] | None


class EksAmiType(NamedTuple):
    arch: str
    end_of_support: str | None


# --- versions ------------------------------------------------------------------------------
def parse_version(text: str) -> tuple[int, ...] | None:
    """'550.54.15' -> (550, 54, 15); None when the text is not dot-separated numbers."""
    parts = text.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def cuda_minor(cuda: str) -> tuple[int, int] | None:
    """'12.4.1' -> (12, 4)."""
    version = parse_version(cuda)
    return version[:2] if version and len(version) >= 2 else None  # type: ignore[return-value]


def dotted(minor: tuple[int, int]) -> str:
    return f"{minor[0]}.{minor[1]}"


def driver_at_least(driver: str, floor: str) -> bool:
    """Whether driver version `driver` is `floor` or newer (numeric, field by field)."""
    have, need = parse_version(driver), parse_version(floor)
    if have is None or need is None:
        raise ValueError(f"not a driver version: {driver!r} / {floor!r}")
    return have >= need


def sm(capability: tuple[int, int]) -> str:
    """(9, 0) -> 'sm_90'."""
    return f"sm_{capability[0]}{capability[1]}"


def _public(version: str) -> Version | None:
    """The public part of a PEP 440 version ('2.2+cu121' -> 2.2), or None when it is not one."""
    try:
        return Version(Version(version).public)
    except InvalidVersion:
        return None


def build_cuda(build: str) -> tuple[int, int] | None:
    """'cu124' -> (12, 4); 'cu118' -> (11, 8); None for anything else."""
    digits = build[2:] if build.startswith("cu") else ""
    if len(digits) != 3 or not digits.isdigit():
        return None
    return int(digits[:2]), int(digits[2])


class Tables:
    """The lookups over one knowledge snapshot."""

    # Version arithmetic needs no snapshot; offered here too so rules ask one object.
    parse_version = staticmethod(parse_version)
    cuda_minor = staticmethod(cuda_minor)
    dotted = staticmethod(dotted)
    driver_at_least = staticmethod(driver_at_least)
    sm = staticmethod(sm)
    build_cuda = staticmethod(build_cuda)
    FLAVORS = FLAVORS
    UBUNTU_LTS = UBUNTU_LTS

    def __init__(self, snapshot: Knowledge):
        self.snapshot = snapshot

    @classmethod
    def for_folder(cls, folder: str | Path | None = None) -> Tables:
        """The lookups over the snapshot for `folder` (default: the working directory)."""
        return cls(knowledge.find(folder))

    # --- CUDA and drivers ------------------------------------------------------------------------
    def cuda_releases(self) -> tuple[str, ...]:
        """Every CUDA X.Y.Z the snapshot knows to exist, oldest first."""
        return self.snapshot.cuda_releases

    def table3_releases(self) -> tuple[str, ...]:
        """The CUDA releases with a Table 3 row, oldest first."""
        return tuple(self.snapshot.cuda_drivers)

    def min_driver_for_cuda(self, cuda: str) -> str | None:
        """The full-toolkit Linux driver floor of an existing CUDA release, or None when not known.

        A release without a Table 3 row takes the floor of the newest listed update of its minor.
        """
        k = self.snapshot
        if cuda in k.cuda_drivers:
            return k.cuda_drivers[cuda]
        if cuda not in k.cuda_releases:
            return None
        return self.floor_source(cuda)[0]

    def floor_source(self, cuda: str) -> tuple[str | None, str | None]:
        """(floor, the Table 3 release it is read from) for an existing release."""
        k = self.snapshot
        if cuda in k.cuda_drivers:
            return k.cuda_drivers[cuda], cuda
        minor, key = cuda_minor(cuda), version_key(cuda)
        listed = [c for c in k.cuda_drivers if cuda_minor(c) == minor and version_key(c) < key]
        if not listed:
            return None, None
        newest = listed[-1]
        return k.cuda_drivers[newest], newest

    def newer_than_snapshot(self, cuda: str) -> bool:
        """Whether `cuda` is newer than every release the snapshot knows."""
        known = self.snapshot.cuda_releases
        return bool(known) and version_key(cuda) > version_key(known[-1])

    def minor_compat_driver(self, cuda_major: int) -> str | None:
        return self.snapshot.minor_compat.get(cuda_major)

    def min_driver_for_cuda_minor(self, minor: tuple[int, int]) -> str | None:
        """The lowest full-toolkit floor among the Table 3 releases of CUDA 'X.Y' (all need it)."""
        return self.snapshot.minor_floors.get(tuple(minor))

    def image_driver_floor(self, cuda: str) -> str | None:
        """The driver an nvidia/cuda image of release `cuda` requires when its container starts.

        Its `NVIDIA_REQUIRE_CUDA` says `cuda>=X.Y` (not X.Y.Z): the NVIDIA container toolkit
        accepts any driver for CUDA X.Y, the lowest Table 3 floor of X.Y. The older branches
        it also names (forward compatibility, data-centre GPUs) are not modelled.
        """
        minor = cuda_minor(cuda)
        found = self.min_driver_for_cuda_minor(minor) if minor else None
        return found or self.min_driver_for_cuda(cuda)

    def wheel_driver_floor(self, minor: tuple[int, int]) -> str | None:
        """The driver a CUDA X.Y runtime bundled in a wheel (torch cuXYZ, nvidia-*-cu12) needs:
        it runs under CUDA minor version compatibility, so its major's floor."""
        return self.minor_compat_driver(minor[0])

    # --- GPUs ------------------------------------------------------------------------------------
    def gpu_products(self) -> tuple[str, ...]:
        return tuple(sorted(self.snapshot.gpus))

    def gpu_info(self, product: str) -> GpuInfo | None:
        row = self.snapshot.gpus.get(product)
        if row is None:
            return None
        return GpuInfo(
            tuple(row["capability"]),  # type: ignore[arg-type]
            row["architecture"],
            tuple(row["nvml_names"]),
            tuple(row["gfd_products"]),
        )

    def arch_support(self, capability: tuple[int, int]) -> ArchSupport | None:
        found = self.snapshot.arch_support.get(capability)
        return ArchSupport(*found) if found else None  # type: ignore[arg-type]

    def cuda_supports_capability(self, cuda: str, capability: tuple[int, int]) -> bool | None:
        """Whether CUDA `cuda` ('X.Y.Z' or 'X.Y') targets `capability`; None when not known."""
        minor = cuda_minor(cuda)
        support = self.arch_support(capability)
        if minor is None or support is None:
            return None
        return support.first_cuda <= minor and (
            support.dropped_in is None or minor < support.dropped_in
        )

    def gpu_for_device_name(self, name: str | bytes) -> str | None:
        """The spec product for an NVML device name or GFD `nvidia.com/gpu.product` label.

        None when the snapshot knows no such GPU.
        """
        text = name.decode() if isinstance(name, bytes) else name
        label = text.strip().replace(" ", "-")  # GFD's label is the NVML name with spaces as '-'
        for product, row in self.snapshot.gpus.items():
            if text in row["nvml_names"] or label in row["gfd_products"]:
                return product
            if label in (n.replace(" ", "-") for n in row["nvml_names"]):
                return product
        return None

    # --- AWS -------------------------------------------------------------------------------------
    def instance_types(self) -> dict[str, Instance]:
        return self.snapshot.instances

    def instance_info(self, instance_type: str) -> Instance | None:
        return self.snapshot.instances.get(instance_type)

    def eks_gpu_ami_type(self, ami_type: str) -> EksAmiType | None:
        found = self.snapshot.eks_gpu_ami_types.get(ami_type)
        return EksAmiType(*found) if found else None

    # --- PyTorch ---------------------------------------------------------------------------------

    def releases(self, project: str) -> tuple[str, ...]:
        """Versions of `project` the snapshot has wheels for, oldest first."""
        return self.snapshot.releases(project)

    def wheels(self, project: str, version: str) -> dict[str, Wheels]:
        """build -> Wheels of one release; empty when the snapshot does not have the release.

        `version` is compared as a PEP 440 version: '2.2' is the release '2.2.0'.
        """
        found = self.snapshot.wheels.get((project, version))
        if found is None:
            release = self.release(project, version)
            found = self.snapshot.wheels.get((project, release), {}) if release else {}
        return found

    def release(self, project: str, version: str) -> str | None:
        """The snapshot's spelling of release `version` of `project` (PEP 440 equality of the
        public versions), or None when the snapshot does not have it."""
        wanted = _public(version)
        if wanted is None:
            return None
        return next((v for v in self.releases(project) if _public(v) == wanted), None)

    def torch_builds(self, torch_minor: str) -> tuple[str, ...] | None:
        """CUDA builds ('cu124', ...) published for any torch 'X.Y.*', or None when not known."""
        found = {
            build
            for (project, version), builds in self.snapshot.wheels.items()
            if project == "torch" and ".".join(version.split(".")[:2]) == torch_minor
            for build in builds
            if build_cuda(build)
        }
        return tuple(sorted(found)) if found else None

    def torch_minors(self) -> tuple[str, ...]:
        """torch 'X.Y' with known builds, oldest first."""
        minors = {".".join(v.split(".")[:2]) for v in self.releases("torch")}
        return tuple(sorted(minors, key=version_key))

    def torch_pypi_default_build(self, torch_minor: str) -> str | None:
        return self.snapshot.pypi_default.get(torch_minor)

    def torch_build_arches(
        self, torch_minor: str, build: str
    ) -> tuple[tuple[int, int], ...] | None:
        return self.snapshot.build_arches.get((torch_minor, build))

    def jax_cuda_major(self, extra: str) -> int | None:
        return self.snapshot.jax_extras.get(extra)

    def jax_extras(self) -> tuple[str, ...]:
        return tuple(self.snapshot.jax_extras)

    # --- Official nvidia/cuda base images --------------------------------------------------------
    def cudnn_major(self, marker: str) -> str | None:
        return self.snapshot.cudnn_markers.get(marker)

    def image_cudas(self, os: str) -> tuple[str, ...]:
        """CUDA releases with nvidia/cuda tags on `os`, oldest first."""
        return tuple(sorted(self.snapshot.images.get(os, {}), key=version_key))

    def image_tags(self) -> frozenset[str]:
        return self.snapshot.image_tags

    def cuda_base_image(self, cuda: str, cudnn: str | None, os: str, flavor: str) -> str | None:
        """The exact `nvidia/cuda` reference when the tag is known to exist, else None.

        `cudnn` is the cuDNN major ("9") or None for an image without cuDNN; `flavor` is
        "base", "runtime" or "devel". NVIDIA publishes the flavours of one CUDA/cuDNN/OS
        release together, and builds the cuDNN images on the plain ones: so any listed tag of
        a release on `os` proves its base, runtime and devel tags, and a listed cuDNN tag its
        cuDNN runtime and devel tags (base images never carry cuDNN).
        """
        if flavor not in FLAVORS:
            raise ValueError(f"flavor must be one of {FLAVORS}, not {flavor!r}")
        suffixes = self.snapshot.images.get(os, {}).get(cuda, set())
        if cudnn is None:
            return f"nvidia/cuda:{cuda}-{flavor}-{os}" if suffixes else None
        if flavor == "base":
            return None
        markers = {s.partition("-")[0] for s in suffixes if s.partition("-")[2]}
        for marker in sorted(markers):
            if self.cudnn_major(marker) == str(cudnn):
                return f"nvidia/cuda:{cuda}-{marker}-{flavor}-{os}"
        return None

    def cudnn_majors(self, cuda: str, os: str, flavor: str) -> tuple[str, ...]:
        """cuDNN majors of the nvidia/cuda `flavor` tags of `cuda` on `os` known to exist."""
        if flavor == "base":
            return ()
        found = set()
        for suffix in self.snapshot.images.get(os, {}).get(cuda, set()):
            major = self.cudnn_major(suffix.partition("-")[0])
            if major:
                found.add(major)
        return tuple(sorted(found))

    def image_oses_for_cuda(self, cuda: str) -> tuple[str, ...]:
        """The OSes with official nvidia/cuda tags for CUDA `cuda`, newest Ubuntu first."""
        return tuple(os for os in UBUNTU_LTS if cuda in self.snapshot.images.get(os, {}))

    def default_os(self, cuda: str | None) -> str:
        """The base OS a spec gets when it names none.

        CPU-only: debian12. GPU: the newest Ubuntu LTS with an official nvidia/cuda tag for
        `cuda`; when no tag is known, the newest Ubuntu LTS (the compatibility check then
        says that no official image exists and asks for `os` or `base_image`).
        """
        if cuda is None:
            return CPU_DEFAULT_OS
        oses = self.image_oses_for_cuda(cuda)
        return oses[0] if oses else UBUNTU_LTS[0]

    # --- what the snapshot knows it lists in full (issue 21) ------------------------------------
    # An older snapshot without these sections answers "not known" (False / None), which keeps
    # a missing tag or build a warning.

    def tags_complete(self, cuda: str, os: str, suffix: str, image: str = "nvidia/cuda") -> bool:
        """Whether the snapshot lists every `image` tag of this kind for CUDA `cuda` on `os`
        (`suffix` as in '12.8.1-<suffix>-ubuntu24.04': 'runtime', 'cudnn-devel', ...): then a
        tag it lacks does not exist. cuDNN markers fold into one flavour ('cudnn9-runtime')."""
        rows = self.snapshot.data.get("image_lists", {}).get(image, [])
        flavor = re.sub(r"^cudnn\d*-", "cudnn-", suffix)
        return any(r["cuda"] == cuda and r["os"] == os and flavor in r["complete"] for r in rows)

    def unlisted_cuda_image(self, cuda: str, cudnn: str | None, os: str, flavor: str) -> str | None:
        """The nvidia/cuda reference NVIDIA's naming gives a tag this snapshot neither lists nor
        knows to be absent (validate warns about it), or None when it is known absent.

        A cuDNN tag takes the marker (`cudnn8`, `cudnn9`, `cudnn`) that the nearest listed
        release of the same cuDNN major uses: NVIDIA renamed the marker between releases, so
        it is read from the tag lists, never written by hand.
        """
        if self.tag_known_absent(cuda, os, f"cudnn-{flavor}" if cudnn else flavor):
            return None
        if cudnn is None:
            return f"nvidia/cuda:{cuda}-{flavor}-{os}"
        wanted = parse_version(cuda)
        if flavor == "base" or wanted is None:
            return None
        near = [
            (_release_distance(wanted, parse_version(release)), marker)
            for releases in self.snapshot.images.values()
            for release, suffixes in releases.items()
            for marker, _, rest in (s.partition("-") for s in suffixes)
            if rest and self.cudnn_major(marker) == str(cudnn) and parse_version(release)
        ]
        return f"nvidia/cuda:{cuda}-{min(near)[1]}-{flavor}-{os}" if near else None

    def tag_known_absent(self, cuda: str, os: str, suffix: str) -> bool:
        """Whether an nvidia/cuda tag the snapshot lacks is known not to exist.

        The flavours of one release come together (`cuda_base_image`), so a list complete for
        one flavour of a group (plain, or cuDNN) is complete for the group. A source that lists
        a release's tags in full lists every OS it is published for (NVIDIA's tag documents,
        Cog's scrape of Docker Hub), so a release listed in full on another OS and absent here
        has no tag on `os`.
        """
        cudnn = suffix.startswith("cudnn")
        group = ("cudnn-runtime", "cudnn-devel") if cudnn else FLAVORS
        rows = self.snapshot.data.get("image_lists", {}).get("nvidia/cuda", [])
        here = [r for r in rows if r["cuda"] == cuda and r["os"] == os]
        judged = here or [r for r in rows if r["cuda"] == cuda and r["os"] != os]
        return any(set(group) & set(r["complete"]) for r in judged)

    def companions(self, torch: str) -> dict[str, str] | None:
        """{'torchvision': ..., 'torchaudio': ...} released with torch `torch` (a PEP 440
        version, compared as one), or None when not known."""
        wanted = _public(torch)
        for row in self.snapshot.data.get("torch_companions", []):
            if wanted is not None and _public(row["torch"]) == wanted:
                return {p: row[p] for p in COMPANIONS if row.get(p)}
        return None

    def torch_for(self, project: str, version: str) -> str | None:
        """The torch release a torchvision/torchaudio `version` was released with, or None."""
        wanted = _public(version)
        for row in self.snapshot.data.get("torch_companions", []):
            if wanted is not None and row.get(project) and _public(row[project]) == wanted:
                return row["torch"]
        return None


def _release_distance(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """How far CUDA release `b` is from `a`: another major first, then minor, then patch."""
    x, y = (*a, 0, 0, 0)[:3], (*b, 0, 0, 0)[:3]
    return (int(x[0] != y[0]), *(abs(i - j) for i, j in zip(x, y, strict=True)))
