"""Compatibility rules: what the spec combines, judged against the knowledge snapshot.

`check_compatibility(spec)` returns every problem found as Diagnostics (errors and
warnings) with JSON paths; the loader turns paths into file:line:col. The facts come
from `compat_tables` (lookups over envparity.core.knowledge); this module only asks and words
the answers. Two principles: never reject what exists (a value newer than the snapshot
is a warning that says how to refresh), and never suggest what would be rejected (every
hint that proposes a value names one that the same rules accept).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge import Wheels, version_key
from envparity.core.knowledge import tables as t
from envparity.core.model import Software, Spec
from envparity.core.requirements import name_of, parse, pinned_version

DOCS = "docs/compatibility.md"
REFRESH = "run `envparity knowledge refresh` to update the team snapshot"
WHEEL_PROJECTS = ("torch", "torchvision", "torchaudio")
ARCH_OF_INSTANCE = {"x86_64": "x86_64", "arm64": "aarch64"}


def check_compatibility(spec: Spec) -> list[Diagnostic]:
    """All compatibility errors and warnings of `spec`, in no particular order."""
    problems: list[Diagnostic] = []
    for rule in (_cuda_and_driver, _gpus, _base_image, _stages, _wheels, _torch, _jax):
        problems.extend(rule(spec))
    return problems


# --- Where CUDA comes from ---------------------------------------------------------------
@dataclass(frozen=True)
class CudaRuntime:
    """The CUDA a GPU environment runs: from `cuda`, or from a pinned wheel's build."""

    version: str  # "12.4.1" from `cuda`, "12.6" from a wheel build
    origin: str  # "cuda" or e.g. "torch 2.7.1 (PyPI default build cu126)"
    build: str | None = None  # the wheel build ("cu126") when a wheel brings it


def torch_build(software: Software) -> tuple[str, str] | None:
    """(build, how it was found) of the torch pin: local label, index URL, or PyPI default."""
    found = _pin(software, "torch")
    if found is None:
        return None
    version = found[1]
    build, how = _build_of(software, version)
    return (build, how) if build else None


def cuda_runtime(software: Software) -> CudaRuntime | None:
    """Where the environment's CUDA comes from, or None for a CPU-only environment."""
    if software.cuda is not None:
        return CudaRuntime(software.cuda, "cuda")
    found = _pin(software, "torch")
    if found is None:
        return None
    version = found[1]
    build, how = _build_of(software, version)
    minor = t.build_cuda(build) if build else None
    if minor is None:
        return None
    return CudaRuntime(t.dotted(minor), f"torch {version} ({how})", build)


def driver_floor(software: Software) -> str | None:
    """The Linux driver floor the environment needs (of `cuda`, else of the wheel's CUDA)."""
    runtime = cuda_runtime(software)
    if runtime is None:
        return None
    if runtime.build is None:
        return t.min_driver_for_cuda(runtime.version)
    return t.min_driver_for_cuda_minor(t.build_cuda(runtime.build))  # type: ignore[arg-type]


