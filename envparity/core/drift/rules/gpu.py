"""GPU rules shared by the host and kubernetes targets: driver floor, product, architecture.

They read the resolved stage's completed facts (CUDA runtime, driver floor) and ask its
knowledge snapshot (`env.tables`) about what was observed; nothing is derived again.
"""

from __future__ import annotations

from envparity.core.drift.findings import DRIFT, WARNING
from envparity.core.drift.outcome import Outcome
from envparity.core.knowledge.tables import driver_at_least, sm
from envparity.core.model import ResolvedStage


def driver_floor(env: ResolvedStage) -> str | None:
    """The lowest NVIDIA driver the stage may run on: the spec's `driver`, else the floor of
    its CUDA runtime (`cuda`, or the CUDA a pinned torch build brings)."""
    return env.software.driver or env.completed.driver_floor


def driver_ok(out: Outcome, obj: str, env: ResolvedStage, driver: str) -> None:
    floor = driver_floor(env)
    if floor is None:
        out.gap(
            obj,
            f"the driver floor of CUDA {env.cuda_runtime} is not known to envparity",
            "set `driver:` in the spec",
        )
        return
    try:
        ok = driver_at_least(driver, floor)
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
    product = env.tables.gpu_for_device_name(device_name)
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
        capability = env.tables.gpu_info(product).capability
    cuda = env.cuda_runtime
    if capability is not None and cuda:
        supported = env.tables.cuda_supports_capability(cuda, capability)
        if supported is None:
            out.gap(
                obj,
                f"whether CUDA {cuda} supports {sm(capability)} is not known to envparity",
                "add the architecture to the knowledge snapshot's arch_support with its source",
            )
        else:
            out.expect(
                obj,
                "compute capability",
                f"supported by CUDA {cuda}",
                sm(capability) if not supported else f"supported by CUDA {cuda}",
                f"pick a CUDA release that targets {sm(capability)}",
                same=supported,
            )
