"""An image against what it should hold: its Python, its distributions, its labels, its CUDA.

One comparison, two callers: `envparity build` verifies a new image with it (against the
lock), and the drift rules check running environments and provenance records with it
(against the spec's pins), so "the versions differ" means the same thing everywhere.
Pure: the facts come in as data (`ImageContents`, read by `envparity.adapters.image_probe`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from envparity.core.build_layout import VENV
from envparity.core.lockfile import Pin
from envparity.core.model import ResolvedStage
from envparity.core.names import image_labels

# What a virtualenv brings itself (ensurepip): checked only when the lock pins them.
VENV_TOOLS = frozenset({"pip", "setuptools", "wheel"})


@dataclass(frozen=True)
class ImageContents:
    python: str  # X.Y.Z of `python3` on the image's PATH
    prefix: str  # its sys.prefix (/opt/venv for envparity images)
    distributions: Mapping[str, str]  # canonical project name -> version


@dataclass(frozen=True)
class Difference:
    """One way the image differs from the spec; None means "absent" on that side."""

    what: str  # "python", "python prefix", "label ...", or a canonical distribution name
    expected: str | None
    found: str | None


def same_version(a: str, b: str | None) -> bool:
    """Whether two version strings name the same release (1.0 is 1.0.0); None is never."""
    if b is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def version_differences(
    wanted: Mapping[str, str], installed: Mapping[str, str], *, complete: bool = False
) -> list[Difference]:
    """The distributions of `wanted` installed at another version or not at all, by name.

    `complete`: also those installed that nothing wants (the image must be exactly the lock),
    except the virtualenv's own tools when nothing pins them.
    """
    names = wanted.keys() | installed.keys() if complete else wanted.keys()
    diffs = []
    for name in sorted(names):
        want, have = wanted.get(name), installed.get(name)
        if want is None:
            if name not in VENV_TOOLS:
                diffs.append(Difference(name, None, have))
        elif not same_version(want, have):
            diffs.append(Difference(name, want, have))
    return diffs


def compare(python: str, pins: Iterable[Pin], found: ImageContents) -> list[Difference]:
    """How the probed image differs from the spec's Python and the lock (empty: it matches)."""
    diffs: list[Difference] = []
    if found.python != python:
        diffs.append(Difference("python", python, found.python))
    if found.prefix != VENV:
        diffs.append(Difference("python prefix", VENV, found.prefix))
    expected = {pin.name: pin.version for pin in pins}
    return diffs + version_differences(expected, found.distributions, complete=True)


def compare_labels(env: ResolvedStage, labels: Mapping[str, str]) -> list[Difference]:
    """How the image's envparity labels differ from `env` (empty: they match)."""
    expected = image_labels(env.name, env.version, env.fingerprint)
    return [
        Difference(f"label {key}", value, labels.get(key))
        for key, value in expected.items()
        if labels.get(key) != value
    ]


def compare_cuda(env: ResolvedStage, found: ImageContents) -> list[Difference]:
    """For a stage whose CUDA comes from a wheel: the image's `nvidia-cuda-runtime-cuNN`
    distribution must be of that CUDA minor (empty when it is, or CUDA comes from `cuda`)."""
    if env.cuda_runtime is None or env.cuda_from in (None, "cuda"):
        return []
    major = env.cuda_runtime.split(".")[0]
    have = found.distributions.get(f"nvidia-cuda-runtime-cu{major}")
    if have is not None and have.split(".")[:2] == env.cuda_runtime.split("."):
        return []
    return [Difference(f"cuda runtime ({env.cuda_from})", env.cuda_runtime, have)]


def image_differences(
    env: ResolvedStage, pins: Iterable[Pin], labels: Mapping[str, str], found: ImageContents
) -> list[Difference]:
    """Everything an image of `env` with `labels` and contents `found` differs in from `env`
    and the lock's `pins` (empty: it matches)."""
    return (
        compare_labels(env, labels)
        + compare(env.software.python, pins, found)
        + compare_cuda(env, found)
    )
