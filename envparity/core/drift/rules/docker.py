"""Docker target: the stage's images on the local engine and the containers started from them."""

from __future__ import annotations

from envparity.core.drift.expectations import Expectations, spec_file
from envparity.core.drift.observed import DockerFacts
from envparity.core.drift.outcome import Outcome, Prefixed
from envparity.core.drift.rules.packages import compare_distributions, pins
from envparity.core.drift.rules.provenance import compare_provenance
from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_LABEL, NAME_LABEL, VERSION_LABEL


def compare_docker(out: Outcome, env: ResolvedStage, facts: DockerFacts, exp: Expectations) -> None:
    images = sorted(
        (i for i in facts.images if i.labels.get(NAME_LABEL) == env.name), key=lambda i: i.created
    )
    build = f"envparity build {spec_file(env, exp)} --stage {env.stage}"
    if not images:
        out.differ(
            "image",
            "present",
            f"an image labelled {NAME_LABEL}={env.name}",
            "none",
            f"build it: {build}",
        )
        return
    newest = images[-1]
    label = _image_label(newest)
    out.expect(
        label,
        FINGERPRINT_LABEL,
        env.fingerprint,
        newest.labels.get(FINGERPRINT_LABEL),
        f"the newest image was built from other software: {build}",
    )
    if newest.provenance is not None:
        compare_provenance(out, env, newest.provenance, f"rebuild: {build}")
    matching = [i for i in images if i.labels.get(FINGERPRINT_LABEL) == env.fingerprint]
    current = matching[-1] if matching else None
    if current is not None:
        label = _image_label(current)
        out.expect(
            label,
            VERSION_LABEL,
            env.version,
            current.labels.get(VERSION_LABEL),
            f"rebuild: {build}",
        )
        if current.python is not None:
            out.expect(label, "python", env.software.python, current.python, f"rebuild: {build}")
        if current.distributions is not None:
            compare_distributions(
                Prefixed(out, label),
                pins(env.software.python_packages),
                current.distributions,
                "rebuild with",
            )
    for container in facts.containers:
        if current is None:
            break
        out.expect(
            f"container {container.name}",
            "image",
            _image_label(current),
            container.image or container.image_id[:19],
            f"restart {container.name} from {_image_label(current)}",
            same=container.image_id == current.id,
        )


def _image_label(image) -> str:
    return f"image {image.tags[0] if image.tags else image.id[:19]}"
