"""`envparity run`: what the container of a local run gets, as data.

Like `cog run`: the stage's image, the current folder mounted at /workspace (the working
directory), the stage's runtime env and the workload's ENVPARITY_* identity, the secrets
the spec names taken from the caller's environment when set, the spec's port published on
127.0.0.1, GPUs on request (`--gpus all`, the default when the stage needs GPUs). The
command runs as the caller's uid:gid, so files it writes in the folder are the caller's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_LABEL, identity_env

WORKDIR = "/workspace"


def container_options(
    env: ResolvedStage,
    image: str,
    folder: Path,
    command: Sequence[str],
    gpus: str | None,
    caller_env: Mapping[str, str],
) -> dict:
    """Keyword arguments of docker's `containers.create` for one run."""
    environment = {**identity_env(env, image), **env.runtime_env}
    environment.update({k: caller_env[k] for k in env.secrets if k in caller_env})
    environment["HOME"] = "/tmp"  # the caller's uid has no home in the image
    options: dict = {
        "image": image,
        "command": list(command or env.command) or None,
        "working_dir": WORKDIR,
        "volumes": {str(folder.resolve()): {"bind": WORKDIR, "mode": "rw"}},
        "environment": dict(sorted(environment.items())),
        "user": f"{os.getuid()}:{os.getgid()}",
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
    }
    if env.port:
        options["ports"] = {f"{env.port}/tcp": ("127.0.0.1", env.port)}
    if gpus is None and env.needs_gpu:
        gpus = "all"
    if gpus:
        count = -1 if gpus == "all" else int(gpus)
        options["device_requests"] = [
            {"Driver": "nvidia", "Count": count, "Capabilities": [["gpu"]]}
        ]
    return options


def has_image(client, env: ResolvedStage) -> bool:
    """Whether the engine has an image of this software under the stage's tag (else: build)."""
    from docker.errors import ImageNotFound

    try:
        image = client.images.get(env.image_ref)
    except ImageNotFound:
        return False
    return image.labels.get(FINGERPRINT_LABEL) == env.fingerprint
