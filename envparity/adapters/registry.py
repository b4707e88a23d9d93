"""A client of the Docker Registry HTTP API v2 (the OCI distribution spec), stdlib only.

Enough to copy an image by digest from one repository to another without a Docker engine
(manifests and blobs; a blob the target registry holds is mounted, not streamed), to ask
whether a digest still exists, and to read an image's config and provenance layer.
Logins come from the Docker config and token realms (registry_auth), transport rules from
registry_http. Everything read by digest is checked against it, and every read is bounded
in size and time (docs/promotion.md, "Registries and credentials").
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import IO, Any

from envparity.adapters.registry_auth import (
    AuthRefused,
    LoginMissing,
    Session,
    error_detail,
    registry_url,
)
from envparity.adapters.registry_http import Deadline, RegistryError, Unreachable, Unusable

__all__ = [
    "AuthRefused",
    "LoginMissing",
    "Manifest",
    "RegistryError",
    "Repository",
    "Unreachable",
    "Unusable",
    "copy",
    "get_blob",
    "get_manifest",
    "image_config",
    "manifest_exists",
    "read_provenance",
]

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join((OCI_INDEX, MANIFEST_LIST, OCI_MANIFEST, MANIFEST))
INDEXES = (OCI_INDEX, MANIFEST_LIST)
IMAGES = (OCI_MANIFEST, MANIFEST)
TIMEOUT = 60.0
MIN_RATE = 1 << 20  # bytes/s a blob transfer may not fall below (its deadline grows with size)
MANIFEST_CAP = 4 << 20  # as the distribution registry's own limit
CONFIG_CAP = 8 << 20
PROVENANCE_LAYER_CAP = 16 << 20  # the record's layer holds one small JSON file
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
PROVENANCE_LABEL = "io.envparity.provenance"
ATTESTATION = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Repository:
    """`host[:port]/path` split into the registry host and the repository's name."""

    host: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Repository:
        host, _, name = text.partition("/")
        if not name or not ("." in host or ":" in host or host == "localhost"):
            raise RegistryError(
                f"{text!r} names no registry host",
                "set stages.<stage>.registry in the spec, e.g. 127.0.0.1:5000",
            )
        return cls(host, name)

    @property
    def base(self) -> str:
        return f"{registry_url(self.host)}/v2/{self.name}"

    def pull(self) -> str:
        return f"repository:{self.name}:pull"

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


@dataclass(frozen=True)
class Manifest:
    body: bytes
    media_type: str
    digest: str  # sha256 of body, computed here (never trusted from a header)
    json: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES

    def blobs(self) -> list[dict[str, Any]]:
        """The config and layer descriptors of an image manifest."""
        return [self.json["config"], *self.json["layers"]]


_sessions: dict[str, Session] = {}
_sessions_lock = threading.Lock()


def _session(host: str) -> Session:
    with _sessions_lock:
        return _sessions.setdefault(host, Session(host))


RETRIED = frozenset({500, 502, 503, 504})  # a passing fault of the registry (see _call)


def _call(repo: Repository, method: str, path: str, scopes, deadline: Deadline, **kwargs):
    """One request; a GET or HEAD answered with a server error is tried twice more.

    They change nothing, and the distribution registry answers 500 to a read of a tag that
    another client is writing at that moment (measured: concurrent promotes of one image).
    """
    url = f"{repo.base}/{path}"
    for pause in (0.2, 0.4):
        response = _session(repo.host).request(method, url, scopes, deadline, **kwargs)
        if method not in ("GET", "HEAD") or response.status not in RETRIED:
            return response
        response.close()
        time.sleep(pause)
    return _session(repo.host).request(method, url, scopes, deadline, **kwargs)


def _failed(response, doing: str) -> RegistryError:
    with response:
        detail = error_detail(response)
    return RegistryError(
        f"{doing}: {response.status}" + (f" ({detail})" if detail else ""),
        "check the registry's log",
    )


def get_manifest(
    repo: Repository, reference: str, timeout: float = TIMEOUT, *, deadline: Deadline | None = None
) -> Manifest | None:
    """The manifest of `reference` (tag or digest) in `repo`; None when it does not exist.

    By digest, the bytes must hash to it: another manifest is refused naming both."""
    deadline = deadline or Deadline(timeout, f"registry {repo.host}")
    separator = "@" if reference.startswith("sha256:") else ":"
    what = f"the manifest {repo}{separator}{reference}"
    response = _call(
        repo,
        "GET",
        f"manifests/{reference}",
        (repo.pull(),),
        deadline,
        headers={"Accept": ACCEPT},
    )
    if response.status == 404:
        response.close()
        return None
    if response.status != 200:
        raise _failed(response, f"reading {what}")
    with response:
        body = response.read(MANIFEST_CAP, what)
        header_type = response.header("Content-Type").split(";")[0].strip()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if reference.startswith("sha256:") and digest != reference:
        raise Unusable(
            f"registry {repo.host} answered {repo}@{reference} with another manifest ({digest})",
            "the registry does not serve what it stored: check it, or push the image again",
        )
    return _parse_manifest(body, header_type, digest, what)


