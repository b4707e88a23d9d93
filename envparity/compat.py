"""Compatibility rules: what the spec combines, checked against the cited tables.

`check_compatibility(spec)` returns every problem found as Diagnostics (errors and
warnings) with JSON paths; the loader turns paths into file:line:col. The knowledge is
in `compat_tables`; this module only asks the tables and words the answers. A value the
tables do not know is reported as "not known to envparity", never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envparity import compat_tables as t
from envparity.diagnostics import Diagnostic
from envparity.model import Spec
from envparity.requirements import name_of, parse, pinned_version

DOCS = "docs/compatibility.md"


def check_compatibility(spec: Spec) -> list[Diagnostic]:
    """All compatibility errors and warnings of `spec`, in no particular order."""
    problems: list[Diagnostic] = []
    for rule in (_cuda_and_driver, _gpus, _base_image, _stages, _torch, _jax):
        problems.extend(rule(spec))
    return problems


# --- CUDA and driver ---------------------------------------------------------------------
def _cuda_and_driver(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    if sw.cuda is None:
        if sw.driver is not None:
            yield Diagnostic(
                "driver is set but cuda is not: a CPU-only environment has no NVIDIA driver floor",
                ("driver",),
                'set cuda (e.g. cuda: "12.4.1"), or remove driver',
                severity="warning",
            )
        return
    floor = t.min_driver_for_cuda(sw.cuda)
    if floor is None:
        yield Diagnostic(
            f"CUDA {sw.cuda} is not known to envparity",
            ("cuda",),
            f"use a CUDA release the tables know: {_known_cuda_near(sw.cuda)} (see {DOCS})",
        )
        return
    if sw.driver is not None and not t.driver_at_least(sw.driver, floor):
        yield Diagnostic(
            f"driver {sw.driver} is below the minimum {floor} that CUDA {sw.cuda} needs",
            ("driver",),
            f'use driver: "{floor}" or newer',
        )


def _known_cuda_near(cuda: str) -> str:
    """Known releases of the same X.Y, else of the same major, else all majors' newest."""
    minor = t.cuda_minor(cuda)
    known = list(t.CUDA_MIN_DRIVER)
    same_minor = [c for c in known if minor and t.cuda_minor(c) == minor]
    if same_minor:
        return ", ".join(same_minor)
    same_major = [c for c in known if minor and t.cuda_minor(c)[0] == minor[0]]  # type: ignore[index]
    return ", ".join(same_major or known[-6:])


