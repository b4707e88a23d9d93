"""Base image tags: NVIDIA publishes an nvidia/cuda tag for the spec's CUDA, cuDNN, flavour and OS.

A tag the snapshot lacks is an error only where it knows the tag does not exist (its tag list
for that release and flavour is complete, `Tables.tag_known_absent`); otherwise a warning that
says how to refresh the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator

from envparity.core import cuda_image
from envparity.core.compat.common import REFRESH, distance
from envparity.core.compat.cuda import suggestions
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge import version_key
from envparity.core.knowledge.tables import Tables
from envparity.core.model import Spec


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t = spec.software, spec.tables
    if sw.cuda is None or t.min_driver_for_cuda(sw.cuda) is None:
        return
    if sw.base_image is not None:
        yield from _written_tag(t, sw.base_image)
        return
    flavor = sw.cuda_flavor or "runtime"
    written_os = spec.positions is None or ("os",) in spec.positions.values
    os_path = ("os",) if written_os else ("cuda",)
    if t.cuda_base_image(sw.cuda, None, sw.os, flavor) is None:
        elsewhere = [
            o
            for o in t.image_oses_for_cuda(sw.cuda)
            if t.cuda_base_image(sw.cuda, sw.cudnn, o, flavor)
        ]
        nearest = _nearest_tags(t, sw.cuda, None, sw.os, flavor)
        instead = suggestions(spec, sw.cuda)
        if elsewhere:
            ref = t.cuda_base_image(sw.cuda, sw.cudnn, elsewhere[0], flavor)
            hint = f"use os: {elsewhere[0]} (it has {ref})"
        elif instead:
            hint = f'use cuda: "{instead[0]}" (it has images on {sw.os})'
        else:
            hint = "set base_image to an image with this CUDA, or pick another cuda/os"
        tag = f"{sw.cuda}-{flavor}-{sw.os}"
        nearby = f"; nearest: {', '.join(tag for _, tag in nearest[:3])}" if nearest else ""
        if not t.tag_known_absent(sw.cuda, sw.os, flavor):
            yield _unlisted(t, f"nvidia/cuda:{tag}", os_path, nearby)
            return
        yield Diagnostic(f"nvidia/cuda has no tag {tag}{nearby}", os_path, hint)
        return
    if (
        sw.cudnn is not None
        and flavor != "base"  # cuda_image.check reports cuDNN on a base image
        and t.cuda_base_image(sw.cuda, sw.cudnn, sw.os, flavor) is None
    ):
        majors = t.cudnn_majors(sw.cuda, sw.os, flavor)
        nearest = _nearest_tags(t, sw.cuda, sw.cudnn, sw.os, flavor)
        instead = suggestions(spec, sw.cuda)
        if majors:
            hint = f'use cudnn: "{majors[-1]}"'
        elif instead:
            hint = f'use cuda: "{instead[0]}" (it has cuDNN {sw.cudnn} images on {sw.os})'
        else:
            hint = "remove cudnn, or set base_image to an image that has it"
        offered = f"cuDNN {', '.join(majors)}" if majors else "no cuDNN"
        if not t.tag_known_absent(sw.cuda, sw.os, f"cudnn-{flavor}"):
            nearby = f"; nearest: {', '.join(tag for _, tag in nearest[:3])}" if nearest else ""
            what = f"nvidia/cuda cuDNN {sw.cudnn} {flavor} tag for CUDA {sw.cuda} on {sw.os}"
            yield _unlisted(t, what, ("cudnn",), nearby)
            return
        yield Diagnostic(
            f"nvidia/cuda has no cuDNN {sw.cudnn} {flavor} tag for CUDA {sw.cuda} on {sw.os} "
            f"(its tags have {offered})"
            + (f"; nearest: {', '.join(tag for _, tag in nearest[:3])}" if nearest else ""),
            ("cudnn",),
            hint,
        )


def _written_tag(t: Tables, ref: str) -> Iterator[Diagnostic]:
    """An nvidia/cuda `base_image` is a tag NVIDIA publishes (else it fails at `docker pull`).

    Whether it agrees with cuda, cudnn, cuda_flavor and os is cuda_image.check's."""
    tag = cuda_image.parse(ref, t)
    if tag is None or t.min_driver_for_cuda(tag.cuda) is None:
        return  # not an nvidia/cuda tag, or a release the cuda rule reports
    if t.cuda_base_image(tag.cuda, tag.cudnn, tag.os, tag.flavor) is not None:
        return
    written = ref.split("@", 1)[0].split(":", 1)[1]
    suffix = f"cudnn-{tag.flavor}" if tag.cudnn else tag.flavor
    if not t.tag_known_absent(tag.cuda, tag.os, suffix):
        yield _unlisted(t, f"nvidia/cuda:{written}", ("base_image",), "")
        return
    nearest = _nearest_tags(t, tag.cuda, tag.cudnn, tag.os, tag.flavor)
    yield Diagnostic(
        f"nvidia/cuda has no tag {written}"
        + (f"; nearest: {', '.join(tag for _, tag in nearest[:3])}" if nearest else ""),
        ("base_image",),
        "use a tag NVIDIA publishes, with cuda, cudnn, cuda_flavor and os to match"
        + (f", e.g. nvidia/cuda:{nearest[0][1]}" if nearest else ""),
    )


def _unlisted(t: Tables, what: str, path: tuple, nearby: str) -> Diagnostic:
    """The warning for a tag the snapshot neither lists nor knows to be absent."""
    return Diagnostic(
        f"the {what} is not listed in the knowledge snapshot ({t.snapshot.generated}), whose "
        f"tag list for it is not complete: it may exist{nearby}",
        path,
        f"{REFRESH}, or check the tag on Docker Hub before building",
        severity="warning",
    )


def _nearest_tags(
    t: Tables, cuda: str, cudnn: str | None, os: str, flavor: str = "runtime"
) -> list[tuple[str, str]]:
    """(cuda, tag) of existing `flavor` tags on `os` with that cuDNN, nearest release first."""
    key = version_key(cuda)
    found = []
    for other in t.image_cudas(os):
        ref = t.cuda_base_image(other, cudnn, os, flavor)
        if ref and t.min_driver_for_cuda(other):
            found.append((distance(version_key(other), key), other, ref.split(":", 1)[1]))
    return [(c, tag) for _, c, tag in sorted(found)]