def _parse_manifest(body: bytes, header_type: str, digest: str, what: str) -> Manifest:
    def bad(why: str) -> Unusable:
        return Unusable(f"{what} is {why}", "check that the registry serves image manifests")

    try:
        data = json.loads(body)
    except ValueError:
        raise bad("not JSON") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object")
    media_type = data.get("mediaType") or header_type
    if media_type not in (*INDEXES, *IMAGES):
        raise bad(f"of media type {media_type or '(none)'}, not an image manifest or index")
    descriptors = (
        data.get("manifests") if media_type in INDEXES else [data.get("config"), *_list(data)]
    )
    if not isinstance(descriptors, list) or not all(_descriptor(d) for d in descriptors):
        raise bad("missing fields (descriptors need a sha256 digest and a size)")
    return Manifest(body, media_type, digest, data)


def _list(data: dict) -> list:
    layers = data.get("layers")
    return layers if isinstance(layers, list) else [None]


def _descriptor(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("digest"), str)
        and DIGEST.fullmatch(value["digest"]) is not None
        and isinstance(value.get("size"), int)
        and value["size"] >= 0
    )


def manifest_exists(repo: Repository, digest: str, timeout: float = TIMEOUT) -> bool:
    """Whether `repo` still serves the manifest `digest` (its bytes are read and checked)."""
    return get_manifest(repo, digest, timeout) is not None


def _blob_deadline(size: int) -> Deadline:
    return Deadline(TIMEOUT + size / MIN_RATE, "the blob transfer")


def stream_blob(
    repo: Repository,
    digest: str,
    into: IO[bytes],
    deadline: Deadline,
    size: int | None = None,
    cap: int = CONFIG_CAP,
) -> None:
    """Write blob `digest` of `repo` into `into`: no byte past its `size` (else past `cap`),
    and the bytes must hash to the digest."""
    what = f"blob {digest} of {repo}"
    response = _call(repo, "GET", f"blobs/{digest}", (repo.pull(),), deadline)
    if response.status != 200:
        raise _failed(response, f"reading {what}")
    hasher = hashlib.sha256()
    with response:
        for chunk in response.chunks(cap if size is None else size, what):
            hasher.update(chunk)
            into.write(chunk)
    if (size is not None and response.consumed != size) or f"sha256:{hasher.hexdigest()}" != digest:
        raise Unusable(
            f"{what} does not match its digest ({response.consumed} bytes hash to "
            f"sha256:{hasher.hexdigest()})",
            "the registry does not serve what it stored: check its storage",
        )


def get_blob(
    repo: Repository,
    digest: str,
    timeout: float = TIMEOUT,
    *,
    size: int | None = None,
    deadline: Deadline | None = None,
) -> bytes:
    """A small blob's bytes (`size` when its descriptor says, else at most CONFIG_CAP),
    checked against its digest."""
    into = io.BytesIO()
    stream_blob(repo, digest, into, deadline or Deadline(timeout, f"registry {repo.host}"), size)
    return into.getvalue()


def image_config(
    repo: Repository, manifest: Manifest, *, deadline: Deadline | None = None
) -> dict[str, Any]:
    """The image config (labels, env, ...) of a single-image manifest."""
    descriptor = manifest.json["config"]
    if descriptor["size"] > CONFIG_CAP:
        raise Unusable(
            f"the config of {repo}@{manifest.digest} is {descriptor['size']} bytes",
            f"image configs are small (at most {CONFIG_CAP}); check the registry",
        )
    body = get_blob(repo, descriptor["digest"], size=descriptor["size"], deadline=deadline)
    try:
        config = json.loads(body)
        if not isinstance(config, dict):
            raise ValueError
    except ValueError:
        raise Unusable(
            f"the config of {repo}@{manifest.digest} is not a JSON object",
            "check that the registry serves image configs",
        ) from None
    return config


def labels(repo: Repository, manifest: Manifest, deadline: Deadline | None = None) -> dict:
    found = (image_config(repo, manifest, deadline=deadline).get("config") or {}).get("Labels")
    return found if isinstance(found, dict) else {}


def children(repo: Repository, index: Manifest) -> list[Manifest]:
    """The image manifests an index lists (each read by digest, so checked), attestations out."""
    found = []
    for child in index.json["manifests"]:
        if (child.get("annotations") or {}).get(ATTESTATION):
            continue  # a provenance/SBOM attestation, not an image to run
        manifest = get_manifest(repo, child["digest"])
        if manifest is None:
            raise RegistryError(
                f"{repo}@{index.digest} lists {child['digest']}, which {repo} does not serve",
                "push the multi-platform image again",
            )
        found.append(manifest)
    return found


