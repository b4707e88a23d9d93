"""What the rule families share: where a finding points, and the GPU test hints use."""

from __future__ import annotations

from collections.abc import Callable

from envparity.core.knowledge.tables import Tables
from envparity.core.model import Spec
from envparity.core.requirements import name_of

DOCS = "docs/compatibility.md"
REFRESH = "run `envparity knowledge refresh` to update the team snapshot"


def item_path(spec: Spec, field: str, match: Callable[[str], bool], fallback: int) -> tuple:
    """The path of the list item of `field` as the file wrote it (the model sorts lists)."""
    if spec.positions is not None:
        for path, text in spec.positions.raw.items():
            if len(path) == 2 and path[0] == field and isinstance(path[1], int) and match(text):
                return path
    return (field, fallback)


def pin_path(spec: Spec, project: str, index: int) -> tuple:
    """The path of the pin of `project` (at `index` of python_packages) as written."""
    return item_path(spec, "python_packages", lambda raw: name_of(raw) == project, index)


def distance(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """How far apart two versions are, part by part (for "nearest first" suggestions)."""
    return tuple(abs(x - y) for x, y in zip(a + (0,) * 3, b + (0,) * 3, strict=False))[:3]


def gpu_ok(t: Tables, gpu: str, cuda: str) -> bool:
    """Whether CUDA `cuda` may target `gpu` (an unknown GPU or architecture is not judged)."""
    info = t.gpu_info(gpu)
    return info is None or t.cuda_supports_capability(cuda, info.capability) is not False
