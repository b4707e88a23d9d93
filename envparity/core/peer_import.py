"""`envparity import`: a spec from a Cog cog.yaml, a Truss config.yaml or a BentoML bentofile.yaml.

What the peer leaves implicit is resolved the way the peer does it:

- Cog (pkg/config/config.go, validateAndCompleteCUDA): with `gpu: true`, CUDA is the newest
  CUDA that the pinned torch version is built for (11.8 without torch), cuDNN the newest one
  of that CUDA's images, and the image is always a `devel` one; torch comes from the
  download.pytorch.org index of that CUDA.
- Truss: a GPU model runs on nvidia/cuda:12.2.2-base-ubuntu20.04 plus cuDNN 8; the official
  tag that holds both is 12.2.2-cudnn8-runtime-ubuntu20.04.
- BentoML: `docker.cuda_version` when given; else the environment is CPU-only here (a GPU
  whose CUDA comes from the torch wheels is not expressible yet).

Python "X.Y" becomes the newest X.Y.Z envparity knows. Everything that has no place in a
spec is kept as a YAML comment, so nothing is lost silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from envparity.core import facts
from envparity.core.diagnostics import UserError

TRUSS_CUDA, TRUSS_CUDNN, TRUSS_OS = "12.2.2", "8", "ubuntu20.04"
COG_DEFAULT_CUDA = (11, 8)  # pkg/config/compatibility.go: defaultCUDA()
BENTOML_PORT = 3000  # `bentoml serve` listens on 3000 by default
DEFAULT_PYTHON = "3.11"  # when the peer file names none (BentoML: the Python of `bentoml build`)


class PeerFileError(UserError):
    """A peer file envparity cannot read: one line plus a hint."""


@dataclass
class Draft:
    """The spec being written: fields in spec order, and comments for what was not carried."""

    peer: str
    source: str
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # resolved implicitly: said at the top
    lost: list[str] = field(default_factory=list)  # not carried over: said at the end

    def to_yaml(self) -> str:
        # Comment text is folded to one line: a value with a line break cannot add a field.
        head = [f"# Imported by `envparity import` from the {self.peer} file {_fold(self.source)}."]
        head += [f"# {_fold(line)}" for line in self.notes]
        body = [_dump({key: value}) for key, value in self.fields.items()]
        tail = ["", "# Not carried over from the peer file:"] if self.lost else []
        tail += [f"#   {_fold(line)}" for line in self.lost]
        return "\n".join(head) + "\n" + "".join(body) + "\n".join(tail) + ("\n" if tail else "")


def import_file(path: Path) -> Draft:
    """Read a peer file and draft the spec; which peer is told by its name and keys."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PeerFileError(
            f"{path}: no such file", "give a cog.yaml, config.yaml or bentofile.yaml"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PeerFileError(
            f"{path}: cannot read it: {first}", "check that it is a YAML file"
        ) from None
    if not isinstance(data, dict):
        raise PeerFileError(
            f"{path}: not a YAML mapping", "give a cog.yaml, config.yaml or bentofile.yaml"
        )
    if path.name == "cog.yaml" or ("build" in data and isinstance(data["build"], dict)):
        peer = _cog
    elif path.name.startswith("bentofile") or "service" in data:
        peer = _bentoml
    elif {"model_name", "resources", "requirements", "python_version"} & set(data):
        peer = _truss
    else:
        peer = None
    if peer is not None:
        try:
            return peer(path, data)
        except (AttributeError, TypeError, ValueError) as exc:  # a value of an unexpected type
            raise PeerFileError(
                f"{path}: a field has a value of an unexpected type ({_fold(str(exc))})",
                "check the file against the peer's documentation",
            ) from None
    raise PeerFileError(
        f"{path}: not a Cog, Truss or BentoML file envparity recognises",
        "name it cog.yaml (Cog), config.yaml (Truss) or bentofile.yaml (BentoML)",
    )


