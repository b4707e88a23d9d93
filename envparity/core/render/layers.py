"""The shared lock split into a few image layers, heaviest and most stable first.

A pin change rebuilds the layer that holds the package and every layer after it, so big
wheels (torch, the CUDA runtime, the scientific stack) go first and the many small,
often-moved packages last. The rule, from the sizes `envparity lock` records per package
(`# envparity-wheel-bytes:`, the largest file the index offers for the pinned version):

- `heavy`:  within 10x of the largest package of the lock;
- `medium`: 10x to 1000x smaller than the largest;
- `light`:  the rest, and every package whose size is unknown (0).

Empty layers are left out, so a lock of similar-sized packages is one layer. Integers
only: the same lock gives the same layers on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from envparity.core.lockfile import blocks, wheel_bytes

# (name, how many times smaller than the largest package a member may be at most).
TIERS = (("heavy", 10), ("medium", 1000))
LAST = "light"


@dataclass(frozen=True)
class Layer:
    """One dependency layer: its id (`1-heavy`), its packages, and its slice of the lock."""

    id: str
    packages: tuple[str, ...]
    lock: str

    @property
    def context_name(self) -> str:
        """The slice's file name in the build context; wheels go in wheelhouse/<id>/."""
        return f"requirements.{self.id}.lock"


def split(lock: str) -> list[Layer]:
    """The layers of a shared lock text, in install order; [] for a lock without packages."""
    header = "".join(
        line for line in lock.splitlines(keepends=True) if line.startswith("--")
    )  # option lines (--extra-index-url): every slice needs them for an online install
    by_name = blocks(lock)
    sizes = {name: wheel_bytes(block) for name, block in by_name.items()}
    largest = max(sizes.values(), default=0)
    groups: dict[str, list[str]] = {}
    for name in sorted(by_name):
        groups.setdefault(_tier(sizes[name], largest), []).append(name)
    out = []
    for name in [tier for tier, _ in TIERS] + [LAST]:
        if name not in groups:
            continue
        layer_id = f"{len(out) + 1}-{name}"
        text = (
            f"# Layer {layer_id} of requirements.lock, made by `envparity render`: do not edit.\n"
            + header
            + "".join(by_name[p] for p in groups[name])
        )
        out.append(Layer(layer_id, tuple(groups[name]), text))
    return out


def _tier(size: int, largest: int) -> str:
    for name, factor in TIERS:
        if size > 0 and size * factor >= largest:
            return name
    return LAST