# --- GPU products ------------------------------------------------------------------------
def _gpus(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    if sw.gpus and sw.cuda is None:
        yield Diagnostic(
            f"gpus lists {', '.join(sw.gpus)} but cuda is not set: a GPU environment needs CUDA",
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
                f"use one of: {', '.join(sorted(t.GPUS))}",
            )
            continue
        problem = _arch_problem(gpu, info.capability, sw.cuda, "cuda is")
        if problem:
            yield Diagnostic(problem[0], path, problem[1])


def _arch_problem(
    gpu: str, capability: tuple[int, int], cuda: str | None, what: str
) -> tuple[str, str] | None:
    """(message, hint) when CUDA `cuda` cannot target `capability`, else None."""
    if cuda is None:
        return None
    supported = t.cuda_supports_capability(cuda, capability)
    support = t.ARCH_SUPPORT.get(capability)
    if supported is not False or support is None:
        return None
    arch = t.sm(capability)
    first = ".".join(map(str, support.first_cuda))
    if t.cuda_minor(cuda) < support.first_cuda:  # type: ignore[operator]
        example = next(
            (c for c in t.CUDA_MIN_DRIVER if t.cuda_minor(c) >= support.first_cuda), None
        )  # type: ignore[operator]
        hint = f"use cuda {first} or newer" + (f' (e.g. cuda: "{example}")' if example else "")
        return f"{gpu} ({arch}) needs CUDA >= {first}; {what} {cuda}", hint
    dropped = ".".join(map(str, support.dropped_in))  # type: ignore[arg-type]
    return (
        f"{gpu} ({arch}) is not supported by CUDA {dropped} and later; {what} {cuda}",
        f"use a cuda release older than {dropped}, or remove {gpu} from gpus",
    )


# --- Base image --------------------------------------------------------------------------
def _base_image(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    if sw.cuda is None or sw.base_image is not None or t.min_driver_for_cuda(sw.cuda) is None:
        return
    written_os = spec.positions is None or ("os",) in spec.positions.values
    os_path = ("os",) if written_os else ("cuda",)
    flavor = "runtime"
    if t.cuda_base_image(sw.cuda, None, sw.os, flavor) is None:
        elsewhere = t.image_oses_for_cuda(sw.cuda)
        on_os = sorted(t.NVIDIA_CUDA_IMAGES.get(sw.os, {}), key=t.parse_version)
        if elsewhere:
            hint = f"use os: {elsewhere[0]} (it has CUDA {sw.cuda} images), or set base_image"
        elif on_os:
            hint = (
                f"use a cuda release with images on {sw.os} ({', '.join(on_os)}), or set base_image"
            )
        else:
            hint = f"use os: one of {', '.join(t.UBUNTU_LTS)}, or set base_image"
        yield Diagnostic(
            f"no official nvidia/cuda image is known for CUDA {sw.cuda} on {sw.os}", os_path, hint
        )
        return
    if sw.cudnn is not None and t.cuda_base_image(sw.cuda, sw.cudnn, sw.os, flavor) is None:
        marker = t.NVIDIA_CUDA_IMAGES[sw.os][sw.cuda]
        offered = f"cuDNN {t.CUDNN_MARKER_MAJOR[marker]}" if marker else "no cuDNN"
        hint = (
            f'use cudnn: "{t.CUDNN_MARKER_MAJOR[marker]}"' if marker else "remove cudnn"
        ) + ", or set base_image to an image that has it"
        yield Diagnostic(
            f"no official nvidia/cuda image has cuDNN {sw.cudnn} with CUDA {sw.cuda} on {sw.os} "
            f"(those images have {offered})",
            ("cudnn",),
            hint,
        )


# --- Stages: instance types and GPU counts -----------------------------------------------
def _stages(spec: Spec) -> Iterator[Diagnostic]:
    sw, gpu_env = spec.software, spec.software.cuda is not None
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
        if info.gpu is None:
            if gpus > 0 and gpu_env:
                yield Diagnostic(
                    f"stage {name} needs {gpus} GPU(s) per replica but {itype} has no GPU",
                    path,
                    f"use a GPU instance type such as {_example_instance(sw.gpus, gpus)}, "
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
            yield Diagnostic(
                f"{itype} has {info.gpu} GPUs, which are not in gpus ({listed})",
                path,
                f"add {info.gpu} to gpus, or use an instance type with one of them",
            )
        if gpus > info.gpu_count:
            bigger = _example_instance((info.gpu,), gpus)
            yield Diagnostic(
                f"stage {name} needs {gpus} GPUs per replica but {itype} has {info.gpu_count}",
                path,
                f"use gpus: {info.gpu_count} or fewer"
                + (f", or {bigger}" if bigger != "-" else ""),
            )


def _known_instances_hint(itype: str) -> str:
    family = itype.split(".", 1)[0]
    sizes = [name for name in t.INSTANCE_TYPES if name.split(".", 1)[0] == family]
    if sizes:
        return f"known {family} sizes: {', '.join(sizes)}"
    families = sorted({name.split(".", 1)[0] for name in t.INSTANCE_TYPES})
    return f"use a known type of the families {', '.join(families)} (see {DOCS})"


def _example_instance(gpus: Iterable[str], count: int) -> str:
    """The smallest known instance with one of `gpus` and at least `count` of them, else '-'."""
    fits = [
        (info.gpu_count, name)
        for name, info in t.INSTANCE_TYPES.items()
        if info.gpu in set(gpus) and info.gpu_count >= count
    ]
    return min(fits)[1] if fits else "-"


# --- PyTorch -----------------------------------------------------------------------------
def _torch(spec: Spec) -> Iterator[Diagnostic]:
    sw = spec.software
    found = _pinned(spec, "torch")
    if found is None:
        return
    path, version = found
    torch_minor = f"{version.major}.{version.minor}"
    build, how = _torch_build(spec, version, torch_minor)
    label = (
        f"torch {version}"
        if version.local
        else f"torch {version} ({how})"
        if build
        else f"torch {version}"
    )
    gpu_env = sw.cuda is not None
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
    published = t.torch_builds(torch_minor)
    if published is None:
        if gpu_env:
            yield Diagnostic(
                f"torch {torch_minor} is not known to envparity",
                path,
                f"known torch versions: {', '.join(t.TORCH_CUDA_BUILDS)} (see {DOCS})",
                severity="warning",
            )
        return
    if build not in published:
        yield Diagnostic(
            f"torch {version.base_version} has no {build} build on download.pytorch.org",
            path,
            f"use one of its builds: {', '.join(published)}",
        )
        return
    built_with = t.build_cuda(build)
    if not gpu_env or built_with is None:
        return
    yield from _torch_driver(spec, path, label, built_with)
    if built_with != t.cuda_minor(sw.cuda):  # type: ignore[arg-type]
        cuda_build = "cu" + "".join(map(str, t.cuda_minor(sw.cuda) or ()))  # type: ignore[arg-type]
        alt = (
            f"torch=={version.base_version}+{cuda_build}"
            if cuda_build in published
            else "a torch build for it"
        )
        yield Diagnostic(
            f"{label} bundles CUDA {_dotted(built_with)} while cuda is {sw.cuda}: "
            "the image carries two CUDA runtimes",
            path,
            f"use {alt}, or a cuda {_dotted(built_with)} release",
            severity="warning",
        )
    yield from _torch_arches(spec, path, label, torch_minor, build, built_with)


def _torch_build(spec: Spec, version: Version, torch_minor: str) -> tuple[str | None, str]:
    """The build ('cu124', 'cpu') and how it was found: local label, index URL, or PyPI default."""
    if version.local:
        return version.local, "local version label"
    for url in spec.software.package_indexes:
        last = url.rstrip("/").rsplit("/", 2)
        if len(last) == 3 and last[1] == "whl" and (last[2] == "cpu" or t.build_cuda(last[2])):
            return last[2], f"from {url}"
    default = t.torch_pypi_default_build(torch_minor)
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
    floor = sw.driver or t.min_driver_for_cuda(sw.cuda)  # type: ignore[arg-type]
    if needed is None or floor is None or t.driver_at_least(floor, needed):
        return
    whose = (
        f"driver is {sw.driver}" if sw.driver else f"cuda {sw.cuda} only guarantees driver {floor}"
    )
    yield Diagnostic(
        f"{label} needs NVIDIA driver {needed} or newer (CUDA {_dotted(built_with)}); {whose}",
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
                    _torch_for_gpu_hint(gpu, cap),
                )
        elif t.cuda_supports_capability(_dotted(built_with), cap) is False:
            yield Diagnostic(
                f"{label} is built with CUDA {_dotted(built_with)}, which cannot target {gpu} "
                f"({t.sm(cap)})",
                path,
                _torch_for_gpu_hint(gpu, cap),
            )


def _torch_for_gpu_hint(gpu: str, cap: tuple[int, int]) -> str:
    """The oldest torch build whose CUDA (and arch list, where known) covers `cap`."""
    for torch_minor, builds in t.TORCH_CUDA_BUILDS.items():
        for build in builds:
            arches = t.torch_build_arches(torch_minor, build)
            built_with = t.build_cuda(build)
            ok = (
                any(a[0] == cap[0] and a[1] <= cap[1] for a in arches)
                if arches is not None
                else built_with is not None and t.cuda_supports_capability(_dotted(built_with), cap)
            )
            if ok:
                return (
                    f"use a torch build that supports {gpu}, e.g. torch {torch_minor} with "
                    f"{build}, or remove {gpu} from gpus"
                )
    return f"remove {gpu} from gpus"


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
                    f"known extras: {', '.join(f'jax[{e}]' for e in t.JAX_CUDA_EXTRAS)}",
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
                    if f"cuda{cuda_major}" in t.JAX_CUDA_EXTRAS
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
def _pinned(spec: Spec, project: str) -> tuple[tuple, Version] | None:
    """(path, version) of the exact pin of `project` in python_packages, or None."""
    for index, text in enumerate(spec.software.python_packages):
        req = parse(text)  # the loader has already checked and normalised every pin
        pin = pinned_version(req) if canonicalize_name(req.name) == project else None
        if pin is None:
            continue
        try:
            version = Version(pin)
        except InvalidVersion:
            return None
        return _item_path(
            spec, "python_packages", lambda raw: name_of(raw) == project, index
        ), version
    return None


def _item_path(spec: Spec, field: str, match: Callable[[str], bool], fallback: int) -> tuple:
    """The path of the list item of `field` as the file wrote it (the model sorts lists)."""
    if spec.positions is not None:
        for path, text in spec.positions.raw.items():
            if len(path) == 2 and path[0] == field and isinstance(path[1], int) and match(text):
                return path
    return (field, fallback)


def _dotted(minor: tuple[int, int]) -> str:
    return f"{minor[0]}.{minor[1]}"
