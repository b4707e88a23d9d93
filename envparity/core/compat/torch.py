"""PyTorch: the torch build's driver floor, two CUDA runtimes, and the GPU architectures."""

from __future__ import annotations

from collections.abc import Iterator

from packaging.version import Version

from envparity.core.compat.common import pin_path
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge.tables import Tables
from envparity.core.model import Spec


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t, done = spec.software, spec.tables, spec.completed
    torch = done.torch  # type: ignore[union-attr]
    if torch is None:
        return
    path = pin_path(spec, "torch", torch.index)
    version, build = torch.version, torch.build
    torch_minor = f"{version.major}.{version.minor}"
    label = f"torch {version}" if version.local else f"torch {version} ({torch.how})"
    gpu_env = done.cuda is not None  # type: ignore[union-attr]
    if build is None:
        if gpu_env:
            yield Diagnostic(
                f"the CUDA build of torch {version} is not known to envparity",
                path,
                _pin_build_hint(t, version, sw.cuda),
                severity="warning",
            )
        return
    if build == "cpu":
        if gpu_env:
            yield Diagnostic(
                f"{label} is a CPU-only build in a GPU environment",
                path,
                _pin_build_hint(t, version, sw.cuda),
                severity="warning",
            )
        return
    built_with = t.build_cuda(build)
    if built_with is None or not gpu_env:
        return
    if t.wheels("torch", version.public.split("+")[0]).get(build) is None and (
        t.torch_pypi_default_build(torch_minor) != build or version.local
    ):
        return  # wheels.check reported the missing build
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


def _pin_build_hint(t: Tables, version: Version, cuda: str | None) -> str:
    minor = t.cuda_minor(cuda) if cuda else None
    build = f"cu{minor[0]}{minor[1]}" if minor else "cu124"
    return (
        f"pin the build, e.g. torch=={version.base_version}+{build}, or add "
        f"https://download.pytorch.org/whl/{build} to package_indexes"
    )


def _torch_driver(
    spec: Spec, path: tuple, label: str, built_with: tuple[int, int]
) -> Iterator[Diagnostic]:
    """The CUDA runtime a torch wheel bundles runs under CUDA minor version compatibility: it
    needs its major's floor; below the floor of its own minor it runs with the documented
    limits (no PTX JIT of code newer than the driver), a warning."""
    sw, t = spec.software, spec.tables
    needed = t.wheel_driver_floor(built_with)
    full = t.min_driver_for_cuda_minor(built_with)
    floor = sw.driver or (spec.completed.driver_floor if sw.cuda else None)  # type: ignore[union-attr]
    if needed is None or floor is None:
        return
    whose = (
        f"driver is {sw.driver}" if sw.driver else f"cuda {sw.cuda} only guarantees driver {floor}"
    )
    if not t.driver_at_least(floor, needed):
        yield Diagnostic(
            f"{label} needs NVIDIA driver {needed} or newer (CUDA {built_with[0]}.x minor "
            f"version compatibility, for its CUDA {t.dotted(built_with)}); {whose}",
            path,
            f'set driver: "{needed}" or newer, or use a torch build for an older CUDA',
        )
    elif full is not None and not t.driver_at_least(floor, full):
        yield Diagnostic(
            f"{label} bundles CUDA {t.dotted(built_with)}, newer than driver {floor} supports: "
            "it runs under CUDA minor version compatibility, where PTX compiled by the newer "
            f"CUDA cannot be JIT-compiled (GPUs the build has no cubin for fail); {whose}",
            path,
            f'set driver: "{full}" or newer to run it without these limits',
            severity="warning",
        )


def _torch_arches(
    spec: Spec, path: tuple, label: str, torch_minor: str, build: str, built_with: tuple[int, int]
) -> Iterator[Diagnostic]:
    t = spec.tables
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
                    _torch_for_gpu_hint(t, gpu, cap, spec.software.cuda),
                )
        elif t.cuda_supports_capability(t.dotted(built_with), cap) is False:
            yield Diagnostic(
                f"{label} is built with CUDA {t.dotted(built_with)}, which cannot target {gpu} "
                f"({t.sm(cap)})",
                path,
                _torch_for_gpu_hint(t, gpu, cap, spec.software.cuda),
            )


def _torch_for_gpu_hint(t: Tables, gpu: str, cap: tuple[int, int], cuda: str | None) -> str:
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
