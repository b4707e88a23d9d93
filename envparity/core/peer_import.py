"""`envparity import`: a spec from a Cog cog.yaml, a Truss config.yaml or a BentoML bentofile.yaml.

What the peer leaves implicit is resolved the way the peer does it:

- Cog (pkg/config/config.go, validateAndCompleteCUDA): with `gpu: true`, CUDA is the newest
  CUDA that the pinned torch version is built for (11.8 without torch), cuDNN the newest one
  of that CUDA's images, and the image is always a `devel` one; torch comes from the
  download.pytorch.org index of that CUDA.
- Truss: a GPU model runs on nvidia/cuda:12.2.2-base-ubuntu20.04 plus cuDNN 8; the official
  tag that holds both is 12.2.2-cudnn8-runtime-ubuntu20.04. A `base_image` replaces all of
  that: it is carried as `base_image`, and CUDA is only what the image's tag says.
- BentoML: `docker.cuda_version` on BentoML's `nvidia/cuda:<cuda>-cudnn8-runtime` image, the
  GPU count from `@bentoml.service(resources={"gpu": N})` in the service file (read with
  `ast`, never run); without `cuda_version` the environment is CPU-only here (a GPU whose
  CUDA comes from the torch wheels is not expressible yet).

Package lists are sorted by envparity.core.peer_packages: pins to `python_packages`, index
option lines to `package_indexes`, URL installs to a comment and an error (a spec cannot
pin a URL).

Python "X.Y" becomes the newest X.Y.Z envparity knows. Everything that has no place in a
spec is kept as a YAML comment, so nothing is lost silently.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from envparity.core import cuda_image, facts
from envparity.core.diagnostics import Diagnostic, UserError
from envparity.core.peer_packages import sort_lines

TRUSS_CUDA, TRUSS_CUDNN, TRUSS_OS = "12.2.2", "8", "ubuntu20.04"
COG_DEFAULT_CUDA = (11, 8)  # pkg/config/compatibility.go: defaultCUDA()
BENTOML_PORT = 3000  # `bentoml serve` listens on 3000 by default
DEFAULT_PYTHON = "3.11"  # when the peer file names none (BentoML: the Python of `bentoml build`)
BENTOML_CUDNN = "8"  # BentoML builds GPU bentos FROM nvidia/cuda:<cuda_version>-cudnn8-runtime
PEER_FILES = ("cog.yaml", "config.yaml", "bentofile.yaml")  # what `import DIR` looks for
# Keys only a Truss config.yaml has (truss/base/truss_config.py); `build` is not one of them:
# Truss' `build:` is its model-server block, Cog's is the image.
TRUSS_KEYS = {
    "model_name", "model_metadata", "model_class_name", "model_module_dir", "resources",
    "requirements", "requirements_file", "python_version", "base_image", "secrets",
    "environment_variables", "external_package_dirs", "model_cache", "runtime",
    "system_packages", "external_data", "docker_server", "trt_llm", "apply_library_patches",
}  # fmt: skip
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a spec's stage secrets accept


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
    problems: list[Diagnostic] = field(default_factory=list)  # what makes the import fail

    def refuse(self, message: str, hint: str) -> None:
        """An error about the peer file itself (the drafted spec cannot say what it means)."""
        self.problems.append(Diagnostic(message, (), hint, file=self.source))

    def to_yaml(self) -> str:
        # Comment text is folded to one line: a value with a line break cannot add a field.
        head = [f"# Imported by `envparity import` from the {self.peer} file {_fold(self.source)}."]
        head += [f"# {_fold(line)}" for line in self.notes]
        body = [_dump({key: value}) for key, value in self.fields.items()]
        tail = ["", "# Not carried over from the peer file:"] if self.lost else []
        tail += [f"#   {_fold(line)}" for line in self.lost]
        return "\n".join(head) + "\n" + "".join(body) + "\n".join(tail) + ("\n" if tail else "")


def import_file(path: Path) -> Draft:
    """Read a peer file (or find it in a folder) and draft the spec."""
    if path.is_dir():
        path = find_peer_file(path)
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
    peer = _which_peer(path.name, data)
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


def find_peer_file(folder: Path) -> Path:
    """The one peer file at the root of a project folder (Cog, Truss and BentoML keep it there)."""
    found = [folder / name for name in PEER_FILES if (folder / name).is_file()]
    if len(found) == 1:
        return found[0]
    if found:
        raise PeerFileError(
            f"{folder}: holds {', '.join(p.name for p in found)}; which one to import?",
            "give the file instead of the folder",
        )
    raise PeerFileError(
        f"{folder}: holds no {', '.join(PEER_FILES)}",
        "give the peer file, or the folder that holds it",
    )


def _which_peer(name: str, data: dict):
    """The peer, from the file name and the keys: a config.yaml is Truss' before Cog's."""
    build = data.get("build")
    if name.startswith("bentofile"):
        return _bentoml
    if name == "cog.yaml":
        return _cog
    if name == "config.yaml" and TRUSS_KEYS & set(data):
        return _truss
    if isinstance(build, dict) and ({"python_version", "python_packages", "gpu"} & set(build)):
        return _cog  # Cog's build block says how to build the image
    if "service" in data:
        return _bentoml
    if TRUSS_KEYS & set(data):
        return _truss
    if isinstance(build, dict):
        return _cog
    return None


# --- the peers ----------------------------------------------------------------------------------
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


def _secret_names(draft: Draft, names: list, key: str) -> list[str]:
    """Names a stage's `secrets` accepts; any other is said in a comment, not dropped."""
    out = []
    for name in map(str, names):
        if SECRET_NAME.fullmatch(name):
            out.append(name)
        else:
            draft.lost.append(
                f"{key}: {name} (a spec's secret names are [A-Za-z_][A-Za-z0-9_]*: store it "
                "under such a name and add it to stages.production.secrets)"
            )
    return out


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
    file = path.parent / (module.removesuffix(".py").replace(".", "/") + ".py")
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
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
        file = path.parent / env
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError:
            draft.lost.append(
                f"docker.env: {env} (a dotenv file that is not beside {path.name}: "
                "write its variables under env)"
            )
            return out, secrets
        draft.notes.append(f"env from the dotenv file {env} (docker.env)")
        env = [line.strip().removeprefix("export ").strip() for line in lines]
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


