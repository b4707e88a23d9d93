"""Truss' config.yaml (truss/base/truss_config.py)."""

from __future__ import annotations

import re
from pathlib import Path

from envparity.core import cuda_image, facts
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
    _secret_names,
    _start,
)

TRUSS_CUDA, TRUSS_CUDNN, TRUSS_OS = "12.2.2", "8", "ubuntu20.04"


def _truss(path: Path, data: dict) -> Draft:
    draft = Draft("Truss", str(path))
    _start(draft, data.get("model_name") or path.parent.name, data.get("description"))
    base = data.get("base_image") if isinstance(data.get("base_image"), dict) else {}
    image = str(base.get("image") or "")
    version = str(data.get("python_version") or "")
    written = f"3.{version[3:]}" if version.startswith("py3") else None
    tagged = re.search(r"(?:^|[-:_])py(?:thon)?(3\.[0-9]+)(?:$|[-_.])", image.split("/")[-1])
    if tagged and tagged[1] != written:
        _python(draft, tagged[1], "base_image.image")
        draft.notes.append(
            f"Python {tagged[1]} is the one the tag of base_image names; python_version "
            f"{version or '(none)'} is not what Truss runs there"
        )
    else:
        _python(draft, written, "python_version")
    resources = data.get("resources") or {}
    accelerator = str(resources.get("accelerator") or "")
    gpu = bool(resources.get("use_gpu")) or bool(accelerator)
    name, _, n = accelerator.partition(":")
    count = int(n) if n.isdigit() and int(n) > 0 else 1
    if image:
        _truss_base_image(draft, image, base, gpu)
    elif gpu:
        draft.fields["cuda"] = TRUSS_CUDA
        draft.fields["cudnn"] = TRUSS_CUDNN
        draft.fields["cuda_flavor"] = "runtime"
        draft.fields["os"] = TRUSS_OS
        draft.notes.append(
            f"Truss runs GPU models on nvidia/cuda:{TRUSS_CUDA}-base-{TRUSS_OS} plus cuDNN "
            f"{TRUSS_CUDNN}; the official tag with both is the cudnn{TRUSS_CUDNN}-runtime one"
        )
    if gpu:
        products = facts.gpu_products(name.replace("_", "-")) if name else None
        if products:
            draft.fields["gpus"] = list(products)
        elif name:
            draft.lost.append(f"resources.accelerator: {accelerator} (not a GPU envparity knows)")
        if count > 1:
            draft.notes.append(
                f"run.gpus {count}: the count of resources.accelerator {accelerator}"
            )
    _list_field(draft, "system_packages", data.get("system_packages"))
    lines = _package_lines(draft, data.get("requirements"), "requirements")
    draft.fields["python_packages"] = lines.pins
    relative = data.get("requirements_file")
    if relative and _requirements_file(draft, path, relative) is not None:
        draft.fields["python_requirements"] = data["requirements_file"]
    _indexes(draft, lines.indexes)
    _env(draft, data.get("environment_variables"))
    draft.lost.append(
        "the model class in model/model.py (served by Truss's server: set run.command)"
    )
    if isinstance(data.get("build"), dict):
        draft.lost.append(
            f"build: {_one_line(data['build'])} (Truss' model-server build block; it does not "
            "change the image's software)"
        )
    secrets = _secret_names(draft, list((data.get("secrets") or {}).keys()), "secrets")
    _lost_rest(
        draft,
        data,
        {
            "model_name",
            "description",
            "python_version",
            "resources",
            "system_packages",
            "requirements",
            "requirements_file",
            "environment_variables",
            "secrets",
            "base_image",
            "build",
        },
    )
    _lost_rest(draft, base, {"image", "python_executable_path"}, prefix="base_image.")
    if data.get("base_image") and not base:
        draft.lost.append(f"base_image: {_one_line(data['base_image'])} (not a mapping with image)")
    _run_and_stages(
        draft, count if gpu else 0, None, resources.get("cpu"), resources.get("memory"), secrets
    )
    return draft


def _truss_base_image(draft: Draft, image: str, base: dict, gpu: bool) -> None:
    """A Truss base_image replaces Truss' own CUDA image: only what its tag says is claimed."""
    draft.fields["base_image"] = image
    exe = base.get("python_executable_path")
    draft.notes.append(
        f"base_image {image} replaces Truss' default image, so its CUDA {TRUSS_CUDA}, cuDNN "
        f"{TRUSS_CUDNN} and {TRUSS_OS} are not claimed"
        + (
            f"; Truss runs the image's {exe}: envparity uses the image's Python when it is "
            f"python {draft.fields['python']} and installs that Python otherwise, so check it"
            if exe
            else ""
        )
    )
    tag = cuda_image.parse(image)
    if tag is not None:  # an official nvidia/cuda image: its tag says it all
        draft.fields["cuda"] = tag.cuda
        if tag.cudnn:
            draft.fields["cudnn"] = tag.cudnn
        draft.fields["cuda_flavor"], draft.fields["os"] = tag.flavor, tag.os
        return
    written = re.search(r"cuda-?([0-9]+\.[0-9]+(?:\.[0-9]+)?)", image.split("/")[-1])
    if written:
        minor = tuple(int(p) for p in written[1].split(".")[:2])
        release = _cuda_release(draft, minor, written[1])
        if release:
            draft.fields["cuda"] = release
            draft.notes.append(f"cuda {release}: the CUDA the tag of base_image names")
            return
    if gpu:
        draft.notes.append(
            f"the CUDA inside {image} is not known: set cuda to it (validate refuses GPUs "
            "without it)"
        )
