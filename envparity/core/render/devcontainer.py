"""devcontainer.json for the local stage: the same Dockerfile, built to the `local` target.

One beside the Dockerfile (`build/<name>/devcontainer.json`), and one where editors and
Codespaces look (`.devcontainer/<name>/devcontainer.json`), pointing at the rendered build
context `build/<name>/` (run `envparity render` before opening it).
"""

from __future__ import annotations

import json

from envparity.core.model import ResolvedStage
from envparity.core.render.dockerfile import USER

FOLDER = ".devcontainer"  # where editors look: .devcontainer/<name>/devcontainer.json
BUILD_DIR = "build"  # render's default --out, the context the editor's devcontainer builds


def editor_path(name: str) -> str:
    return f"{FOLDER}/{name}/devcontainer.json"


def render_devcontainer(local: ResolvedStage, context: str = ".") -> str:
    """The devcontainer of `local` whose build context is `context` (relative to the file);
    JSON encoding escapes every spec value."""
    config: dict = {
        "name": f"{local.name} (local)",
        "build": {"dockerfile": f"{context}/Dockerfile", "context": context, "target": "local"},
        "remoteUser": USER,
    }
    if context == ".":
        config["build"]["dockerfile"] = "Dockerfile"
    if local.runtime_env:
        config["containerEnv"] = dict(sorted(local.runtime_env.items()))
    if local.port:
        config["forwardPorts"] = [local.port]
    if local.gpus_per_replica > 0:
        # The GPU must reach the container on the developer's machine as on the cluster.
        config["runArgs"] = ["--gpus", "all"]
    return json.dumps(config, indent=2, ensure_ascii=True) + "\n"


def render_editor_devcontainer(local: ResolvedStage) -> str:
    """`.devcontainer/<name>/devcontainer.json`: the same, built from `build/<name>/`."""
    return render_devcontainer(local, f"../../{BUILD_DIR}/{local.name}")