def _torch_index(
    draft: Draft,
    torch: str | None,
    builds: tuple[str, ...] | None,
    minor: tuple[int, ...],
    pins: list[str],
) -> str | None:
    """The download.pytorch.org index Cog installs torch from, only when it has that build.

    The build is the pin's local label (`torch==2.1.0+cu118`) when it has one, else the
    CUDA's (`cu121`); an index is added only when envparity's knowledge lists that build for
    the pinned torch, so the drafted spec never points pip at an index without the wheel.
    """
    if not torch:
        return None
    label = next(
        (m[1] for p in pins if (m := re.fullmatch(r"\s*torch\s*==[^+;\s]*\+(\w+).*", p))), None
    )
    cu = label or "cu" + "".join(map(str, minor[:2]))
    if not cu.startswith("cu"):
        return None  # a cpu/rocm build: not Cog's CUDA index
    if cu not in (builds or ()):
        draft.notes.append(
            f"no torch index added: envparity does not know a {cu} build of torch {torch}"
            + (f" (known: {', '.join(builds)})" if builds else "")
        )
        return None
    draft.notes.append(f"torch comes from the {cu} index, as Cog installs it")
    return f"https://download.pytorch.org/whl/{cu}"


def _package_lines(draft: Draft, lines: Any, key: str):
    """Sort a peer's package list: pins stay, options and URL installs are said, not lost."""
    found = sort_lines([str(x) for x in lines or []])
    for line, message, hint in found.urls:
        draft.lost.append(f"{key}: {line} (a spec cannot pin a URL: {hint})")
        draft.refuse(f"{key}: {message}", hint)
    for option in found.options:
        draft.lost.append(f"{key}: {option} (a pip option with no place in a spec)")
    return found


def _indexes(draft: Draft, urls: list[str]) -> None:
    unique = list(dict.fromkeys(urls))
    if unique:
        draft.fields["package_indexes"] = unique


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
    """Baked env vars; a name without a value is not baked as the text "None"."""
    for key, value in (env or {}).items():
        if value is None:
            draft.lost.append(f"env {key}: no value (give it one, or make it a stage secret)")
        else:
            draft.fields.setdefault("env", {})[str(key)] = str(value)


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
