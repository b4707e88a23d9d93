"""BentoML's bentofile.yaml and its service file (read with `ast`, never run)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from envparity.core import facts, named_file
from envparity.core.peer_import.draft import DEFAULT_PYTHON, Draft
from envparity.core.peer_import.steps import (
    _cuda_release,
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

BENTOML_PORT = 3000  # `bentoml serve` listens on 3000 by default
BENTOML_CUDNN = "8"  # BentoML builds GPU bentos FROM nvidia/cuda:<cuda_version>-cudnn8-runtime


def _bentoml(path: Path, data: dict) -> Draft:
    draft = Draft("BentoML", str(path))
    _start(draft, path.parent.name, data.get("description"))
    docker = data.get("docker") or {}
    python = data.get("python") or {}
    if docker.get("python_version"):
        _python(draft, str(docker["python_version"]), "docker.python_version")
    else:
        _python(draft, DEFAULT_PYTHON, None)
        draft.notes.append(
            "BentoML uses the Python that runs `bentoml build`; "
            f"Python {DEFAULT_PYTHON} was assumed"
        )
    service = data.get("service")
    cuda = docker.get("cuda_version")
    gpus = 0
    if cuda:
        parts = tuple(int(p) for p in str(cuda).split(".")[:2])
        release = _cuda_release(draft, parts, str(cuda))
        if release:
            draft.fields["cuda"] = release
            os = next(
                (
                    o
                    for o in facts.cuda_image_oses()
                    if facts.cuda_image(release, BENTOML_CUDNN, o, "runtime")
                ),
                None,
            )
            if os:
                draft.fields["cudnn"] = BENTOML_CUDNN
                draft.fields["cuda_flavor"] = "runtime"
                draft.fields["os"] = os
                draft.notes.append(
                    f"cuda {release} from docker.cuda_version {cuda}, with cuDNN {BENTOML_CUDNN} "
                    f"as BentoML's nvidia/cuda:...-cudnn{BENTOML_CUDNN}-runtime base image has"
                )
            else:
                draft.notes.append(
                    f"cuda {release} from docker.cuda_version {cuda}; no cudnn: nvidia/cuda has "
                    f"no cuDNN {BENTOML_CUDNN} runtime image of it that envparity knows"
                )
            gpus = _bentoml_gpus(draft, path, service)
    else:
        draft.notes.append(
            "no docker.cuda_version: imported as CPU-only (a GPU whose CUDA comes from the torch "
            "wheels cannot be written in a spec yet)"
        )
    if docker.get("distro"):
        draft.lost.append(f"docker.distro: {docker['distro']} (envparity picks the OS from cuda)")
    _list_field(draft, "system_packages", docker.get("system_packages"))
    lines = _package_lines(draft, python.get("packages"), "python.packages")
    draft.fields["python_packages"] = lines.pins
    requirements: list[str] = []
    if python.get("requirements_txt"):
        relative = str(python["requirements_txt"]).removeprefix("./")
        found = _requirements_file(draft, path, relative)
        if found is not None:
            draft.fields["python_requirements"] = relative
            requirements = found
    indexes = [u for u in [python.get("index_url")] if u] + list(
        python.get("extra_index_url") or []
    )
    _indexes(draft, [*indexes, *lines.indexes])
    env, secrets = _bentoml_env(draft, path, docker.get("env"))
    for item in data.get("envs") or []:
        if not (isinstance(item, dict) and item.get("name")):
            draft.lost.append(f"envs: {_one_line(item)} (not a mapping with a name)")
        elif item.get("value") is None:  # no value (or null): set at deploy time, a secret
            secrets.append(str(item["name"]))
        else:
            env[str(item["name"])] = str(item["value"])
    if env:
        draft.fields["env"] = env
    _lost_rest(draft, data, {"service", "description", "docker", "python", "envs"})
    _lost_rest(
        draft,
        python,
        {"packages", "requirements_txt", "index_url", "extra_index_url"},
        prefix="python.",
    )
    _lost_rest(
        draft,
        docker,
        {"python_version", "cuda_version", "distro", "system_packages", "env"},
        prefix="docker.",
    )
    command = ["bentoml", "serve", str(service)] if service else None
    if command:
        _serving_package(draft, "bentoml", lines.pins + requirements)
    secrets = _secret_names(draft, secrets, "envs")
    _run_and_stages(
        draft, gpus, command, None, None, secrets, port=BENTOML_PORT if command else None
    )
    return draft


def _bentoml_gpus(draft: Draft, path: Path, service: Any) -> int:
    """GPUs per replica: `resources={"gpu": N}` of the service class, read as text, else 1."""
    module, _, name = str(service or "").partition(":")
    relative = module.removesuffix(".py").replace(".", "/") + ".py"
    file = path.parent / relative
    text, _ = named_file.read(str(path), relative, (), relative)
    try:
        tree = ast.parse(text) if text is not None else None
    except (SyntaxError, ValueError):
        tree = None
    for node in ast.walk(tree) if tree else ():
        if not isinstance(node, ast.ClassDef | ast.FunctionDef) or (name and node.name != name):
            continue
        for deco in node.decorator_list:
            resources = _service_resources(deco)
            if resources is None:
                continue
            gpu = resources.get("gpu")
            if isinstance(gpu, int) and not isinstance(gpu, bool) and gpu >= 0:
                kind = str(resources.get("gpu_type") or "")
                product = kind.lower().removeprefix("nvidia-").removeprefix("tesla-")
                products = facts.gpu_products(product) if product else None
                if products:
                    draft.fields["gpus"] = list(products)
                draft.notes.append(
                    f"run.gpus {gpu}: resources of @bentoml.service on {node.name} in {file.name}"
                    + (f" (gpu_type {kind})" if kind else "")
                )
                return gpu
    draft.notes.append(
        f"run.gpus 1: docker.cuda_version asks for a GPU, and no @bentoml.service(resources="
        f'{{"gpu": N}}) was found in {file.name}: set run.gpus to what the service needs'
    )
    return 1


def _service_resources(deco: ast.expr) -> dict | None:
    """The literal `resources=` of a `@bentoml.service(...)` / `@service(...)` decorator."""
    if not isinstance(deco, ast.Call):
        return None
    func = deco.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called != "service":
        return None
    for keyword in deco.keywords:
        if keyword.arg == "resources":
            try:
                value = ast.literal_eval(keyword.value)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _bentoml_env(draft: Draft, path: Path, env: Any) -> tuple[dict[str, str], list[str]]:
    """docker.env as a mapping, a list (`NAME=value`, or a bare NAME: a secret) or a dotenv path."""
    out: dict[str, str] = {}
    secrets: list[str] = []
    if isinstance(env, dict):
        return {str(k): str(v) for k, v in env.items() if v is not None}, [
            str(k) for k, v in env.items() if v is None
        ]
    if isinstance(env, str):
        text, _ = named_file.read(str(path), env, (), env)
        if text is None:  # missing, or not a file a peer may name (outside, a device)
            draft.lost.append(
                f"docker.env: {env} (a dotenv file that is not beside {path.name}: "
                "write its variables under env)"
            )
            return out, secrets
        draft.notes.append(f"env from the dotenv file {env} (docker.env)")
        env = [line.strip().removeprefix("export ").strip() for line in text.splitlines()]
        env = [line for line in env if line and not line.startswith("#")]
    if isinstance(env, list):
        for item in env:
            name, eq, value = str(item).partition("=")
            name, value = name.strip(), value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            if eq:
                out[name] = value
            else:
                secrets.append(name)  # a name without a value is given at run time
    elif env:
        draft.lost.append(f"docker.env: {_one_line(env)} (not a mapping, list or dotenv path)")
    return out, secrets


def _serving_package(draft: Draft, package: str, pins: list[str]) -> None:
    """run.command runs the peer's server: its package must be in the image, pinned."""
    if any(re.match(rf"\s*{package}\s*(?:[=<>!~\[;@]|$)", p, re.I) for p in pins):
        return
    draft.fields["python_packages"] = [*draft.fields["python_packages"], package]
    draft.notes.append(
        f"{package} added to python_packages: run.command (`{package} serve`) needs it, and "
        f"the peer file does not pin it: pin it (=={'<version>'}) to the version you build with"
    )
