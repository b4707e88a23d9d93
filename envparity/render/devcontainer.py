"""devcontainer.json for the local stage: the same Dockerfile, built to the `local` target."""

from __future__ import annotations

import json

from envparity.model import ResolvedStage
from envparity.render.dockerfile import USER


def render_devcontainer(local: ResolvedStage) -> str:
    """The devcontainer of `local`; JSON encoding escapes every spec value."""
    config: dict = {
        "name": f"{local.name} (local)",
        "build": {"dockerfile": "Dockerfile", "context": ".", "target": "local"},
        "remoteUser": USER,
    }
    if local.runtime_env:
        config["containerEnv"] = dict(sorted(local.runtime_env.items()))
    if local.port:
        config["forwardPorts"] = [local.port]
    if local.gpus_per_replica > 0:
        # The GPU must reach the container on the developer's machine as on the cluster.
        config["runArgs"] = ["--gpus", "all"]
    return json.dumps(config, indent=2, ensure_ascii=True) + "\n"
