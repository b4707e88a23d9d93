"""What the project expects of a stage beyond the spec itself (recorded digests, node pools)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from envparity.core.model import ResolvedStage


@dataclass(frozen=True)
class ExpectedNodePool:
    """The node group the stack program creates for the stage (components/node_pool.py)."""

    instance_type: str
    ami_type: str
    min_size: int
    max_size: int
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Expectations:
    """What the spec alone does not say but the project recorded or derives for the stage."""

    lock: Mapping[str, str] | None = None  # normalised name -> version, from the lock file
    promoted_digest: str | None = None  # sha256:... recorded by `envparity build --push`
    node_pool: ExpectedNodePool | None = None
    spec: str | None = None  # the spec's path as the user passed it (for hints)


def spec_file(env: ResolvedStage, exp: Expectations | None = None) -> str:
    """The spec's path for hints: as the user passed it, else the project's convention."""
    if exp is not None and exp.spec:
        return shlex.quote(exp.spec)
    return f"envspecs/{env.name}.yaml"
