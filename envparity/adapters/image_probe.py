"""What an image holds, read by running it once without network: its Python and distributions.

`envparity build` verifies a new image with it, and the drift checker's docker target
reads running environments with it: both see the same facts the same way, and compare them
with `envparity.core.image_check`.
"""

from __future__ import annotations

import json

from envparity.core.image_check import ImageContents

# Runs as `python3 -c` inside the image. In envparity images /opt/venv/bin comes first on
# PATH; `prefix` tells which interpreter answered, so a wrong PATH shows as a difference.
SCRIPT = (
    "import importlib.metadata as m, json, platform, sys\n"
    "print(json.dumps({'python': platform.python_version(), 'prefix': sys.prefix,\n"
    "  'dists': sorted([d.metadata['Name'], d.version] for d in m.distributions()\n"
    "                  if d.metadata['Name'])}))\n"
)


class ProbeError(Exception):
    """`python3` could not run in the image, or printed something else than the probe's JSON."""

    def __init__(self, message: str, stderr: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.stderr = stderr


def probe_image(client, image: str, timeout: float = 120.0) -> ImageContents:
    """Run the probe in `image` (no network, removed afterwards); Docker's own errors propagate."""
    container = client.containers.create(
        image, entrypoint=["python3", "-c", SCRIPT], command=[], network_mode="none"
    )
    try:
        container.start()
        code = container.wait(timeout=timeout).get("StatusCode")
        out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    if code != 0:
        raise ProbeError(f"`python3` in the image exited {code}", tuple(err.splitlines()[-10:]))
    return parse_probe_output(out)


def parse_probe_output(out: str) -> ImageContents:
    from packaging.utils import canonicalize_name

    try:
        found = json.loads(out.strip().splitlines()[-1])
        dists = {canonicalize_name(name): version for name, version in found["dists"]}
        return ImageContents(found["python"], found["prefix"], dists)
    except (ValueError, IndexError, KeyError, TypeError):
        raise ProbeError(f"unexpected output from the probe: {out[:200]!r}") from None
