"""The docker collector: images and containers labelled with the env's name, on DOCKER_HOST.

The image that should be running is probed once (no network, removed afterwards) for
its Python version and installed distributions.
"""

from __future__ import annotations

from dataclasses import replace

from envparity.adapters.image_probe import ProbeError, probe_image
from envparity.adapters.provenance_image import read_from_image
from envparity.core.drift.findings import Unchecked
from envparity.core.drift.observed import ContainerFacts, DockerFacts, ImageFacts, Observation
from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_LABEL, NAME_LABEL
from envparity.core.provenance import LABEL as PROVENANCE_LABEL
from envparity.core.provenance import Provenance, ProvenanceError, parse

TARGET = "docker"


def collect(
    env: ResolvedStage, *, timeout: float = 10.0, probe_timeout: float = 120.0
) -> Observation:
    import docker
    from docker.errors import DockerException

    label = f"{NAME_LABEL}={env.name}"
    try:
        client = docker.from_env(timeout=int(max(1, timeout)))
        images = client.images.list(filters={"label": label})
        containers = client.containers.list(filters={"label": label})
    except DockerException as exc:
        return Observation(
            None,
            (
                Unchecked(
                    TARGET,
                    "docker engine",
                    f"cannot reach it: {_line(exc)}",
                    "start Docker or set DOCKER_HOST to a running engine",
                ),
            ),
        )
    facts = [
        ImageFacts(i.id, tuple(sorted(i.tags)), i.attrs.get("Created", ""), i.labels or {})
        for i in images
    ]
    gaps: list[Unchecked] = []
    if facts:
        newest = max(facts, key=lambda i: i.created)
        found = _provenance(client, newest, gaps)
        facts = [replace(i, provenance=found) if i is newest else i for i in facts]
    current = _current(facts, env.fingerprint)
    if current is not None:
        try:
            found = probe_image(client, current.id, probe_timeout)
            facts = [
                replace(i, python=found.python, distributions=found.distributions)
                if i is current
                else i
                for i in facts
            ]
        except (DockerException, ProbeError) as exc:
            gaps.append(
                Unchecked(
                    TARGET,
                    f"image {current.tags[0] if current.tags else current.id}",
                    f"could not run Python inside it: {_line(exc)}",
                    "the image needs python3 on PATH; rebuild it with envparity build",
                )
            )
    seen = tuple(
        ContainerFacts(
            c.name,
            c.attrs.get("Image", ""),
            (c.attrs.get("Config") or {}).get("Image", ""),
            c.labels or {},
        )
        for c in containers
    )
    client.close()
    return Observation(DockerFacts(tuple(facts), seen), tuple(gaps))


def _provenance(client, image: ImageFacts, gaps: list[Unchecked]) -> Provenance | None:
    """The image's provenance record; None (with a gap when it should have one) otherwise."""
    from docker.errors import DockerException

    if PROVENANCE_LABEL not in image.labels:
        return None  # built before provenance records: the fingerprint finding stands alone
    where = f"image {image.tags[0] if image.tags else image.id}"
    try:
        return parse(read_from_image(client, image.id), where)
    except (DockerException, ProvenanceError) as exc:
        gaps.append(
            Unchecked(
                TARGET,
                where,
                f"could not read its provenance record: {_line(exc)}",
                "rebuild it with envparity build",
            )
        )
        return None


def _current(images: list[ImageFacts], fingerprint: str) -> ImageFacts | None:
    """The newest image built from the spec's software (else the newest image of the env)."""
    matching = [i for i in images if i.labels.get(FINGERPRINT_LABEL) == fingerprint]
    pool = matching or images
    return max(pool, key=lambda i: i.created) if pool else None


def _line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
