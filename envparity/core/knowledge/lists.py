"""Lookups over what the snapshot says about its own completeness, and the torchvision/
torchaudio release that goes with each torch release (issue 21).

Read from the snapshot in use; an older snapshot without these sections answers "not
known" (False / None), which keeps a missing tag or build a warning.
"""

from __future__ import annotations

import re

from envparity.core import knowledge

COMPANIONS = ("torchvision", "torchaudio")


def _flavor(suffix: str) -> str:
    """'cudnn9-runtime' -> 'cudnn-runtime': cuDNN markers fold into one flavour."""
    return re.sub(r"^cudnn\d*-", "cudnn-", suffix)


def tags_complete(cuda: str, os: str, suffix: str, image: str = "nvidia/cuda") -> bool:
    """Whether the snapshot lists every `image` tag of this kind for CUDA `cuda` on `os`
    (`suffix` as in '12.8.1-<suffix>-ubuntu24.04': 'runtime', 'cudnn-devel', ...): then a
    tag it lacks does not exist."""
    rows = knowledge.current().data.get("image_lists", {}).get(image, [])
    flavor = _flavor(suffix)
    return any(r["cuda"] == cuda and r["os"] == os and flavor in r["complete"] for r in rows)


def companions(torch: str) -> dict[str, str] | None:
    """{'torchvision': ..., 'torchaudio': ...} released with torch `torch` (public version),
    or None when not known."""
    for row in knowledge.current().data.get("torch_companions", []):
        if row["torch"] == torch:
            return {p: row[p] for p in COMPANIONS if row.get(p)}
    return None


def torch_for(project: str, version: str) -> str | None:
    """The torch release a torchvision/torchaudio `version` was released with, or None."""
    for row in knowledge.current().data.get("torch_companions", []):
        if row.get(project) == version:
            return row["torch"]
    return None
