"""Compatibility rules: what the spec combines, judged against its knowledge snapshot.

`check_compatibility(spec)` returns every problem found as Diagnostics (errors and
warnings) with JSON paths; the loader turns paths into file:line:col. One module per rule
family; each reads the facts completion derived (`spec.completed`, complete.py) and asks
`spec.tables` (the lookups over the spec's snapshot), and only words the answers. Two
principles: never reject what exists (a value newer than the snapshot is a warning that
says how to refresh), and never suggest what would be rejected (every hint that proposes a
value names one that the same rules accept).
"""

from __future__ import annotations

from envparity.core.compat import cuda, gpus, images, jax, stages, torch, wheels
from envparity.core.diagnostics import Diagnostic
from envparity.core.model import Spec

RULES = (cuda.check, gpus.check, images.check, stages.check, wheels.check, torch.check, jax.check)


def check_compatibility(spec: Spec) -> list[Diagnostic]:
    """All compatibility errors and warnings of a loaded (completed) `spec`, in no order."""
    problems: list[Diagnostic] = []
    for rule in RULES:
        problems.extend(rule(spec))
    return problems
