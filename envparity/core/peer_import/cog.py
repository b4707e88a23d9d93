"""Cog's cog.yaml (pkg/config/config.go: validateAndCompleteCUDA)."""

from __future__ import annotations

import re
from pathlib import Path

from envparity.core import facts
from envparity.core.peer_import.draft import Draft
from envparity.core.peer_import.steps import (
    _cuda_release,
    _env,
    _indexes,
    _list_field,
    _lost_rest,
    _one_line,
    _package_lines,
    _python,
    _requirements_file,
    _run_and_stages,
    _start,
    _torch_index,
    _torch_minor,
)

COG_DEFAULT_CUDA = (11, 8)  # pkg/config/compatibility.go: defaultCUDA()


def _cog(path: Path, data: dict) -> Draft:
    draft = Draft("Cog", str(path))
    build = data.get("build") or data.get("environment") or {}
    _start(draft, path.parent.name, None)
    _python(draft, build.get("python_version"), "python_version")
    lines = _package_lines(draft, build.get("python_packages"), "build.python_packages")
    pins = lines.pins
    requirements = _requirements_file(draft, path, build.get("python_requirements"))
    gpu = bool(build.get("gpu")) or "gpu" in (build.get("architectures") or [])
    torch_index = None
    if gpu:
        torch = _torch_minor(pins + (requirements or []))
        builds = facts.torch_cuda_builds(torch) if torch else None
        written = str(build.get("cuda") or "")
        if re.fullmatch(r"[0-9]+\.[0-9]+(\.[0-9]+)?", written):
            minor = tuple(int(p) for p in written.split(".")[:2])
            why = f"build.cuda: {written}"  # Cog uses the written CUDA and fits torch to it
        elif torch and builds:
            minor = max(facts.build_cuda(b) for b in builds)
            why = f"the newest CUDA torch {torch} is built for"
        elif torch:
            minor = COG_DEFAULT_CUDA
            why = (
                f"Cog's default CUDA: envparity's tables do not know torch {torch}, so Cog's "
                "rule (the newest CUDA of that torch) could not be applied; check it"
            )
        else:
            minor, why = COG_DEFAULT_CUDA, "Cog's default CUDA when torch is not pinned"
        release = _cuda_release(draft, minor, written)
        if release:
            # Cog: the newest Ubuntu whose image has the newest cuDNN of that CUDA
            oses = [
                o for o in facts.cuda_image_oses() if facts.cuda_image(release, None, o, "devel")
            ]
            os = next((o for o in oses if facts.cudnn_in_images(release, o)), oses[0])
            cudnn = str(build.get("cudnn") or "") or facts.cudnn_in_images(release, os)
            draft.fields["cuda"] = release
            if cudnn:
                draft.fields["cudnn"] = cudnn
            draft.fields["cuda_flavor"] = "devel"
            draft.fields["os"] = os
            draft.notes.append(
                f"cuda {release}: {why}; cuDNN is the newest of its images and the image a "
                "devel one, as Cog does"
            )
            torch_index = _torch_index(draft, torch, builds, minor, pins + (requirements or []))
    _list_field(draft, "system_packages", build.get("system_packages"))
    draft.fields["python_packages"] = pins
    _indexes(draft, [*lines.indexes, *([torch_index] if torch_index else [])])
    if requirements is not None:
        draft.fields["python_requirements"] = build["python_requirements"]
    _env(draft, build.get("env") if isinstance(build.get("env"), dict) else None)
    for key in ("run", "pre_install"):
        if build.get(key):
            draft.lost.append(f"build.{key}: {_one_line(build[key])}")
    for key in ("predict", "train", "model", "run"):
        if isinstance(data.get(key), str):
            draft.lost.append(
                f"{key}: {data[key]} (served by Cog's own HTTP server, which is not in the "
                "spec: set run.command to your server)"
            )
    _lost_rest(draft, data, {"build", "environment", "predict", "train", "model", "run"})
    _lost_rest(
        draft,
        build,
        {
            "python_version",
            "python_packages",
            "python_requirements",
            "gpu",
            "system_packages",
            "env",
            "run",
            "pre_install",
            "cuda",
            "cudnn",
            "architectures",
        },
        prefix="build.",
    )
    _run_and_stages(draft, 1 if gpu else 0, None, None, None, None)
    return draft
