"""A small client of the Docker Registry HTTP API v2 (the OCI distribution spec), stdlib only.

Enough to copy an image by digest from one repository to another without a Docker engine
(manifest + blobs, cross-repository mount when both are on one registry), to ask whether a
digest still exists, and to read an image's config and layers. Loopback registries are
spoken to over plain HTTP (as Docker itself does), every other one over HTTPS. Anonymous
access only: a registry that asks for a login is a one-line error.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

from envparity.core.diagnostics import UserError

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join((OCI_INDEX, MANIFEST_LIST, OCI_MANIFEST, MANIFEST))
INDEXES = (OCI_INDEX, MANIFEST_LIST)
LOOPBACK = ("127.", "localhost", "[::1]")
TIMEOUT = 60.0


class RegistryError(UserError):
    """A registry call that failed for a reason the user can act on: one line and a hint."""


@dataclass(frozen=True)
class Repository:
    """`host[:port]/path` split into the registry's base URL and the repository's name."""

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
        scheme = "http" if self.host.startswith(LOOPBACK) else "https"
        return f"{scheme}://{self.host}/v2/{self.name}"

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


@dataclass(frozen=True)
class Manifest:
    body: bytes
    media_type: str
    digest: str  # sha256 of body, computed here (never trusted from a header)

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


def _request(
    method: str,
    url: str,
    *,
    data: bytes | IO[bytes] | None = None,
    headers: dict[str, str] | None = None,
    ok: tuple[int, ...] = (200,),
    timeout: float = TIMEOUT,
):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    where = urllib.parse.urlsplit(url).netloc
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise RegistryError(
                f"registry {where} refused {method} {urllib.parse.urlsplit(url).path}: "
                f"{exc.code} {exc.reason}",
                "envparity speaks to registries anonymously: allow anonymous pull/push there",
            ) from None
        raise
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RegistryError(
            f"registry {where} unreachable: {reason}",
            "check the stage's registry: address and that the registry runs",
        ) from None
    if response.status not in ok:
        raise RegistryError(
            f"registry {where} answered {response.status} to {method} {url}",
            "check the registry's log",
        )
    return response


def get_manifest(repo: Repository, reference: str, timeout: float = TIMEOUT) -> Manifest | None:
    """The manifest of `reference` (tag or digest) in `repo`; None when it does not exist."""
    try:
        response = _request(
            "GET",
            f"{repo.base}/manifests/{reference}",
            headers={"Accept": ACCEPT},
            timeout=timeout,
        )
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise _error(exc, f"reading {repo}@{reference}") from None
    with response:
        body = response.read()
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    media_type = json.loads(body).get("mediaType") or media_type
    return Manifest(body, media_type, "sha256:" + hashlib.sha256(body).hexdigest())


def manifest_exists(repo: Repository, digest: str) -> bool:
    """Whether `repo` still serves the manifest `digest`."""
    try:
        _request("HEAD", f"{repo.base}/manifests/{digest}", headers={"Accept": ACCEPT}).close()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise _error(exc, f"looking up {repo}@{digest}") from None
    return True


def get_blob(repo: Repository, digest: str, timeout: float = TIMEOUT) -> bytes:
    """A blob's bytes, checked against its digest."""
    try:
        with _request("GET", f"{repo.base}/blobs/{digest}", timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise _error(exc, f"reading blob {digest} of {repo}") from None
    if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
        raise RegistryError(
            f"blob {digest} of {repo} does not match its digest", "check the registry's storage"
        )
    return body


def image_config(repo: Repository, manifest: Manifest) -> dict[str, Any]:
    """The image config (labels, env, ...) of a single-image manifest."""
    return json.loads(get_blob(repo, manifest.json["config"]["digest"]))


def copy(source: Repository, digest: str, target: Repository, tag: str) -> Manifest:
    """Copy image `digest` from `source` to `target` as `tag`, blobs first; the copied manifest.

    Blobs the target has are skipped; on one registry they are mounted from the source
    (no bytes move); otherwise streamed through a temp file. Index manifests (multi-platform)
    copy each child manifest by digest first.
    """
    manifest = get_manifest(source, digest)
    if manifest is None:
        raise RegistryError(
            f"{source}@{digest} does not exist", "the recorded image was deleted: rebuild and push"
        )
    if manifest.digest != digest:
        raise RegistryError(
            f"{source}@{digest} returned a manifest with digest {manifest.digest}",
            "check the registry",
        )
    body = manifest.json
    if manifest.media_type in INDEXES:
        for child in body.get("manifests", ()):
            copy(source, child["digest"], target, child["digest"])
    else:
        for blob in [body["config"], *body.get("layers", ())]:
            _copy_blob(source, target, blob["digest"])
    url = f"{target.base}/manifests/{tag}"
    try:
        _request(
            "PUT",
            url,
            data=manifest.body,
            headers={"Content-Type": manifest.media_type},
            ok=(201,),
        ).close()
    except urllib.error.HTTPError as exc:
        raise _error(exc, f"writing the manifest of {target}:{tag}") from None
    return manifest


def _copy_blob(source: Repository, target: Repository, digest: str) -> None:
    try:
        _request("HEAD", f"{target.base}/blobs/{digest}").close()
        return  # already there
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise _error(exc, f"looking up blob {digest} in {target}") from None
    query = {"mount": digest, "from": source.name} if source.host == target.host else {}
    url = f"{target.base}/blobs/uploads/?{urllib.parse.urlencode(query)}"
    try:
        response = _request("POST", url, data=b"", ok=(201, 202))
    except urllib.error.HTTPError as exc:
        raise _error(exc, f"starting the upload of {digest} to {target}") from None
    with response:
        if response.status == 201:
            return  # mounted
        location = response.headers["Location"]
    upload = urllib.parse.urljoin(f"{target.base}/", location)
    separator = "&" if "?" in upload else "?"
    with tempfile.TemporaryFile() as spool:
        try:
            with _request("GET", f"{source.base}/blobs/{digest}") as blob:
                hasher = hashlib.sha256()
                for chunk in iter(lambda: blob.read(1 << 20), b""):
                    hasher.update(chunk)
                    spool.write(chunk)
        except urllib.error.HTTPError as exc:
            raise _error(exc, f"reading blob {digest} of {source}") from None
        if "sha256:" + hasher.hexdigest() != digest:
            raise RegistryError(
                f"blob {digest} of {source} does not match its digest",
                "check the registry's storage",
            )
        size = spool.tell()
        spool.seek(0)
        try:
            _request(
                "PUT",
                f"{upload}{separator}{urllib.parse.urlencode({'digest': digest})}",
                data=spool,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                ok=(201,),
            ).close()
        except urllib.error.HTTPError as exc:
            raise _error(exc, f"uploading blob {digest} to {target}") from None


def _error(exc: urllib.error.HTTPError, doing: str) -> RegistryError:
    try:
        errors = json.loads(exc.read() or b"{}").get("errors") or []
        detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, AttributeError):
        detail = ""
    return RegistryError(
        f"{doing}: {exc.code} {exc.reason}" + (f" ({detail})" if detail else ""),
        "check the registry's log",
    )


def read_provenance(image: str, timeout: float = TIMEOUT) -> dict[str, Any] | None:
    """The envparity provenance record of `image` (`host/repo[:tag][@digest]`), read from its
    last layer in the registry; None when the image has no record there."""
    from envparity.adapters.provenance_image import read_from_layer

    name, _, digest = image.partition("@")
    repository, _, tag = name.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = name, "latest"
    repo = Repository.parse(repository)
    manifest = get_manifest(repo, digest or tag, timeout)
    if manifest is not None and manifest.media_type in INDEXES:
        children = manifest.json.get("manifests") or []
        amd64 = [c for c in children if (c.get("platform") or {}).get("architecture") == "amd64"]
        chosen = (amd64 or children or [None])[0]
        manifest = get_manifest(repo, chosen["digest"], timeout) if chosen else None
    layers = manifest.json.get("layers") if manifest is not None else None
    if not layers:
        return None
    return read_from_layer(get_blob(repo, layers[-1]["digest"], timeout), image)
