"""Official nvidia/cuda image references: what a tag says, and whether a spec agrees with it.

A tag is `X.Y.Z[-cudnnN]-<base|runtime|devel>-<os>` (NVIDIA's supported-tags list). A spec
whose `base_image` is such a tag must say the same CUDA, cuDNN, flavour and OS, so the
image's labels, the driver floor and the GPU checks describe the image that is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from envparity.core import facts
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge.tables import Tables

TAG = re.compile(
    r"(?:(?:docker\.io|nvcr\.io)/)?nvidia/cuda:(?P<cuda>[0-9]+\.[0-9]+\.[0-9]+)"
    r"(?:-(?P<cudnn>cudnn[0-9]*))?-(?P<flavor>base|runtime|devel)-(?P<os>[a-z]+[0-9.]+)"
    r"(?:@sha256:[a-f0-9]{64})?"
)


@dataclass(frozen=True)
class CudaTag:
    cuda: str
    cudnn: str | None  # the cuDNN major inside the image, None when it has none
    flavor: str
    os: str


def parse(ref: str, tables: Tables | None = None) -> CudaTag | None:
    """What an nvidia/cuda reference says, or None for any other image.

    `tables` reads the cuDNN marker (default: the working directory's snapshot).
    """
    match = TAG.fullmatch(ref)
    if match is None:
        return None
    marker = match["cudnn"]
    cudnn = (facts.cudnn_major_of_marker(marker, tables) or marker[5:] or None) if marker else None
    return CudaTag(match["cuda"], cudnn, match["flavor"], match["os"])


def check(data: dict[str, Any], tables: Tables) -> list[Diagnostic]:
    """The spec's cuda, cudnn, cuda_flavor and os against its nvidia/cuda base_image."""
    flavor, cudnn = data.get("cuda_flavor"), data.get("cudnn")
    ref = data.get("base_image")
    tag = parse(ref, tables) if isinstance(ref, str) else None
    if tag is None:
        if flavor == "base" and cudnn is not None and data.get("cuda"):
            return [
                Diagnostic(
                    "nvidia/cuda base images have no cuDNN, but cudnn is set",
                    ("cuda_flavor",),
                    "use cuda_flavor: runtime or devel, or remove cudnn",
                )
            ]
        return []
    where, out = ("base_image",), []
    cuda = data.get("cuda")
    if not isinstance(cuda, str):
        return [
            Diagnostic(
                f"base_image is an nvidia/cuda image with CUDA {tag.cuda}, but cuda is not set",
                where,
                f'set cuda: "{tag.cuda}" (the driver and GPU checks need it), '
                "or use a base image without CUDA",
            )
        ]
    if cuda != tag.cuda:
        out.append(
            Diagnostic(
                f"base_image has CUDA {tag.cuda} but cuda is {cuda}",
                where,
                f'set cuda: "{tag.cuda}", or use the nvidia/cuda tag of CUDA {cuda}',
            )
        )
    written = None if cudnn is None else str(cudnn)
    if written is not None and tag.cudnn is None:
        out.append(
            Diagnostic(
                f"base_image has no cuDNN but cudnn is {written}",
                where,
                f"use a cudnn tag of nvidia/cuda:{tag.cuda}, or remove cudnn",
            )
        )
    elif written is not None and written != tag.cudnn:
        out.append(
            Diagnostic(
                f"base_image has cuDNN {tag.cudnn} but cudnn is {written}",
                where,
                f'set cudnn: "{tag.cudnn}", or use a tag with cuDNN {written}',
            )
        )
    elif written is None and tag.cudnn is not None:
        out.append(
            Diagnostic(
                f"base_image has cuDNN {tag.cudnn} but the spec does not say so",
                where,
                f'add cudnn: "{tag.cudnn}" so the image labels and checks know it',
                severity="warning",
            )
        )
    if flavor is not None and flavor != tag.flavor:
        out.append(
            Diagnostic(
                f"base_image is a {tag.flavor} image but cuda_flavor is {flavor}",
                where,
                f"set cuda_flavor: {tag.flavor}, or use the {flavor} tag",
            )
        )
    os = data.get("os")
    if os is not None and os != tag.os:
        out.append(
            Diagnostic(
                f"base_image is built on {tag.os} but os is {os}",
                where,
                f"set os: {tag.os}, or use the {os} tag",
            )
        )
    elif os is None and tag.os not in facts.cuda_image_oses():
        out.append(
            Diagnostic(
                f"base_image is built on {tag.os}, an OS envparity does not know",
                where,
                f"use a tag of one of {', '.join(facts.cuda_image_oses())}",
            )
        )
    return out
