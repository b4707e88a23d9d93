"""Compatibility knowledge as data: which snapshot is in use, loaded lazily and cached.

A snapshot is one JSON file (format in docs/compatibility.md): the packaged
`envparity/core/knowledge/snapshot.json`, or a team's `.envparity/knowledge.json` written by
`envparity knowledge refresh`. The team snapshot wins when one is found walking up from
the spec's directory (or the working directory) to its project root (`core/project.py`),
never above; `ENVPARITY_KNOWLEDGE=PATH` names a file
outright. There is no snapshot "in use": the loader finds the one for a spec's folder and
the spec carries it (docs/architecture.md: data flows one way), so loading a spec from
another folder never changes what other specs see. Nothing is read until asked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from envparity.core.diagnostics import UserError
from envparity.core.project import project_root

PACKAGED = Path(__file__).with_name("snapshot.json")
TEAM_FILE = Path(".envparity") / "knowledge.json"
FORMAT = 1


class KnowledgeError(UserError):
    """A snapshot file that cannot be used (unreadable, not JSON, other format)."""


def locate(start: str | Path | None = None) -> tuple[Path, str]:
    """(path, kind) of the snapshot for folder `start` (default: the working directory).

    kind is 'env' (ENVPARITY_KNOWLEDGE), 'team' (.envparity/knowledge.json found from
    `start` upwards) or 'packaged'.
    """
    named = os.environ.get("ENVPARITY_KNOWLEDGE")
    if named:
        return Path(named), "env"
    here = Path(start or Path.cwd()).resolve()
    root = project_root(here)
    # No higher than the project root: a snapshot planted in a shared parent (/tmp) is not ours.
    for directory in (here, *here.parents):
        candidate = directory / TEAM_FILE
        if candidate.is_file():
            return candidate, "team"
        if directory == root:
            break
    return PACKAGED, "packaged"


def find(start: str | Path | None = None) -> Knowledge:
    """The snapshot for folder `start` (see `locate`); each file is read once per process."""
    path, kind = locate(start)
    return _load(str(path), kind)


@cache
def _load(path: str, kind: str) -> Knowledge:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeError(
            f"{path}: cannot read the knowledge snapshot: {exc.strerror}"
        ) from None
    except ValueError as exc:
        raise KnowledgeError(f"{path}: the knowledge snapshot is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KnowledgeError(
            f"{path}: not a knowledge snapshot of format {FORMAT} "
            "(rerun `envparity knowledge refresh`)"
        )
    return Knowledge(data, Path(path), kind)


def version_key(text: str) -> tuple[int, ...]:
    """'12.4.1' -> (12, 4, 1); non-numeric parts sort first."""
    return tuple(int(p) if p.isdigit() else -1 for p in text.split("."))


@dataclass(frozen=True)
class Instance:
    """An EC2 instance type as the rules need it."""

    gpu: str | None  # a GPU product of the snapshot, or None for a CPU-only type
    gpu_count: int
    arch: str  # "x86_64" or "arm64"
    vcpus: int
    memory_mib: int
    max_pods: int


@dataclass(frozen=True)
class Wheels:
    """One build of one release of a project on one index."""

    project: str
    version: str  # public version, e.g. "2.7.1"
    build: str  # "cu128", "cpu", or "pypi" (the plain PyPI wheel)
    pythons: tuple[str, ...] | None  # CPython ABI tags ("cp312"); None when the copy did not say
    arches: tuple[str, ...] | None  # "x86_64", "aarch64"; None when the copy did not say
    sources: tuple[str, ...]
    pythons_from: str | None = None  # `pythons` is complete only from this tag up
    complete: bool = True  # False: the version may have builds the snapshot lacks


class Knowledge:
    """The facts of one snapshot, indexed on first use."""

    def __init__(self, data: dict[str, Any], path: Path, kind: str):
        self.data, self.path, self.kind = data, path, kind

    # --- provenance ---------------------------------------------------------------
    @property
    def generated(self) -> str:
        return self.data.get("generated", "")

    def age_days(self, today: date | None = None) -> int | None:
        try:
            made = date.fromisoformat(self.generated)
        except ValueError:
            return None
        return ((today or date.today()) - made).days

    @property
    def sources(self) -> dict[str, dict[str, str]]:
        return self.data.get("sources", {})

    # --- CUDA and drivers ---------------------------------------------------------
    @cached_property
    def cuda_drivers(self) -> dict[str, str]:
        rows = sorted(self.data["cuda_drivers"], key=lambda r: version_key(r["cuda"]))
        return {r["cuda"]: r["driver"] for r in rows}

    @cached_property
    def minor_floors(self) -> dict[tuple[int, ...], str]:
        """CUDA (major, minor) -> the lowest Table 3 floor among its releases."""
        out: dict[tuple[int, ...], str] = {}
        for cuda, driver in self.cuda_drivers.items():
            minor = version_key(cuda)[:2]
            if minor not in out or version_key(driver) < version_key(out[minor]):
                out[minor] = driver
        return out

    @cached_property
    def minor_compat(self) -> dict[int, str]:
        return {r["major"]: r["driver"] for r in self.data["cuda_minor_compat"]}

    @cached_property
    def image_tags(self) -> frozenset[str]:
        return frozenset(r["tag"] for r in self.data["images"]["nvidia/cuda"])

    @cached_property
    def images(self) -> dict[str, dict[str, set[str]]]:
        """os -> CUDA X.Y.Z -> the tag suffixes it has ('runtime', 'cudnn-devel', ...)."""
        out: dict[str, dict[str, set[str]]] = {}
        for tag in self.image_tags:
            parts = tag.split("-")
            if len(parts) < 3 or not parts[-1].startswith("ubuntu"):
                continue
            out.setdefault(parts[-1], {}).setdefault(parts[0], set()).add("-".join(parts[1:-1]))
        return out

    @cached_property
    def cuda_releases(self) -> tuple[str, ...]:
        """Every CUDA X.Y.Z the snapshot knows to exist: Table 3 rows and image tags."""
        seen = set(self.cuda_drivers)
        for by_cuda in self.images.values():
            seen.update(by_cuda)
        return tuple(sorted(seen, key=version_key))

    @cached_property
    def cudnn_markers(self) -> dict[str, str]:
        return {r["marker"]: r["cudnn_major"] for r in self.data["cudnn_markers"]}

    # --- GPUs ----------------------------------------------------------------------
    @cached_property
    def gpus(self) -> dict[str, dict[str, Any]]:
        return {r["product"]: r for r in self.data["gpus"]}

    @cached_property
    def arch_support(self) -> dict[tuple[int, int], tuple[tuple[int, int], tuple[int, int] | None]]:
        def minor(text: str | None) -> tuple[int, int] | None:
            return tuple(int(p) for p in text.split(".")) if text else None  # type: ignore[return-value]

        return {
            tuple(r["capability"]): (minor(r["first_cuda"]), minor(r["dropped_in"]))  # type: ignore[misc]
            for r in self.data["arch_support"]
        }

    # --- AWS -------------------------------------------------------------------------
    @cached_property
    def instances(self) -> dict[str, Instance]:
        return {
            r["name"]: Instance(
                r.get("gpu"),
                r.get("gpu_count", 0),
                r["arch"],
                r["vcpus"],
                r["memory_mib"],
                r["max_pods"],
            )
            for r in self.data["instance_types"]
        }

    @cached_property
    def eks_gpu_ami_types(self) -> dict[str, tuple[str, str | None]]:
        return {
            r["ami_type"]: (r["arch"], r["end_of_support"]) for r in self.data["eks_gpu_ami_types"]
        }

    # --- Python packages -----------------------------------------------------------------
    @cached_property
    def wheels(self) -> dict[tuple[str, str], dict[str, Wheels]]:
        """(project, version) -> build -> Wheels."""
        out: dict[tuple[str, str], dict[str, Wheels]] = {}
        for r in self.data["wheels"]:
            row = Wheels(
                r["project"],
                r["version"],
                r["build"],
                tuple(r["pythons"]) if r.get("pythons") is not None else None,
                tuple(r["arches"]) if r.get("arches") is not None else None,
                tuple(r["sources"]),
                r.get("pythons_from"),
                r.get("complete", True),
            )
            out.setdefault((row.project, row.version), {})[row.build] = row
        return out

    def releases(self, project: str) -> tuple[str, ...]:
        """Versions of `project` in the snapshot, oldest first."""
        found = {v for p, v in self.wheels if p == project}
        return tuple(sorted(found, key=version_key))

    @cached_property
    def pypi_default(self) -> dict[str, str]:
        return {r["torch"]: r["build"] for r in self.data["torch_pypi_default"]}

    @cached_property
    def build_arches(self) -> dict[tuple[str, str], tuple[tuple[int, int], ...]]:
        return {
            (r["torch"], r["build"]): tuple(tuple(c) for c in r["capabilities"])  # type: ignore[misc]
            for r in self.data["torch_build_arches"]
        }

    @cached_property
    def jax_extras(self) -> dict[str, int]:
        return {r["extra"]: r["cuda_major"] for r in self.data["jax_cuda_extras"]}

    def counts(self) -> dict[str, int]:
        """Entries per kind, for `knowledge show`."""
        return {
            "cuda_drivers": len(self.data["cuda_drivers"]),
            "nvidia/cuda tags": len(self.data["images"]["nvidia/cuda"]),
            "python tags": len(self.data["images"].get("python", [])),
            "wheels": len(self.data["wheels"]),
            "instance_types": len(self.data["instance_types"]),
            "gpus": len(self.data["gpus"]),
        }