def copy(source: Repository, digest: str, target: Repository, tag: str) -> Manifest:
    """Copy image `digest` from `source` to `target` as `tag`, blobs first; the copied manifest.

    A blob the target has is skipped; on one registry it is mounted from the source (no bytes
    move); otherwise streamed through a temp file, bounded by and checked against its
    descriptor. An index (multi-platform) copies each child manifest by digest first.
    """
    manifest = get_manifest(source, digest)
    if manifest is None:
        raise RegistryError(
            f"{source}@{digest} does not exist", "the recorded image was deleted: rebuild and push"
        )
    push = (f"repository:{target.name}:pull,push",)
    if source.host == target.host:
        push += (source.pull(),)  # a token for the mount must also allow pulling the source
    if manifest.is_index:
        for child in manifest.json["manifests"]:
            copy(source, child["digest"], target, child["digest"])
    else:
        for blob in manifest.blobs():
            _copy_blob(source, target, blob, push)
    response = _call(
        target,
        "PUT",
        f"manifests/{tag}",
        push,
        Deadline(TIMEOUT, f"registry {target.host}"),
        body=manifest.body,
        headers={"Content-Type": manifest.media_type},
    )
    if response.status != 201:
        raise _failed(response, f"writing the manifest of {target}:{tag}")
    response.close()
    return manifest


def _copy_blob(source: Repository, target: Repository, blob: dict, push: tuple) -> None:
    digest, size = blob["digest"], blob["size"]
    deadline = _blob_deadline(size)
    with _call(target, "HEAD", f"blobs/{digest}", push, deadline) as response:
        if response.status == 200:
            return  # already there
        if response.status != 404:
            raise _failed(response, f"looking up blob {digest} in {target}")
    query = {"mount": digest, "from": source.name} if source.host == target.host else {}
    response = _call(
        target,
        "POST",
        f"blobs/uploads/?{urllib.parse.urlencode(query)}",
        push,
        deadline,
        body=b"",
        headers={"Content-Length": "0"},
    )
    if response.status not in (201, 202):
        raise _failed(response, f"starting the upload of {digest} to {target}")
    with response:
        if response.status == 201:
            return  # mounted
        location = response.header("Location")
    if not location:
        raise Unusable(f"{target.host} started an upload without a Location", "check the registry")
    upload = urllib.parse.urljoin(f"{target.base}/", location)
    if urllib.parse.urlsplit(upload).netloc != urllib.parse.urlsplit(target.base).netloc:
        raise Unusable(
            f"{target.host} sent the upload of {digest} to another host ({upload.split('?')[0]})",
            "envparity uploads only to the registry itself: check its configuration",
        )
    separator = "&" if "?" in upload else "?"
    with tempfile.TemporaryFile() as spool:
        stream_blob(source, digest, spool, deadline, size)
        spool.seek(0)
        response = _session(target.host).request(
            "PUT",
            f"{upload}{separator}{urllib.parse.urlencode({'digest': digest})}",
            push,
            deadline,
            body=spool,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        if response.status != 201:
            raise _failed(response, f"uploading blob {digest} to {target}")
        response.close()


def read_provenance(image: str, timeout: float = TIMEOUT) -> dict[str, Any] | None:
    """The envparity provenance record of `image` (`host/repo[:tag][@digest]`), read from its
    last layer in the registry within `timeout` seconds in all; None when it has none."""
    from envparity.adapters.provenance_image import read_from_layer

    deadline = Deadline(timeout, f"the provenance read of {image}")
    name, _, digest = image.partition("@")
    repository, _, tag = name.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = name, "latest"
    repo = Repository.parse(repository)
    manifest = get_manifest(repo, digest or tag, deadline=deadline)
    if manifest is not None and manifest.is_index:
        found = manifest.json["manifests"]
        amd64 = [c for c in found if (c.get("platform") or {}).get("architecture") == "amd64"]
        chosen = (amd64 or found or [None])[0]
        manifest = get_manifest(repo, chosen["digest"], deadline=deadline) if chosen else None
    if manifest is None or not manifest.json["layers"]:
        return None
    if PROVENANCE_LABEL not in labels(repo, manifest, deadline):
        return None  # built before provenance records, or not by envparity: nothing to read
    layer = manifest.json["layers"][-1]
    if layer["size"] > PROVENANCE_LAYER_CAP:
        raise Unusable(
            f"{image}: the provenance layer is {layer['size']} bytes",
            f"a provenance layer is small (at most {PROVENANCE_LAYER_CAP}): check the image",
        )
    with tempfile.TemporaryFile() as spool:
        stream_blob(repo, layer["digest"], spool, deadline, layer["size"])
        spool.seek(0)
        return read_from_layer(spool, image)
