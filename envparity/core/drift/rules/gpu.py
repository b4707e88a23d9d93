"""GPU rules shared by the host and kubernetes targets: driver floor, product, architecture."""

from __future__ import annotations

from envparity.core.drift.findings import DRIFT, WARNING
from envparity.core.drift.outcome import Outcome
from envparity.core.knowledge import tables as compat_tables
from envparity.core.model import ResolvedStage


def _cuda(env: ResolvedStage) -> str | None:
    """The stage's CUDA runtime (`cuda`, or the CUDA a pinned torch build brings)."""
    from envparity.core.compat import cuda_runtime

    runtime = cuda_runtime(env.software)
    return runtime.version if runtime else None


def driver_floor(env: ResolvedStage) -> str | None:
    """The lowest NVIDIA driver the stage may run on: the spec's `driver`, else the floor of
    its CUDA runtime (`cuda`, or the CUDA a pinned torch build brings)."""
    if env.software.driver:
        return env.software.driver
    from envparity.core.compat import driver_floor as needed

    return needed(env.software)


def driver_ok(out: Outcome, obj: str, env: ResolvedStage, driver: str) -> None:
    floor = driver_floor(env)
    if floor is None:
        out.gap(
            obj,
            f"the driver floor of CUDA {_cuda(env)} is not known to envparity",
            "set `driver:` in the spec",
        )
        return
    try:
        ok = compat_tables.driver_at_least(driver, floor)
    except ValueError:
        out.differ(obj, "driver", f">= {floor}", driver, "the driver reports an unreadable version")
        return
    out.expect(
        obj,
        "driver",
        f">= {floor}",
        driver,
        f"upgrade the NVIDIA driver to {floor} or newer",
        same=ok,
    )


def product_ok(
    out: Outcome,
    obj: str,
    env: ResolvedStage,
    device_name: str,
    capability: tuple[int, int] | None,
) -> None:
    product = compat_tables.gpu_for_device_name(device_name)
    allowed = list(env.software.gpus)
    if product is None:
        out.differ(
            obj,
            "gpu",
            allowed or "a GPU CUDA supports",
            device_name,
            f"GPU {device_name!r} is not known to envparity; add it to "
            "the knowledge snapshot's gpus with its source, or run on a GPU the spec lists",
            severity=WARNING if not allowed else DRIFT,
        )
    elif allowed:
        out.expect(
            obj,
            "gpu",
            allowed,
            product,
            f"run on {' or '.join(allowed)}, or add {product} to `gpus` if CUDA supports it",
            same=product in allowed,
        )
    if product is not None and capability is None:
        capability = compat_tables.gpu_info(product).capability
    if capability is not None and _cuda(env):
        supported = compat_tables.cuda_supports_capability(_cuda(env), capability)
        if supported is None:
            out.gap(
                obj,
                f"whether CUDA {_cuda(env)} supports "
                f"{compat_tables.sm(capability)} is not known to envparity",
                "add the architecture to the knowledge snapshot's arch_support with its source",
            )
        else:
            out.expect(
                obj,
                "compute capability",
                f"supported by CUDA {_cuda(env)}",
                compat_tables.sm(capability)
                if not supported
                else f"supported by CUDA {_cuda(env)}",
                f"pick a CUDA release that targets {compat_tables.sm(capability)}",
                same=supported,
            )
