"""The provenance record every envparity image carries at /etc/envparity/provenance.json.

Format: an in-toto Statement v1 whose predicate is SLSA Provenance v1
(https://slsa.dev/provenance/v1). The file lives inside the image it describes, so it
cannot name the image's own digest; its subject is the environment, identified by the
spec's software fingerprint (a sha256). The image digest is what the registry and the stack
configs record. docs/build.md describes every field.

The record is added by a last, separate build step on top of the verified image (`FROM
<image id>` + `COPY`), so the build time and git state never touch the rendered
Dockerfile or the cache of its dependency layers.

This module is the record's format only; putting it into an image and reading it back is
`envparity.adapters.provenance_image`, the git state is `envparity.adapters.git`
(docs/architecture.md: the core does no I/O with the outside world).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from envparity import __version__
from envparity.core.build_layout import LOCK
from envparity.core.diagnostics import UserError
from envparity.core.fingerprint import software_fields
from envparity.core.lockfile import stage_pins
from envparity.core.model import ResolvedStage

PATH = "/etc/envparity/provenance.json"
LABEL = "io.envparity.provenance"  # its value is PATH
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:envparity:build:v1"
BUILDER_ID = f"urn:envparity:builder:{__version__}"


class ProvenanceError(UserError):
    """An image whose provenance cannot be read: one line and a hint."""


class ImageMissing(ProvenanceError):
    """The image is not on the local engine."""


@dataclass(frozen=True)
class GitState:
    commit: str
    dirty: bool

    def __str__(self) -> str:
        """The commit, with `-dirty` when the work tree had uncommitted changes."""
        return self.commit + ("-dirty" if self.dirty else "")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    hashes: tuple[str, ...]  # sha256 hex digests the lock allows


@dataclass(frozen=True)
class Provenance:
    """The fields of a record that people and the drift checker read."""

    name: str
    version: str
    stage: str
    fingerprint: str
    spec: str
    python: str
    cuda: str | None
    os: str
    env: Mapping[str, str]
    packages: Mapping[str, Package]  # canonical name -> package
    lock_sha256: str
    base_image: str | None
    base_digest: str | None
    git: GitState | None
    built_at: str


def lock_sha256(files: Mapping[str, bytes], stage: str) -> str:
    """sha256 over the locks the stage installs (the shared one, then the stage's own)."""
    digest = hashlib.sha256(files[LOCK])
    own = files.get(f"requirements.{stage}.lock")
    if own is not None:
        digest.update(own)
    return digest.hexdigest()


def statement(
    env: ResolvedStage,
    spec_path: str,
    packages: Iterable[Package],
    lock_hash: str,
    base_image: str | None,
    base_digest: str | None,
    git: GitState | None,
    built_at: datetime | None = None,
) -> dict[str, Any]:
    """The in-toto Statement (SLSA Provenance v1 predicate) of one build."""
    when = (built_at or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    dependencies: list[dict[str, Any]] = [
        {
            "uri": f"pkg:pypi/{p.name}@{p.version}",
            "name": p.name,
            "annotations": {"version": p.version, "sha256": list(p.hashes)},
        }
        for p in sorted(packages, key=lambda p: p.name)
    ]
    if base_image:
        base: dict[str, Any] = {"uri": f"docker-image://{base_image}", "name": "base image"}
        if base_digest:
            base["digest"] = {"sha256": base_digest.removeprefix("sha256:")}
        dependencies.append(base)
    if git is not None:
        dependencies.append(
            {
                "uri": f"file:{spec_path}",
                "name": "spec repository",
                "digest": {"gitCommit": git.commit},
                "annotations": {"dirty": git.dirty},
            }
        )
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"envparity:{env.name}", "digest": {"sha256": env.fingerprint}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "spec": spec_path,
                    "stage": env.stage,
                    "name": env.name,
                    "version": env.version,
                    "fingerprint": env.fingerprint,
                    "software": software_fields(env.software),
                },
                "internalParameters": {"lockSha256": lock_hash},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID},
                "metadata": {"startedOn": when, "finishedOn": when},
            },
        },
    }


def parse(record: Mapping[str, Any], where: str) -> Provenance:
    """The readable fields of a statement; ProvenanceError when it is not an envparity record."""
    try:
        if record["predicateType"] != PREDICATE_TYPE:
            raise KeyError("predicateType")
        definition = record["predicate"]["buildDefinition"]
        params = definition["externalParameters"]
        software = params["software"]
        packages, base, base_digest, git = {}, None, None, None
        for dep in definition["resolvedDependencies"]:
            uri = dep["uri"]
            if uri.startswith("pkg:pypi/"):
                notes = dep["annotations"]
                packages[dep["name"]] = Package(
                    dep["name"], notes["version"], tuple(notes["sha256"])
                )
            elif uri.startswith("docker-image://"):
                base = uri.removeprefix("docker-image://")
                digest = dep.get("digest", {}).get("sha256")
                base_digest = f"sha256:{digest}" if digest else None
            elif "gitCommit" in dep.get("digest", {}):
                git = GitState(dep["digest"]["gitCommit"], bool(dep["annotations"]["dirty"]))
        return Provenance(
            name=params["name"],
            version=params["version"],
            stage=params["stage"],
            fingerprint=params["fingerprint"],
            spec=params["spec"],
            python=software["python"],
            cuda=software.get("cuda"),
            os=software["os"],
            env=dict(software.get("env") or {}),
            packages=packages,
            lock_sha256=definition["internalParameters"]["lockSha256"],
            base_image=base,
            base_digest=base_digest,
            git=git,
            built_at=record["predicate"]["runDetails"]["metadata"]["startedOn"],
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProvenanceError(
            f"{where}: {PATH} is not an envparity provenance record (missing {exc})",
            "rebuild the image with `envparity build`",
        ) from None


def locked_packages(files: Mapping[str, bytes], stage: str) -> list[Package]:
    """The packages a record of `stage` lists: every pin of the locks the stage installs."""
    return [
        Package(pin.name, pin.version, tuple(sorted(pin.hashes)))
        for pin in stage_pins(files, stage)
    ]


def loads(content: bytes, where: str) -> dict[str, Any]:
    """The JSON object of a record file; ProvenanceError when it is not one."""
    try:
        record = json.loads(content)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ProvenanceError(f"{where}: {PATH} is not JSON", "rebuild it with `envparity build`")
    return record
