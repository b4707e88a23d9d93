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

from pathlib import Path

import yaml

from envparity.core.peer_import.bentoml import _bentoml
from envparity.core.peer_import.cog import _cog
from envparity.core.peer_import.draft import Draft, PeerFileError
from envparity.core.peer_import.draft import fold as _fold
from envparity.core.peer_import.truss import _truss

PEER_FILES = ("cog.yaml", "config.yaml", "bentofile.yaml")  # what `import DIR` looks for
# Keys only a Truss config.yaml has (truss/base/truss_config.py); `build` is not one of them:
# Truss' `build:` is its model-server block, Cog's is the image.
TRUSS_KEYS = {
    "model_name", "model_metadata", "model_class_name", "model_module_dir", "resources",
    "requirements", "requirements_file", "python_version", "base_image", "secrets",
    "environment_variables", "external_package_dirs", "model_cache", "runtime",
    "system_packages", "external_data", "docker_server", "trt_llm", "apply_library_patches",
}  # fmt: skip


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
