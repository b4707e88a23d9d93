"""The provenance record every envparity image carries at /etc/envparity/provenance.json.

Format: an in-toto Statement v1 whose predicate is SLSA Provenance v1
(https://slsa.dev/provenance/v1). The file lives inside the image it describes, so it
cannot name the image's own digest; its subject is the environment, identified by the
spec's software fingerprint (a sha256). The image digest is what the registry and the stack
configs record. docs/build.md describes every field.

The record is added by a last, separate build step on top of the verified image (`FROM
<image id>` + `COPY`), so the build time and git state never touch the rendered
Dockerfile or the cache of its dependency layers.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from envparity import __version__
from envparity.core.diagnostics import UserError
from envparity.core.fingerprint import software_fields
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


def spec_commit(spec_path: str) -> str | None:
    """`str(GitState)` of the spec's repository, None outside git (for the image history)."""
    state = git_state(Path(spec_path))
    return None if state is None else str(state)


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


def git_state(path: Path) -> GitState | None:
    """The commit of the repository holding spec `path`, and whether the spec or its locks
    differ from it (uncommitted or untracked). Other files, such as the stack configs that
    build, promote and rollback write, do not make it dirty: the image is made from these."""
    where = path.resolve().parent
    stem = path.name.rsplit(".", 1)[0]
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            [
                "git",
                "-C",
                str(where),
                "status",
                "--porcelain",
                "--untracked-files=all",
                "--",
                path.name,
                f"{stem}.lock",
                f"{stem}.*.lock",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a git repository, or git is not installed
    return GitState(commit, bool(status.strip()))


def lock_sha256(files: Mapping[str, bytes], stage: str) -> str:
    """sha256 over the locks the stage installs (the shared one, then the stage's own)."""
    digest = hashlib.sha256(files["requirements.lock"])
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


# --- the image ------------------------------------------------------------------------------


def stamp(
    client,
    spec_path: str,
    env: ResolvedStage,
    files: Mapping[str, bytes],
    image_id: str,
    base_image: str | None,
    tags: Iterable[str],
) -> str:
    """Add the provenance record of a verified build of `env` to `image_id`; the new image's id."""
    from envparity.adapters.docker_build import base_ref, stage_pins

    base = base_image or base_ref(files)
    packages = [
        Package(pin.name, pin.version, tuple(sorted(pin.hashes)))
        for pin in stage_pins(files, env.stage)
    ]
    record = statement(
        env,
        spec_path,
        packages,
        lock_sha256(files, env.stage),
        base,
        _image_digest(client, base) if base else None,
        git_state(Path(spec_path)),
    )
    return add_to_image(client, image_id, record, tags)


def _image_digest(client, ref: str) -> str | None:
    """The registry digest of a local image (`RepoDigests`), else its id (local imports)."""
    from docker.errors import ImageNotFound

    try:
        image = client.images.get(ref)
    except ImageNotFound:
        return None
    for repo_digest in image.attrs.get("RepoDigests") or ():
        return repo_digest.partition("@")[2]
    return image.id


def add_to_image(client, image_id: str, record: Mapping[str, Any], tags: Iterable[str]) -> str:
    """Build `image_id` + one layer holding the record (and its label); tag it; return its id."""
    from docker.errors import APIError, BuildError

    body = json.dumps(record, indent=2, sort_keys=True).encode() + b"\n"
    dockerfile = f"FROM {image_id}\nCOPY provenance.json {PATH}\nLABEL {LABEL}={PATH}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, content in (("Dockerfile", dockerfile), ("provenance.json", body)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), 0o644
            tar.addfile(info, io.BytesIO(content))
    context.seek(0)
    try:
        image, _ = client.images.build(
            fileobj=context, custom_context=True, rm=True, forcerm=True, network_mode="none"
        )
    except (APIError, BuildError) as exc:
        raise ProvenanceError(
            f"could not add the provenance layer to {image_id[:19]}: {exc}",
            "check the engine's log",
        ) from None
    for tag in tags:
        repository, _, name = tag.rpartition(":")
        if not repository or "/" in name:
            repository, name = tag, "latest"
        image.tag(repository, name)
    return image.id


def read_from_image(client, image: str) -> dict[str, Any]:
    """The record inside a local `image` (read from its file system, nothing is run)."""
    from docker.errors import APIError, ImageNotFound, NotFound

    try:
        labels = client.images.get(image).labels or {}
    except ImageNotFound:
        raise ImageMissing(
            f"image {image} is not on the engine", f"docker pull {image}, then retry"
        ) from None
    if LABEL not in labels:
        raise ProvenanceError(
            f"image {image} has no provenance record (no {LABEL} label)",
            "rebuild it with `envparity build` (images built before provenance have none)",
        )
    container = client.containers.create(image, command=["true"], network_mode="none")
    try:
        stream, _ = container.get_archive(labels[LABEL])
        data = b"".join(stream)
    except (APIError, NotFound) as exc:
        raise ProvenanceError(
            f"image {image}: cannot read {labels[LABEL]}: {exc.explanation or exc}",
            "rebuild it with `envparity build`",
        ) from None
    finally:
        container.remove(force=True)
    return _json_from_tar(data, image)


def read_from_layer(layer: bytes, where: str) -> dict[str, Any] | None:
    """The record in one image layer (a tar, gzip or not), None when the layer has none."""
    try:
        with tarfile.open(fileobj=io.BytesIO(layer), mode="r:*") as tar:
            member = tar.extractfile(PATH.lstrip("/"))
            return _loads(member.read(), where) if member else None
    except KeyError:
        return None
    except tarfile.TarError as exc:
        raise ProvenanceError(f"{where}: unreadable layer ({exc})", "check the registry") from None


def _json_from_tar(data: bytes, where: str) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        content = tar.extractfile(member).read() if member else b""
    return _loads(content, where)


def _loads(content: bytes, where: str) -> dict[str, Any]:
    try:
        record = json.loads(content)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ProvenanceError(f"{where}: {PATH} is not JSON", "rebuild it with `envparity build`")
    return record
