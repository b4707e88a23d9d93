"""GPU rules shared by the host and kubernetes targets: driver floor, product, architecture."""

from __future__ import annotations

from envparity import compat_tables
from envparity.drift.findings import DRIFT, WARNING
from envparity.drift.outcome import Outcome
from envparity.model import ResolvedStage


def driver_floor(env: ResolvedStage) -> str | None:
    """The lowest NVIDIA driver the stage may run on: the spec's `driver`, else CUDA's floor."""
    if env.software.driver:
        return env.software.driver
    return compat_tables.min_driver_for_cuda(env.software.cuda) if env.software.cuda else None


def driver_ok(out: Outcome, obj: str, env: ResolvedStage, driver: str) -> None:
    floor = driver_floor(env)
    if floor is None:
        out.gap(
            obj,
            f"the driver floor of CUDA {env.software.cuda} is not known to envparity",
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
            "compat_tables.GPUS with its source, or run on a GPU the spec lists",
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
    if capability is not None and env.software.cuda:
        supported = compat_tables.cuda_supports_capability(env.software.cuda, capability)
        if supported is None:
            out.gap(
                obj,
                f"whether CUDA {env.software.cuda} supports "
                f"{compat_tables.sm(capability)} is not known to envparity",
                "add the architecture to compat_tables.ARCH_SUPPORT with its source",
            )
        else:
            out.expect(
                obj,
                "compute capability",
                f"supported by CUDA {env.software.cuda}",
                compat_tables.sm(capability)
                if not supported
                else f"supported by CUDA {env.software.cuda}",
                f"pick a CUDA release that targets {compat_tables.sm(capability)}",
                same=supported,
            )
