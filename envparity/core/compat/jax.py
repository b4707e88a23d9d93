"""JAX: a `jax[cudaN]` extra matches the environment's CUDA major."""

from __future__ import annotations

from collections.abc import Iterator

from packaging.utils import canonicalize_name

from envparity.core.compat.common import item_path
from envparity.core.diagnostics import Diagnostic
from envparity.core.model import Spec
from envparity.core.requirements import name_of, parse


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t = spec.software, spec.tables
    for index, text in enumerate(sw.python_packages):
        req = parse(text)  # the loader has already checked and normalised every pin
        if canonicalize_name(req.name) != "jax":
            continue
        path = item_path(spec, "python_packages", lambda raw: name_of(raw) == "jax", index)
        for extra in sorted(e for e in req.extras if e.startswith("cuda")):
            major = t.jax_cuda_major(extra)
            if major is None:
                yield Diagnostic(
                    f"jax[{extra}] is not known to envparity",
                    path,
                    f"known extras: {', '.join(f'jax[{e}]' for e in t.jax_extras())}",
                    severity="warning",
                )
                continue
            if sw.cuda is None:
                yield Diagnostic(
                    f"jax[{extra}] needs CUDA {major} but the environment is CPU-only (no cuda)",
                    path,
                    f"use plain jax for CPU, or set cuda to a {major}.x release",
                )
                continue
            cuda_major = t.cuda_minor(sw.cuda)[0]  # type: ignore[index]
            if cuda_major != major:
                fitting = (
                    f"jax[cuda{cuda_major}]"
                    if f"cuda{cuda_major}" in t.jax_extras()
                    else "plain jax"
                )
                yield Diagnostic(
                    f"jax[{extra}] is built for CUDA {major} but cuda is {sw.cuda}",
                    path,
                    f"use {fitting}, or a CUDA {major}.x release",
                )
            # No driver rule for jax: for CUDA 12 and 13 the floor of `cuda` is above the
            # minor-version floor of its major, so the check of `driver` already covers jax.
