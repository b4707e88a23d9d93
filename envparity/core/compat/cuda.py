"""CUDA and driver: the release exists, and `driver` is not below its floor."""

from __future__ import annotations

from collections.abc import Iterator

from envparity.core import cuda_image
from envparity.core.compat.common import DOCS, REFRESH, distance, gpu_ok
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge import version_key
from envparity.core.model import Spec


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t = spec.software, spec.tables
    if sw.cuda is None:
        if sw.driver is not None and spec.completed.cuda is None:  # type: ignore[union-attr]
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
        known = suggestions(spec, sw.cuda)
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
    floor = spec.completed.driver_floor or floor  # type: ignore[union-attr]
    if sw.driver is not None and not t.driver_at_least(sw.driver, floor):
        if sw.base_image is None or cuda_image.parse(sw.base_image, t):
            minor = t.dotted(t.cuda_minor(sw.cuda))  # type: ignore[arg-type]
            whose = (
                f" (its nvidia/cuda image requires a driver for CUDA {minor}: "
                f"NVIDIA_REQUIRE_CUDA cuda>={minor})"
            )
        else:
            whose = (
                "" if listed == sw.cuda else f" (the floor of {listed}, the newest listed update)"
            )
        yield Diagnostic(
            f"driver {sw.driver} is below the minimum {floor} that CUDA {sw.cuda} needs{whose}",
            ("driver",),
            f'use driver: "{floor}" or newer',
        )


def suggestions(spec: Spec, cuda: str) -> list[str]:
    """Existing releases nearest to `cuda` that the image and GPU rules also accept."""
    sw, t, torch = spec.software, spec.tables, spec.completed.torch  # type: ignore[union-attr]
    wheel_minor = t.build_cuda(torch.build) if torch and torch.build else None
    wheel_floor = t.wheel_driver_floor(wheel_minor) if wheel_minor else None

    def accepted(c: str) -> bool:
        floor = t.image_driver_floor(c) if sw.base_image is None else t.min_driver_for_cuda(c)
        if not floor or (
            sw.base_image is None
            and not t.cuda_base_image(c, sw.cudnn, sw.os, sw.cuda_flavor or "runtime")
        ):
            return False
        if sw.driver is not None and not t.driver_at_least(sw.driver, floor):
            return False
        if wheel_floor and not t.driver_at_least(sw.driver or floor, wheel_floor):
            return False
        return all(gpu_ok(t, g, c) for g in sw.gpus)

    usable = [c for c in t.cuda_releases() if accepted(c)]
    key = version_key(cuda)
    return sorted(usable, key=lambda c: (distance(version_key(c), key), version_key(c)))