# --- CUDA and driver ---------------------------------------------------------------------
def _cuda_and_driver(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    if sw.cuda is None:
        if sw.driver is not None and cuda_runtime(sw) is None:
            yield Diagnostic(
                "driver is set but cuda is not: a CPU-only environment has no NVIDIA driver floor",
                ("driver",),
                "remove driver",
                severity="warning",
            )
        return
    floor, listed = t.floor_source(sw.cuda)
    if floor is None or sw.cuda not in t.cuda_releases():
        if t.newer_than_snapshot(sw.cuda):
            yield Diagnostic(
                f"CUDA {sw.cuda} is newer than the knowledge snapshot "
                f"(newest known: {t.cuda_releases()[-1]}); its driver floor is not checked",
                ("cuda",),
                REFRESH,
                severity="warning",
            )
            return
        known = _cuda_suggestions(spec, sw.cuda)
        if known:
            hint = f'use a release that exists: cuda: "{known[0]}"' + (
                f" (or {', '.join(known[1:4])})" if len(known) > 1 else ""
            )
        else:
            near = [c for c in t.cuda_releases() if t.cuda_minor(c) == t.cuda_minor(sw.cuda)]
            hint = (
                "no existing release fits the rest of the spec (cudnn, os, driver, torch "
                f"build, gpus); releases of this minor: {', '.join(near) or 'none'}"
            )
        yield Diagnostic(
            f"CUDA {sw.cuda} is not known to envparity (no such release in the snapshot)",
            ("cuda",),
            f"{hint} (see {DOCS})",
        )
        return
    if sw.driver is not None and not t.driver_at_least(sw.driver, floor):
        whose = "" if listed == sw.cuda else f" (the floor of {listed}, the newest listed update)"
        yield Diagnostic(
            f"driver {sw.driver} is below the minimum {floor} that CUDA {sw.cuda} needs{whose}",
            ("driver",),
            f'use driver: "{floor}" or newer',
        )


def _cuda_suggestions(spec: Spec, cuda: str) -> list[str]:
    """Existing releases nearest to `cuda` that the image and GPU rules also accept."""
    sw = spec.software
    pinned = torch_build(sw)
    wheel_minor = t.build_cuda(pinned[0]) if pinned else None
    wheel_floor = t.min_driver_for_cuda_minor(wheel_minor) if wheel_minor else None

    def accepted(c: str) -> bool:
        floor = t.min_driver_for_cuda(c)
        if not floor or (
            sw.base_image is None
            and not t.cuda_base_image(c, sw.cudnn, sw.os, sw.cuda_flavor or "runtime")
        ):
            return False
        if sw.driver is not None and not t.driver_at_least(sw.driver, floor):
            return False
        if wheel_floor and not t.driver_at_least(sw.driver or floor, wheel_floor):
            return False
        return all(_gpu_ok(g, c) for g in sw.gpus)

    usable = [c for c in t.cuda_releases() if accepted(c)]
    key = version_key(cuda)
    return sorted(usable, key=lambda c: (_distance(version_key(c), key), version_key(c)))


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(abs(x - y) for x, y in zip(a + (0,) * 3, b + (0,) * 3, strict=False))[:3]


def _gpu_fits(sw: Software, gpu: str, cuda: str) -> bool:
    """Whether `gpu` may join gpus: the CUDA and the pinned torch build can target it."""
    if not _gpu_ok(gpu, cuda):
        return False
    pinned, info = torch_build(sw), t.gpu_info(gpu)
    minor = t.build_cuda(pinned[0]) if pinned else None
    if minor is None or info is None:
        return True
    found = _pin(sw, "torch")
    arches = t.torch_build_arches(f"{found[1].major}.{found[1].minor}", pinned[0])  # type: ignore[index,union-attr]
    if arches is not None:
        cap = info.capability
        return any(a[0] == cap[0] and a[1] <= cap[1] for a in arches)
    return _gpu_ok(gpu, t.dotted(minor))


def _gpu_ok(gpu: str, cuda: str) -> bool:
    info = t.gpu_info(gpu)
    return info is None or t.cuda_supports_capability(cuda, info.capability) is not False


# --- GPU products ------------------------------------------------------------------------
def _gpus(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    runtime = cuda_runtime(sw)
    if sw.gpus and runtime is None:
        yield Diagnostic(
            f"gpus lists {', '.join(sw.gpus)} but the environment has no CUDA: "
            "set cuda, or pin a CUDA build of torch",
            ("gpus",),
            'set cuda (e.g. cuda: "12.4.1"), or remove gpus for a CPU-only environment',
        )
        return
    for gpu in sw.gpus:
        path = _item_path(spec, "gpus", lambda text, gpu=gpu: text == gpu, sw.gpus.index(gpu))
        info = t.gpu_info(gpu)
        if info is None:
            yield Diagnostic(
                f"GPU '{gpu}' is not known to envparity",
                path,
                f"use one of: {', '.join(t.gpu_products())}",
            )
            continue
        problem = _arch_problem(gpu, info.capability, runtime.version, runtime)  # type: ignore[union-attr]
        if problem:
            yield Diagnostic(problem[0], path, problem[1])


def _arch_problem(
    gpu: str, capability: tuple[int, int], cuda: str, runtime: CudaRuntime
) -> tuple[str, str] | None:
    """(message, hint) when CUDA `cuda` cannot target `capability`, else None."""
    if t.cuda_supports_capability(cuda, capability) is not False:
        return None
    support = t.arch_support(capability)
    arch, first = t.sm(capability), t.dotted(support.first_cuda)  # type: ignore[union-attr]
    what = "cuda is" if runtime.origin == "cuda" else f"{runtime.origin} brings CUDA"
    if runtime.origin != "cuda":
        return (
            f"{gpu} ({arch}) needs CUDA >= {first}; {what} {cuda}",
            f"pin a torch build for CUDA {first} or newer, or remove {gpu} from gpus",
        )
    if t.cuda_minor(cuda) < support.first_cuda:  # type: ignore[operator,union-attr]
        example = next(
            (
                c
                for c in t.cuda_releases()
                if t.cuda_minor(c) >= support.first_cuda  # type: ignore[operator,union-attr]
                and t.min_driver_for_cuda(c)
                and t.image_oses_for_cuda(c)
            ),
            None,
        )
        return (
            f"{gpu} ({arch}) needs CUDA >= {first}; {what} {cuda}",
            f"use cuda {first} or newer" + (f' (e.g. cuda: "{example}")' if example else ""),
        )
    dropped = t.dotted(support.dropped_in)  # type: ignore[arg-type,union-attr]
    return (
        f"{gpu} ({arch}) is not supported by CUDA {dropped} and later; {what} {cuda}",
        f"use a cuda release older than {dropped}, or remove {gpu} from gpus",
    )


# --- Base image --------------------------------------------------------------------------
def _base_image(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    if sw.cuda is None or sw.base_image is not None or t.min_driver_for_cuda(sw.cuda) is None:
        return
    flavor = sw.cuda_flavor or "runtime"
    written_os = spec.positions is None or ("os",) in spec.positions.values
    os_path = ("os",) if written_os else ("cuda",)
    if t.cuda_base_image(sw.cuda, None, sw.os, flavor) is None:
        elsewhere = [
            o
            for o in t.image_oses_for_cuda(sw.cuda)
            if t.cuda_base_image(sw.cuda, sw.cudnn, o, flavor)
        ]
        nearest = _nearest_tags(sw.cuda, None, sw.os, flavor)
        instead = _cuda_suggestions(spec, sw.cuda)
        if elsewhere:
            ref = t.cuda_base_image(sw.cuda, sw.cudnn, elsewhere[0], flavor)
            hint = f"use os: {elsewhere[0]} (it has {ref})"
        elif instead:
            hint = f'use cuda: "{instead[0]}" (it has images on {sw.os})'
        else:
            hint = "set base_image to an image with this CUDA, or pick another cuda/os"
        yield Diagnostic(
            f"nvidia/cuda has no tag {sw.cuda}-{flavor}-{sw.os}"
            + (f"; nearest: {', '.join(tag for _, tag in nearest[:3])}" if nearest else ""),
            os_path,
            hint,
        )
        return
    if sw.cudnn is not None and t.cuda_base_image(sw.cuda, sw.cudnn, sw.os, flavor) is None:
        majors = t.cudnn_majors(sw.cuda, sw.os, flavor)
        nearest = _nearest_tags(sw.cuda, sw.cudnn, sw.os, flavor)
        instead = _cuda_suggestions(spec, sw.cuda)
        if majors:
            hint = f'use cudnn: "{majors[-1]}"'
        elif instead:
            hint = f'use cuda: "{instead[0]}" (it has cuDNN {sw.cudnn} images on {sw.os})'
        else:
            hint = "remove cudnn, or set base_image to an image that has it"
        offered = f"cuDNN {', '.join(majors)}" if majors else "no cuDNN"
        yield Diagnostic(
            f"nvidia/cuda has no cuDNN {sw.cudnn} {flavor} tag for CUDA {sw.cuda} on {sw.os} "
            f"(its tags have {offered})"
            + (f"; nearest: {', '.join(tag for _, tag in nearest[:3])}" if nearest else ""),
            ("cudnn",),
            hint,
        )


def _nearest_tags(
    cuda: str, cudnn: str | None, os: str, flavor: str = "runtime"
) -> list[tuple[str, str]]:
    """(cuda, tag) of existing `flavor` tags on `os` with that cuDNN, nearest release first."""
    key = version_key(cuda)
    found = []
    for other in t.image_cudas(os):
        ref = t.cuda_base_image(other, cudnn, os, flavor)
        if ref and t.min_driver_for_cuda(other):
            found.append((_distance(version_key(other), key), other, ref.split(":", 1)[1]))
    return [(c, tag) for _, c, tag in sorted(found)]


# --- Stages: instance types, GPU counts, pods that fit -------------------------------------
def _stages(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    gpu_env = cuda_runtime(sw) is not None
    if not gpu_env and spec.run.gpus > 0:
        yield Diagnostic(
            f"run.gpus is {spec.run.gpus} but the environment is CPU-only (no cuda)",
            ("run", "gpus"),
            "set run.gpus: 0, or set cuda and gpus for a GPU environment",
        )
    for name, stage in spec.stages.items():
        where = ("stages", name)
        gpus = spec.run.gpus if stage.gpus is None else stage.gpus
        gpus_path = (*where, "gpus") if stage.gpus is not None else ("run", "gpus")
        if not gpu_env and stage.gpus:
            yield Diagnostic(
                f"stage {name} asks for {stage.gpus} GPUs per replica but the environment is "
                "CPU-only (no cuda)",
                gpus_path,
                "set gpus: 0 for this stage, or set cuda and gpus",
            )
        if stage.instance_type is None:
            continue
        itype, path = stage.instance_type, (*where, "instance_type")
        info = t.instance_info(itype)
        if info is None:
            yield Diagnostic(
                f"instance type '{itype}' is not known to envparity",
                path,
                _known_instances_hint(itype),
            )
            continue
        yield from _fits(spec, name, stage, info, itype)
        if info.gpu is None:
            if gpus > 0 and gpu_env:
                yield Diagnostic(
                    f"stage {name} needs {gpus} GPU(s) per replica but {itype} has no GPU",
                    path,
                    f"use a GPU instance type such as "
                    f"{_example_instance(sw.gpus, gpus, _need(spec, stage))}, "
                    "or set gpus: 0 for this stage",
                )
            continue
        if not gpu_env:
            yield Diagnostic(
                f"{itype} is a GPU instance ({info.gpu_count} x {info.gpu}) but the environment is "
                "CPU-only (no cuda)",
                path,
                "use a CPU instance type such as m6i.large, or set cuda and gpus",
                severity="warning",
            )
            continue
        if info.gpu not in sw.gpus:
            listed = ", ".join(sw.gpus) or "none"
            runtime = cuda_runtime(sw)
            other = _example_instance(sw.gpus, max(gpus, 1), _need(spec, stage))
            if _gpu_fits(sw, info.gpu, runtime.version):  # type: ignore[union-attr]
                hint = f"add {info.gpu} to gpus, or use an instance type with one of them"
            elif other != "-":
                hint = f"use instance_type: {other} ({runtime.version} cannot target {info.gpu})"  # type: ignore[union-attr]
            else:
                hint = f"use an instance type whose GPU CUDA {runtime.version} targets, in gpus"  # type: ignore[union-attr]
            yield Diagnostic(
                f"{itype} has {info.gpu} GPUs, which are not in gpus ({listed})", path, hint
            )
        if gpus > info.gpu_count:
            bigger = _example_instance((info.gpu,), gpus, _need(spec, stage))
            yield Diagnostic(
                f"stage {name} needs {gpus} GPUs per replica but {itype} has {info.gpu_count}",
                path,
                f"use gpus: {info.gpu_count} or fewer"
                + (f", or {bigger}" if bigger != "-" else ""),
            )


_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTOR = {
    None: 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def quantity(text: str) -> float:
    """A Kubernetes quantity ('500m', '16Gi', '8') as a number (cores or bytes)."""
    found = _QUANTITY.match(text)
    if not found:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(found[1]) * _FACTOR[found[2]]


def allocatable(info: t.InstanceInfo) -> tuple[float, float]:
    """(CPU cores, memory bytes) an EKS node of this type offers to pods.

    The EKS AMI's kubelet reservation (amazon-eks-ami nodeadm): kube-reserved CPU is 6% of
    the first core, 1% of the second, 0.5% of the third and fourth and 0.25% of the rest;
    kube-reserved memory is 11 MiB x maxPods + 255 MiB; eviction keeps 100 MiB free.
    """
    millicores = info.vcpus * 1000
    reserved = 0.0
    for start, end, share in ((0, 1000, 0.06), (1000, 2000, 0.01), (2000, 4000, 0.005)):
        reserved += max(0, min(millicores, end) - start) * share
    reserved += max(0, millicores - 4000) * 0.0025
    memory_mib = info.memory_mib - (11 * info.max_pods + 255) - 100
    return (millicores - reserved) / 1000, memory_mib * 2**20


def _fits(spec: Spec, name: str, stage, info: t.InstanceInfo, itype: str) -> Iterator[Diagnostic]:
    cpu_text = stage.cpu or spec.run.cpu
    memory_text = stage.memory or spec.run.memory
    if cpu_text is None and memory_text is None:
        return
    cpu_free, memory_free = allocatable(info)
    cpu = quantity(cpu_text) if cpu_text else 0.0
    memory = quantity(memory_text) if memory_text else 0.0
    if cpu <= cpu_free and memory <= memory_free:
        return
    asks = " / ".join(x for x in (cpu_text and f"{cpu_text} CPU", memory_text) if x)
    path = (
        ("stages", name, "cpu")
        if stage.cpu and cpu > cpu_free
        else ("stages", name, "memory")
        if stage.memory and memory > memory_free
        else ("run", "cpu")
        if spec.run.cpu and cpu > cpu_free
        else ("run", "memory")
    )
    bigger = _bigger_instance(info, cpu, memory)
    who = f"stage {name}" if stage.cpu or stage.memory else "run"
    yield Diagnostic(
        f"{who} asks {asks} per replica; {itype} allocates at most "
        f"{_cores(cpu_free)} CPU / {_gib(memory_free)} to pods",
        path,
        f'use cpu: "{_cores(cpu_free)}" and memory: "{_gib(memory_free)}" or less'
        + (f", or instance_type: {bigger}" if bigger else ""),
    )


def _cores(value: float) -> str:
    return f"{int(value * 100) / 100:g}"  # rounded down: the hint must fit


def _gib(value: float) -> str:
    return f"{int(value / 2**30 * 10) / 10:g}Gi"


def _bigger_instance(info: t.InstanceInfo, cpu: float, memory: float) -> str | None:
    """The smallest type of the same GPU (or CPU-only) and arch whose pods fit."""
    fits = []
    for other, candidate in t.instance_types().items():
        if candidate.gpu != info.gpu or candidate.arch != info.arch:
            continue
        if candidate.gpu_count < info.gpu_count:
            continue
        free_cpu, free_memory = allocatable(candidate)
        if cpu <= free_cpu and memory <= free_memory:
            fits.append((candidate.vcpus, candidate.memory_mib, other))
    return min(fits)[2] if fits else None


def _known_instances_hint(itype: str) -> str:
    family = itype.split(".", 1)[0]
    names = t.instance_types()
    sizes = [name for name in names if name.split(".", 1)[0] == family]
    if sizes:
        return f"known {family} sizes: {', '.join(sorted(sizes, key=lambda n: names[n].vcpus))}"
    families = sorted({name.split(".", 1)[0] for name in names})
    return f"use a known type of the families {', '.join(families)} (see {DOCS})"


def _example_instance(gpus: Iterable[str], count: int, need: tuple[float, float] = (0, 0)) -> str:
    """The smallest known instance with one of `gpus`, at least `count` of them and room for
    `need` (CPU cores, memory bytes) per pod, else '-'."""
    fits = [
        (info.gpu_count, info.vcpus, name)
        for name, info in t.instance_types().items()
        if info.gpu in set(gpus)
        and info.gpu_count >= count
        and all(n <= free for n, free in zip(need, allocatable(info), strict=True))
    ]
    return min(fits)[2] if fits else "-"


def _need(spec: Spec, stage) -> tuple[float, float]:
    cpu, memory = stage.cpu or spec.run.cpu, stage.memory or spec.run.memory
    return (quantity(cpu) if cpu else 0.0, quantity(memory) if memory else 0.0)


# --- Wheels: torch, torchvision, torchaudio judged against the index data -------------------
def _wheels(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    abi = "cp3" + sw.python.split(".")[1]
    instances = [t.instance_info(s.instance_type) for s in spec.stages.values() if s.instance_type]
    arches = {ARCH_OF_INSTANCE[i.arch] for i in instances if i is not None}
    for project in WHEEL_PROJECTS:
        found = _pin(sw, project)
        if found is None:
            continue
        path = _pin_path(spec, project)
        version = found[1]
        build, how = _build_of(sw, version)
        public = version.public.split("+")[0]
        builds = t.wheels(project, public)
        if not builds:
            yield from _unknown_release(project, public, path)
            continue
        row = builds.get(build or "pypi") if build != "pypi" or "pypi" in builds else None
        if build and build != "pypi" and row is None:
            complete = all(w.complete for w in builds.values())
            have = sorted(b for b in builds if b != "pypi")
            alt = _closest_build(have, cuda_runtime(sw), sw, builds)
            yield Diagnostic(
                f"{project} {public} has no {build} build on download.pytorch.org"
                f" (its builds: {', '.join(have)})",
                path,
                _rebuild_hint(project, public, alt, how)
                if alt
                else f"use a release of {project} with a build for this CUDA and driver",
                severity="error" if complete else "warning",
            )
            continue
        pythons, pythons_from, wheel_arches = _wheel_tags(row, builds)
        if pythons is not None and abi not in pythons and _covered(abi, pythons_from):
            newer = _release_with(project, build, abi, public)
            yield Diagnostic(
                f"{project} {public} has no wheel for Python {_py(sw.python)} ({abi}); "
                f"it has {_span(pythons)}",
                path,
                (
                    f"use {project}=={newer}" + (f"+{build}" if version.local else "") + ", or "
                    if newer
                    else ""
                )
                + f"use a Python its wheels have ({_span(pythons)})",
            )
            continue
        for arch in sorted(arches):
            if wheel_arches is not None and arch not in wheel_arches:
                yield Diagnostic(
                    f"{project} {public} ({build}) has no wheel for {arch}, the CPU of a stage's "
                    f"instance type; it has {', '.join(wheel_arches)}",
                    path,
                    "use an instance type of that CPU, or a release with wheels for it",
                )


def _wheel_tags(
    row: Wheels | None, builds: dict[str, Wheels]
) -> tuple[tuple[str, ...] | None, str | None, tuple[str, ...] | None]:
    """Pythons, where that list starts being complete, and arches of the wheels judged.

    The plain PyPI wheel, when the snapshot has no row for it, is judged by what the
    release's builds on the PyTorch indexes have in common: the same sources, built alike.
    """
    if row is not None:
        return row.pythons, row.pythons_from, row.arches
    known = [w for w in builds.values() if w.pythons is not None]
    if not known:
        return None, None, None
    pythons = set(known[0].pythons or ())
    for w in known[1:]:
        pythons |= set(w.pythons or ())
    froms = [w.pythons_from for w in known]
    arches = None
    if all(w.arches is not None for w in known):
        arches = tuple(sorted({a for w in known for a in w.arches or ()}))
    return (
        tuple(sorted(pythons, key=_abi_key)),
        None if None in froms else min(froms, key=lambda f: _abi_key(f or "")),
        arches,
    )


def _covered(abi: str, pythons_from: str | None) -> bool:
    return pythons_from is None or _abi_key(abi) >= _abi_key(pythons_from)


def _abi_key(abi: str) -> int:
    digits = re.match(r"cp3(\d+)", abi)
    return int(digits.group(1)) if digits else 0


def _span(pythons: tuple[str, ...]) -> str:
    plain = [p for p in pythons if re.fullmatch(r"cp3\d+", p)]
    return f"{plain[0]} to {plain[-1]}" if len(plain) > 1 else ", ".join(pythons)


def _py(python: str) -> str:
    return ".".join(python.split(".")[:2])


def _release_with(project: str, build: str | None, abi: str, after: str) -> str | None:
    """The oldest release after `after` with a wheel of `build` for `abi`."""
    for version in t.releases(project):
        if version_key(version) <= version_key(after):
            continue
        builds = t.wheels(project, version)
        row = builds.get(build or "pypi")
        pythons, pythons_from, _ = (
            _wheel_tags(row, builds) if build == "pypi" or row else (None,) * 3
        )
        if pythons is not None and abi in pythons and pythons_from is None:
            return version
    return None


def _unknown_release(project: str, public: str, path: tuple) -> Iterator[Diagnostic]:
    known = t.releases(project)
    if not known:
        return
    if version_key(public) < version_key(known[0]):
        return  # older than the snapshot's coverage of the project: not judged
    same_minor = [v for v in known if v.split(".")[:2] == public.split(".")[:2]]
    newest = same_minor[-1] if same_minor else known[-1]
    if version_key(public) > version_key(newest) or not same_minor:
        yield Diagnostic(
            f"{project} {public} is newer than the knowledge snapshot (newest known: {newest}); "
            "its builds and wheels are not checked",
            path,
            REFRESH,
            severity="warning",
        )
        return
    yield Diagnostic(
        f"{project} {public} is not a release on the package indexes "
        f"(releases of {'.'.join(public.split('.')[:2])}: {', '.join(same_minor)})",
        path,
        f"use {project}=={same_minor[-1]}",
    )


def _closest_build(
    have: list[str], runtime: CudaRuntime | None, sw: Software, builds: dict[str, Wheels]
) -> str | None:
    """The build to suggest, one the driver and GPU rules accept: the spec's CUDA minor,
    else the newest that fits; None when no build of the release would pass."""
    abi = "cp3" + sw.python.split(".")[1]

    def has_python(build: str) -> bool:
        pythons, pythons_from, _ = _wheel_tags(builds[build], builds)
        return pythons is None or abi in pythons or not _covered(abi, pythons_from)

    if runtime is None:
        return "cpu" if "cpu" in have and has_python("cpu") else None
    floor = sw.driver or (t.min_driver_for_cuda(sw.cuda) if sw.cuda else None)

    def accepted(build: str) -> bool:
        minor = t.build_cuda(build)
        if not has_python(build):
            return False
        if minor is None:
            return False
        needed = t.min_driver_for_cuda_minor(minor)
        if floor and needed and not t.driver_at_least(floor, needed):
            return False
        return all(_gpu_ok(g, t.dotted(minor)) for g in sw.gpus)

    fitting = [b for b in have if accepted(b)]
    same = [b for b in fitting if sw.cuda and t.build_cuda(b) == t.cuda_minor(sw.cuda)]
    return (same or fitting or [None])[-1]


def _rebuild_hint(project: str, public: str, build: str, how: str) -> str:
    if how.startswith("from "):
        return f"use the index https://download.pytorch.org/whl/{build} in package_indexes"
    return f"use {project}=={public}+{build}"


# --- PyTorch: driver floor, two runtimes, GPU architectures --------------------------------
def _torch(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    found = _pin(sw, "torch")
    if found is None:
        return
    path = _pin_path(spec, "torch")
    version = found[1]
    torch_minor = f"{version.major}.{version.minor}"
    build, how = _build_of(sw, version)
    label = f"torch {version}" if version.local else f"torch {version} ({how})"
    gpu_env = cuda_runtime(sw) is not None
    if build is None:
        if gpu_env:
            yield Diagnostic(
                f"the CUDA build of torch {version} is not known to envparity",
                path,
                _pin_build_hint(version, sw.cuda),
                severity="warning",
            )
        return
    if build == "cpu":
        if gpu_env:
            yield Diagnostic(
                f"{label} is a CPU-only build in a GPU environment",
                path,
                _pin_build_hint(version, sw.cuda),
                severity="warning",
            )
        return
    built_with = t.build_cuda(build)
    if built_with is None or not gpu_env:
        return
    if t.wheels("torch", version.public.split("+")[0]).get(build) is None and (
        t.torch_pypi_default_build(torch_minor) != build or version.local
    ):
        return  # _wheels reported the missing build
    yield from _torch_driver(spec, path, label, built_with)
    if sw.cuda is not None and built_with != t.cuda_minor(sw.cuda):
        cuda_build = "cu" + "".join(map(str, t.cuda_minor(sw.cuda) or ()))
        published = t.wheels("torch", version.public.split("+")[0])
        alt = (
            f"torch=={version.public.split('+')[0]}+{cuda_build}"
            if cuda_build in published
            else "a torch build for it"
        )
        yield Diagnostic(
            f"{label} bundles CUDA {t.dotted(built_with)} while cuda is {sw.cuda}: "
            "the image carries two CUDA runtimes",
            path,
            f"use {alt}, or a cuda {t.dotted(built_with)} release",
            severity="warning",
        )
    yield from _torch_arches(spec, path, label, torch_minor, build, built_with)


def _build_of(sw: Software, version: Version) -> tuple[str | None, str]:
    """The build ('cu124', 'cpu') and how it was found: local label, index URL, or PyPI default."""
    if version.local:
        return version.local, "local version label"
    for url in sw.package_indexes:
        last = url.rstrip("/").rsplit("/", 2)
        if len(last) == 3 and last[1] == "whl" and (last[2] == "cpu" or t.build_cuda(last[2])):
            return last[2], f"from {url}"
    default = t.torch_pypi_default_build(f"{version.major}.{version.minor}")
    return (default, f"PyPI default build {default}") if default else (None, "")


def _pin_build_hint(version: Version, cuda: str | None) -> str:
    minor = t.cuda_minor(cuda) if cuda else None
    build = f"cu{minor[0]}{minor[1]}" if minor else "cu124"
    return (
        f"pin the build, e.g. torch=={version.base_version}+{build}, or add "
        f"https://download.pytorch.org/whl/{build} to package_indexes"
    )


def _torch_driver(
    spec: Spec, path: tuple, label: str, built_with: tuple[int, int]
) -> Iterator[Diagnostic]:
    sw = spec.software
    needed = t.min_driver_for_cuda_minor(built_with)
    floor = sw.driver or (t.min_driver_for_cuda(sw.cuda) if sw.cuda else None)
    if needed is None or floor is None or t.driver_at_least(floor, needed):
        return
    whose = (
        f"driver is {sw.driver}" if sw.driver else f"cuda {sw.cuda} only guarantees driver {floor}"
    )
    yield Diagnostic(
        f"{label} needs NVIDIA driver {needed} or newer (CUDA {t.dotted(built_with)}); {whose}",
        path,
        f'set driver: "{needed}" or newer, or use a torch build for an older CUDA',
    )


def _torch_arches(
    spec: Spec, path: tuple, label: str, torch_minor: str, build: str, built_with: tuple[int, int]
) -> Iterator[Diagnostic]:
    arches = t.torch_build_arches(torch_minor, build)
    for gpu in spec.software.gpus:
        info = t.gpu_info(gpu)
        if info is None:
            continue
        cap = info.capability
        if arches is not None:
            # A cubin runs on GPUs of the same major and a higher-or-equal minor (blackwell-guide).
            if not any(a[0] == cap[0] and a[1] <= cap[1] for a in arches):
                carried = ", ".join(t.sm(a) for a in arches)
                yield Diagnostic(
                    f"{label} is not built for {gpu} ({t.sm(cap)}); it carries {carried}",
                    path,
                    _torch_for_gpu_hint(gpu, cap, spec.software.cuda),
                )
        elif t.cuda_supports_capability(t.dotted(built_with), cap) is False:
            yield Diagnostic(
                f"{label} is built with CUDA {t.dotted(built_with)}, which cannot target {gpu} "
                f"({t.sm(cap)})",
                path,
                _torch_for_gpu_hint(gpu, cap, spec.software.cuda),
            )


def _torch_for_gpu_hint(gpu: str, cap: tuple[int, int], cuda: str | None) -> str:
    """The newest torch build whose CUDA (and arch list, where known) covers `cap`, preferring
    builds whose CUDA is not newer than `cuda`; the oldest such build when none is."""
    fitting = []
    for torch_minor in t.torch_minors():
        for build in t.torch_builds(torch_minor) or ():
            arches = t.torch_build_arches(torch_minor, build)
            built_with = t.build_cuda(build)
            ok = (
                any(a[0] == cap[0] and a[1] <= cap[1] for a in arches)
                if arches is not None
                else built_with is not None
                and t.cuda_supports_capability(t.dotted(built_with), cap)
            )
            if ok:
                fitting.append((torch_minor, build, built_with))
    if not fitting:
        return f"remove {gpu} from gpus"
    limit = t.cuda_minor(cuda) if cuda else None
    under = [f for f in fitting if limit is None or f[2] <= limit]  # type: ignore[operator]
    torch_minor, build, _ = under[-1] if under else fitting[0]
    return (
        f"use a torch build that supports {gpu}, e.g. torch {torch_minor} with {build}, "
        f"or remove {gpu} from gpus"
    )


# --- JAX ---------------------------------------------------------------------------------
def _jax(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    for index, text in enumerate(sw.python_packages):
        req = parse(text)  # the loader has already checked and normalised every pin
        if canonicalize_name(req.name) != "jax":
            continue
        path = _item_path(spec, "python_packages", lambda raw: name_of(raw) == "jax", index)
        for extra in sorted(e for e in req.extras if e.startswith("cuda")):
            major = t.jax_cuda_major(extra)
            if major is None:
                yield Diagnostic(
                    f"jax[{extra}] is not known to envparity",
                    path,
                    f"known extras: {', '.join(f'jax[{e}]' for e in t.jax_extras())}",
                    severity="warning",
                )
                continue
            if sw.cuda is None:
                yield Diagnostic(
                    f"jax[{extra}] needs CUDA {major} but the environment is CPU-only (no cuda)",
                    path,
                    f"use plain jax for CPU, or set cuda to a {major}.x release",
                )
                continue
            cuda_major = t.cuda_minor(sw.cuda)[0]  # type: ignore[index]
            if cuda_major != major:
                fitting = (
                    f"jax[cuda{cuda_major}]"
                    if f"cuda{cuda_major}" in t.jax_extras()
                    else "plain jax"
                )
                yield Diagnostic(
                    f"jax[{extra}] is built for CUDA {major} but cuda is {sw.cuda}",
                    path,
                    f"use {fitting}, or a CUDA {major}.x release",
                )
            # No driver rule for jax: for CUDA 12 and 13 the floor of `cuda` is above the
            # minor-version floor of its major, so the check of `driver` already covers jax.


# --- Helpers -----------------------------------------------------------------------------
def _pin(sw: Software, project: str) -> tuple[int, Version] | None:
    """(index, version) of the exact pin of `project` in python_packages, or None."""
    return _pin_in(sw.python_packages, project)


@cache
def _pin_in(packages: tuple[str, ...], project: str) -> tuple[int, Version] | None:
    for index, text in enumerate(packages):
        req = parse(text)  # the loader has already checked and normalised every pin
        pin = pinned_version(req) if canonicalize_name(req.name) == project else None
        if pin is None:
            continue
        try:
            return index, Version(pin)
        except InvalidVersion:
            return None
    return None


def _pin_path(spec: Spec, project: str) -> tuple:
    index = _pin(spec.software, project)[0]  # type: ignore[index]
    return _item_path(spec, "python_packages", lambda raw: name_of(raw) == project, index)


def _item_path(spec: Spec, field: str, match: Callable[[str], bool], fallback: int) -> tuple:
    """The path of the list item of `field` as the file wrote it (the model sorts lists)."""
    if spec.positions is not None:
        for path, text in spec.positions.raw.items():
            if len(path) == 2 and path[0] == field and isinstance(path[1], int) and match(text):
                return path
    return (field, fallback)