# --- the peers ----------------------------------------------------------------------------------
def _cog(path: Path, data: dict) -> Draft:
    draft = Draft("Cog", str(path))
    build = data.get("build") or data.get("environment") or {}
    _start(draft, path.parent.name, None)
    _python(draft, build.get("python_version"), "python_version")
    pins = [str(p) for p in build.get("python_packages") or []]
    requirements = _requirements_file(draft, path, build.get("python_requirements"))
    gpu = bool(build.get("gpu")) or "gpu" in (build.get("architectures") or [])
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
            cu = "cu" + "".join(map(str, minor))
            if torch and cu in (facts.torch_cuda_builds(torch) or ()):
                draft.fields["package_indexes"] = [f"https://download.pytorch.org/whl/{cu}"]
                draft.notes.append(f"torch comes from the {cu} index, as Cog installs it")
    _list_field(draft, "system_packages", build.get("system_packages"))
    draft.fields["python_packages"] = pins
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


def _truss(path: Path, data: dict) -> Draft:
    draft = Draft("Truss", str(path))
    _start(draft, data.get("model_name") or path.parent.name, data.get("description"))
    version = str(data.get("python_version") or "")
    _python(draft, f"3.{version[3:]}" if version.startswith("py3") else None, "python_version")
    resources = data.get("resources") or {}
    accelerator = str(resources.get("accelerator") or "")
    gpu = bool(resources.get("use_gpu")) or bool(accelerator)
    count = 1
    if gpu:
        draft.fields["cuda"] = TRUSS_CUDA
        draft.fields["cudnn"] = TRUSS_CUDNN
        draft.fields["cuda_flavor"] = "runtime"
        draft.fields["os"] = TRUSS_OS
        draft.notes.append(
            f"Truss runs GPU models on nvidia/cuda:{TRUSS_CUDA}-base-{TRUSS_OS} plus cuDNN "
            f"{TRUSS_CUDNN}; the official tag with both is the cudnn{TRUSS_CUDNN}-runtime one"
        )
        name, _, n = accelerator.partition(":")
        count = int(n) if n.isdigit() else 1
        products = facts.gpu_products(name.replace("_", "-")) if name else None
        if products:
            draft.fields["gpus"] = list(products)
        elif name:
            draft.lost.append(f"resources.accelerator: {accelerator} (not a GPU envparity knows)")
    _list_field(draft, "system_packages", data.get("system_packages"))
    draft.fields["python_packages"] = [str(p) for p in data.get("requirements") or []]
    relative = data.get("requirements_file")
    if relative and _requirements_file(draft, path, relative) is not None:
        draft.fields["python_requirements"] = data["requirements_file"]
    _env(draft, data.get("environment_variables"))
    if data.get("base_image"):
        draft.lost.append(f"base_image: {_one_line(data['base_image'])} (set base_image yourself)")
    draft.lost.append(
        "the model class in model/model.py (served by Truss's server: set run.command)"
    )
    secrets = list((data.get("secrets") or {}).keys())
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
        },
    )
    _run_and_stages(
        draft, count if gpu else 0, None, resources.get("cpu"), resources.get("memory"), secrets
    )
    return draft


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
    cuda = docker.get("cuda_version")
    if cuda:
        parts = tuple(int(p) for p in str(cuda).split(".")[:2])
        release = _cuda_release(draft, parts, str(cuda))
        if release:
            draft.fields["cuda"] = release
            draft.notes.append(f"cuda {release} from docker.cuda_version {cuda}")
    else:
        draft.notes.append(
            "no docker.cuda_version: imported as CPU-only (a GPU whose CUDA comes from the torch "
            "wheels cannot be written in a spec yet)"
        )
    if docker.get("distro"):
        draft.lost.append(f"docker.distro: {docker['distro']} (envparity picks the OS from cuda)")
    _list_field(draft, "system_packages", docker.get("system_packages"))
    draft.fields["python_packages"] = [str(p) for p in python.get("packages") or []]
    if python.get("requirements_txt"):
        relative = str(python["requirements_txt"]).removeprefix("./")
        if _requirements_file(draft, path, relative) is not None:
            draft.fields["python_requirements"] = relative
    indexes = [u for u in [python.get("index_url")] if u] + list(
        python.get("extra_index_url") or []
    )
    if indexes:
        draft.fields["package_indexes"] = indexes
    _env(draft, docker.get("env") if isinstance(docker.get("env"), dict) else None)
    secrets = []
    for item in data.get("envs") or []:
        if isinstance(item, dict) and item.get("name") and "value" not in item:
            secrets.append(str(item["name"]))  # a name without a value is set at deploy time
        elif isinstance(item, dict) and item.get("name"):
            draft.fields.setdefault("env", {})[str(item["name"])] = str(item["value"])
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
    service = data.get("service")
    command = ["bentoml", "serve", str(service)] if service else None
    _run_and_stages(draft, 0, command, None, None, secrets, port=BENTOML_PORT if command else None)
    return draft


