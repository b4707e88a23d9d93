"""The provenance record in an image: added as its last layer, read back from it.

The record's format is `envparity.core.provenance`; this module is its Docker I/O (the
engine, an image layer's tar), kept out of the core (docs/architecture.md).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from envparity.adapters.docker_build import base_ref, split_tag
from envparity.adapters.git import git_state
from envparity.core.model import ResolvedStage
from envparity.core.provenance import (
    LABEL,
    PATH,
    ImageMissing,
    ProvenanceError,
    loads,
    lock_sha256,
    locked_packages,
    statement,
)

LAYER_CAP = 64 << 20
RECORD_CAP = 8 << 20


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
    base = base_image or base_ref(files)
    record = statement(
        env,
        spec_path,
        locked_packages(files, env.stage),
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
        repository, _, name = split_tag(tag)
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
        data = _joined(stream, RECORD_CAP + (64 << 10), image)
    except (APIError, NotFound) as exc:
        raise ProvenanceError(
            f"image {image}: cannot read {labels[LABEL]}: {exc.explanation or exc}",
            "rebuild it with `envparity build`",
        ) from None
    finally:
        container.remove(force=True)
    return _json_from_tar(data, image)


def read_from_layer(layer: bytes | IO[bytes], where: str) -> dict[str, Any] | None:
    """The record in one image layer (a tar, gzip or not), None when the layer has none.

    Read as a stream with caps: at most LAYER_CAP bytes once decompressed, the record at most
    RECORD_CAP, so a small hostile layer cannot expand into memory."""
    raw = io.BytesIO(layer) if isinstance(layer, bytes) else layer
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(0)
    stream = _Capped(gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw, LAYER_CAP, where)
    wanted = PATH.lstrip("/")
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.name.removeprefix("./") != wanted or not member.isfile():
                    continue
                if member.size > RECORD_CAP:
                    raise ProvenanceError(
                        f"{where}: {PATH} is {member.size} bytes (at most {RECORD_CAP})",
                        "rebuild it with `envparity build`",
                    )
                return loads(tar.extractfile(member).read(), where)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ProvenanceError(f"{where}: unreadable layer ({exc})", "check the registry") from None
    return None


class _Capped(io.RawIOBase):
    """A reader that fails (ProvenanceError) once more than `cap` bytes were read through it."""

    def __init__(self, inner: IO[bytes], cap: int, where: str) -> None:
        self.inner, self.left, self.where, self.cap = inner, cap, where, cap

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(min(len(buffer), self.left + 1))
        if len(data) > self.left:
            raise ProvenanceError(
                f"{self.where}: the provenance layer expands past {self.cap} bytes",
                "a provenance layer holds one small file: check the image",
            )
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _joined(chunks: Iterable[bytes], cap: int, where: str) -> bytes:
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > cap:
            raise ProvenanceError(
                f"image {where}: {PATH} is larger than {RECORD_CAP} bytes",
                "rebuild it with `envparity build`",
            )
    return bytes(data)


def _json_from_tar(data: bytes, where: str) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        content = tar.extractfile(member).read() if member else b""
    return loads(content, where)
