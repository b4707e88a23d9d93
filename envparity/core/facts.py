"""The facts the spec loader and `envparity import` ask for, in one place.

Everything here is a question to the compatibility knowledge (`Tables`, lookups over a
knowledge snapshot of envparity.core.knowledge) or, for Python releases, to the one small
table below. Each question takes the snapshot to ask: the spec's (`spec.tables`), or, for a
caller without a spec yet (`envparity import`), the one for the working directory.
"""

from __future__ import annotations

from envparity.core.knowledge.tables import UBUNTU_LTS, Tables
from envparity.core.knowledge.tables import build_cuda as tables_build_cuda

# Python "X.Y" -> the newest X.Y.Z that uv can install (the Ubuntu and CUDA bases get their
# Python from uv). Source: `uv python list --only-downloads --all-versions` of uv 0.13.9, the
# uv pinned in envparity/core/render/dockerfile.py (python-build-standalone, linux x86_64 gnu).
PYTHON_NEWEST_PATCH: dict[str, str] = {
    "3.8": "3.8.20",
    "3.9": "3.9.25",
    "3.10": "3.10.22",
    "3.11": "3.11.18",
    "3.12": "3.12.16",
    "3.13": "3.13.18",
    "3.14": "3.14.10",
    "3.15": "3.15.2",
}


def newest_python_patch(minor: str) -> str | None:
    """'3.12' -> '3.12.16'; None for a Python minor envparity does not know."""
    return PYTHON_NEWEST_PATCH.get(minor)


def known_python_minors() -> tuple[str, ...]:
    return tuple(PYTHON_NEWEST_PATCH)


def _tables(tables: Tables | None) -> Tables:
    return tables if tables is not None else Tables.for_folder()


# --- GPU product names ----------------------------------------------------------------------
def gpu_products(name: str, tables: Tables | None = None) -> tuple[str, ...] | None:
    """The products a spec's GPU name stands for, or None when it names none.

    A known product stands for itself; other spellings of its case too (`a10g`). A name that
    only leaves out the memory size (`V100`) stands for every `<name>-<size>GB` product when
    all of them have the same architecture, so no check can tell them apart.
    """
    t = _tables(tables)
    if t.gpu_info(name) is not None:
        return (name,)
    by_case = [p for p in t.gpu_products() if p.lower() == name.lower()]
    if by_case:
        return (by_case[0],)
    sized = [p for p in t.gpu_products() if _without_memory(p).lower() == name.lower()]
    if sized and len({t.gpu_info(p).capability for p in sized}) == 1:  # type: ignore[union-attr]
        return tuple(sorted(sized))
    return None


def gpu_names(tables: Tables | None = None) -> tuple[str, ...]:
    """Every GPU product name envparity knows, sorted."""
    return _tables(tables).gpu_products()


def _without_memory(product: str) -> str:
    head, _, tail = product.rpartition("-")
    return head if head and tail.endswith("GB") and tail[:-2].isdigit() else product


def gpu_aliases(tables: Tables | None = None) -> dict[str, tuple[str, ...]]:
    """Every short name that stands for several products, e.g. {'V100': (V100-16GB, V100-32GB)}."""
    t = _tables(tables)
    out: dict[str, tuple[str, ...]] = {}
    known = set(t.gpu_products())
    for product in sorted(known):
        short = _without_memory(product)
        if short != product and short not in known:
            products = gpu_products(short, t)
            if products:
                out[short] = products
    return out


# --- CUDA, cuDNN and nvidia/cuda images ------------------------------------------------------
def cuda_image(
    cuda: str, cudnn: str | None, os: str, flavor: str, tables: Tables | None = None
) -> str | None:
    """The official nvidia/cuda tag for the combination, or None when NVIDIA publishes none."""
    return _tables(tables).cuda_base_image(cuda, cudnn, os, flavor)


def cuda_image_oses() -> tuple[str, ...]:
    """The OSes with known nvidia/cuda images, newest Ubuntu first."""
    return UBUNTU_LTS


def cudnn_in_images(cuda: str, os: str, tables: Tables | None = None) -> str | None:
    """The cuDNN major of the cuDNN tags of CUDA `cuda` on `os`, or None when they have none."""
    t = _tables(tables)
    majors = t.cudnn_majors(cuda, os, "runtime") or t.cudnn_majors(cuda, os, "devel")
    return majors[-1] if majors else None


def cuda_releases_of_minor(minor: tuple[int, int], tables: Tables | None = None) -> tuple[str, ...]:
    """Exact CUDA releases X.Y.Z with nvidia/cuda images for CUDA X.Y, newest first."""
    t = _tables(tables)
    found = {
        c
        for c in t.cuda_releases()
        if t.cuda_minor(c) == minor and t.image_oses_for_cuda(c) and t.min_driver_for_cuda(c)
    }
    return tuple(sorted(found, key=t.parse_version, reverse=True))


def torch_cuda_builds(torch_minor: str, tables: Tables | None = None) -> tuple[str, ...] | None:
    """The CUDA builds ('cu121', ...) published for torch 'X.Y', or None when not known."""
    return _tables(tables).torch_builds(torch_minor)


def build_cuda(build: str) -> tuple[int, int] | None:
    """'cu121' -> (12, 1)."""
    return tables_build_cuda(build)


def cudnn_major_of_marker(marker: str, tables: Tables | None = None) -> str | None:
    """'cudnn8' -> '8'; the plain 'cudnn' of newer tags -> '9'; None when not known."""
    return _tables(tables).cudnn_major(marker)