# --- shared steps -------------------------------------------------------------------------------
def _start(draft: Draft, name: str, description: Any) -> None:
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:40].rstrip("-") or "imported"
    draft.fields.update({"envparity": 1, "name": slug, "version": "1.0.0"})
    if isinstance(description, str) and description.strip():
        draft.fields["description"] = description.strip()


def _python(draft: Draft, written: str | None, key: str | None) -> None:
    minor = ".".join(str(written).split(".")[:2]) if written else DEFAULT_PYTHON
    exact = (
        str(written)
        if written and str(written).count(".") == 2
        else facts.newest_python_patch(minor)
    )
    if exact is None:
        exact = str(written)
        draft.notes.append(f"Python {written} is not known to envparity: validate will say so")
    elif key and exact != str(written):
        draft.notes.append(
            f"python {exact} is the newest {minor} release envparity knows ({key}: {written})"
        )
    elif not key:
        draft.notes.append(f"python {exact}: the peer file names no Python")
    draft.fields["python"] = exact


def _cuda_release(draft: Draft, minor: tuple[int, ...], written: Any = None) -> str | None:
    """The exact CUDA release of `minor` with images: the written one, else the newest."""
    releases = facts.cuda_releases_of_minor(tuple(minor[:2]))
    if written in releases:
        return written
    if not releases:
        draft.lost.append(
            f"CUDA {'.'.join(map(str, minor))}: no nvidia/cuda image of it is known to envparity"
        )
        return None
    return releases[0]


def _torch_minor(pins: list[str]) -> str | None:
    for pin in pins:
        match = re.fullmatch(r"\s*torch\s*==\s*([0-9]+)\.([0-9]+)[^\s;]*.*", pin)
        if match:
            return f"{match[1]}.{match[2]}"
    return None


def _requirements_file(draft: Draft, path: Path, relative: Any) -> list[str] | None:
    """The lines of the peer's requirements file (for torch), or None when it is missing."""
    if not relative:
        return None
    file = path.parent / str(relative)
    try:
        return file.read_text(encoding="utf-8").splitlines()
    except OSError:
        draft.lost.append(f"requirements file {relative} (not found beside {path.name})")
        return None


def _list_field(draft: Draft, key: str, values: Any) -> None:
    if values:
        draft.fields[key] = [str(v) for v in values]


def _env(draft: Draft, env: dict | None) -> None:
    if env:
        draft.fields["env"] = {str(k): str(v) for k, v in env.items()}


def _lost_rest(draft: Draft, data: dict, used: set[str], prefix: str = "") -> None:
    for key, value in data.items():
        if key not in used and value not in (None, {}, [], ""):
            draft.lost.append(f"{prefix}{key}: {_one_line(value)}")


def _run_and_stages(
    draft: Draft,
    gpus: int,
    command: list[str] | None,
    cpu: Any,
    memory: Any,
    secrets: list[str] | None,
    port: int | None = None,
) -> None:
    run: dict[str, Any] = {}
    if command:
        run["command"] = command
    if port:
        run["port"] = port
    run["gpus"] = gpus
    if cpu:
        run["cpu"] = str(cpu)
    if memory:
        run["memory"] = str(memory)
    draft.fields["run"] = run
    production: dict[str, Any] = {}
    if secrets:
        production["secrets"] = secrets
    draft.fields["stages"] = {"local": {"gpus": 0}, "production": production}


def _fold(text: str) -> str:
    return " ".join(text.split())


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= 100 else text[:97] + "..."


def _dump(value: dict) -> str:
    return yaml.safe_dump(
        value, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
