"""GPU products: known, and targeted by the environment's CUDA runtime."""

from __future__ import annotations

from collections.abc import Iterator

from envparity.core.compat.common import item_path
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge.tables import Tables
from envparity.core.model import CudaRuntime, Spec


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t = spec.software, spec.tables
    runtime = spec.completed.cuda  # type: ignore[union-attr]
    if sw.gpus and runtime is None:
        yield Diagnostic(
            f"gpus lists {', '.join(sw.gpus)} but the environment has no CUDA: "
            "set cuda, or pin a CUDA build of torch",
            ("gpus",),
            'set cuda (e.g. cuda: "12.4.1"), or remove gpus for a CPU-only environment',
        )
        return
    for gpu in sw.gpus:
        path = item_path(spec, "gpus", lambda text, gpu=gpu: text == gpu, sw.gpus.index(gpu))
        info = t.gpu_info(gpu)
        if info is None:
            yield Diagnostic(
                f"GPU '{gpu}' is not known to envparity",
                path,
                f"use one of: {', '.join(t.gpu_products())}",
            )
            continue
        problem = _arch_problem(t, gpu, info.capability, runtime)  # type: ignore[arg-type]
        if problem:
            yield Diagnostic(problem[0], path, problem[1])


def _arch_problem(
    t: Tables, gpu: str, capability: tuple[int, int], runtime: CudaRuntime
) -> tuple[str, str] | None:
    """(message, hint) when the CUDA runtime cannot target `capability`, else None."""
    cuda = runtime.version
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
