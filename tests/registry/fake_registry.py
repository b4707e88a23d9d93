"""A registry speaking the HTTP API v2 on loopback, in memory, for the fast protocol tests.

It does what the distribution registry does for the calls envparity makes (manifests, blobs,
uploads, cross-repository mounts; Basic or Bearer auth with a token realm of its own), records
every request it gets, and can be told to misbehave per path (`hostile`), so the client's
bounds, digest checks and redirect rules meet a real socket.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
ROUTE = re.compile(r"/v2/(?P<name>.+)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)")
UPLOAD = re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<id>[^/]*)")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_with(files: dict[str, bytes], gz: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeRegistry:
    """`with FakeRegistry() as r:` serves on `r.address` until the block ends."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        auth: str | None = None,  # None, "basic" or "bearer"
        users: dict[str, str] | None = None,
        grants: dict[str, tuple[str, ...]] | None = None,  # user -> actions on every repo
    ) -> None:
        self.host, self.auth = host, auth
        self.users = users or {"pusher": "secret"}
        self.grants = grants or dict.fromkeys(self.users, ("pull", "push"))
        self.blobs: dict[str, bytes] = {}
        self.links: set[tuple[str, str]] = set()  # (repository, digest): blobs are per repository
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.uploads: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.hostile: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.address = f"{host}:{self.server.server_address[1]}"

    def __enter__(self) -> FakeRegistry:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- content -------------------------------------------------------------------------------

    def put_blob(self, repo: str, data: bytes) -> dict:
        self.blobs[digest_of(data)] = data
        self.links.add((repo, digest_of(data)))
        return {
            "mediaType": "application/octet-stream",
            "digest": digest_of(data),
            "size": len(data),
        }

    def put_manifest(self, repo: str, tag: str, manifest: dict, media_type=MANIFEST) -> str:
        body = json.dumps({"mediaType": media_type, **manifest}).encode()
        for ref in (tag, digest_of(body)):
            self.manifests[(repo, ref)] = (media_type, body)
        return digest_of(body)

    def put_image(self, repo: str, tag: str, labels: dict[str, str], layers=(b"x",)) -> str:
        """An image whose config carries `labels`; its digest."""
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": labels}})
        manifest = {
            "schemaVersion": 2,
            "config": self.put_blob(repo, config.encode()),
            "layers": [self.put_blob(repo, layer) for layer in layers],
        }
        return self.put_manifest(repo, tag, manifest)

    def put_index(self, repo: str, tag: str, children: list[str]) -> str:
        entries = [
            {
                "mediaType": MANIFEST,
                "digest": child,
                "size": len(self.manifests[(repo, child)][1]),
                "platform": {"architecture": arch, "os": "linux"},
            }
            for child, arch in zip(children, ("amd64", "arm64", "s390x"), strict=False)
        ]
        return self.put_manifest(repo, tag, {"schemaVersion": 2, "manifests": entries}, INDEX)

    def seen(self, method: str, path_part: str) -> list[dict[str, str]]:
        return [h for m, p, h in self.requests if m == method and path_part in p]

    # -- the server ----------------------------------------------------------------------------

    def _allowed(self, headers, name: str, action: str) -> bool:
        value = headers.get("Authorization", "")
        if self.auth is None:
            return True
        if self.auth == "basic" and value.startswith("Basic "):
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
            return self.users.get(user) == password and action in self.grants[user]
        if self.auth == "bearer" and value.startswith("Bearer "):
            granted = json.loads(base64.b64decode(value[7:]))
            return action in granted.get(name, ())
        return False

    def _token(self, handler) -> None:
        query = parse_qs(urlsplit(handler.path).query)
        value = handler.headers.get("Authorization", "")
        user = None
        if value.startswith("Basic "):
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
            if self.users.get(user) != password:
                return self._send(handler, 401, b'{"errors": []}')
        access: dict[str, list[str]] = {}
        for scope in query.get("scope", []):
            _, name, actions = scope.split(":")
            allowed = self.grants.get(user, ()) if user else ()
            access.setdefault(name, []).extend(a for a in actions.split(",") if a in allowed)
        token = base64.b64encode(json.dumps(access).encode()).decode()
        return self._send(handler, 200, json.dumps({"token": token, "expires_in": 300}).encode())

    @staticmethod
    def _send(handler, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        handler.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            handler.send_header(key, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    def _handler(self):
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def _any(self) -> None:
                path = urlsplit(self.path).path
                registry.requests.append((self.command, self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                for part, behaviour in registry.hostile.items():
                    if part in self.path:
                        return behaviour(self)
                if path == "/token":
                    return registry._token(self)
                upload, route = UPLOAD.fullmatch(path), ROUTE.fullmatch(path)
                name = (upload or route)["name"] if (upload or route) else ""
                action = "pull" if self.command in ("GET", "HEAD") else "push"
                if not registry._allowed(self.headers, name, action):
                    challenge = (
                        'Basic realm="fake"'
                        if registry.auth == "basic"
                        else f'Bearer realm="http://{registry.address}/token",service="fake",'
                        f'scope="repository:{name}:{"pull,push" if action == "push" else "pull"}"'
                    )
                    body = b'{"errors": [{"code": "UNAUTHORIZED", "message": "login needed"}]}'
                    return registry._send(self, 401, body, {"WWW-Authenticate": challenge})
                if upload:
                    return self._upload(upload, body)
                if route is None:
                    return registry._send(self, 404)
                if route["kind"] == "blobs":
                    if (route["name"], route["ref"]) not in registry.links:
                        return registry._send(self, 404)
                    return registry._send(self, 200, registry.blobs[route["ref"]])
                key = (route["name"], route["ref"])
                if self.command == "PUT":
                    media_type = self.headers["Content-Type"]
                    for ref in (route["ref"], digest_of(body)):
                        registry.manifests[(route["name"], ref)] = (media_type, body)
                    return registry._send(
                        self, 201, headers={"Docker-Content-Digest": digest_of(body)}
                    )
                if key not in registry.manifests:
                    return registry._send(self, 404)
                media_type, data = registry.manifests[key]
                return registry._send(self, 200, data, {"Content-Type": media_type})

            def _upload(self, match, body: bytes) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if self.command == "POST":
                    mount, source = query.get("mount", [""])[0], query.get("from", [""])[0]
                    if (source, mount) in registry.links:
                        registry.links.add((match["name"], mount))
                        return registry._send(self, 201)
                    upload = uuid.uuid4().hex
                    registry.uploads[upload] = b""
                    location = f"/v2/{match['name']}/blobs/uploads/{upload}?state=x"
                    return registry._send(self, 202, headers={"Location": location})
                data = registry.uploads.pop(match["id"]) + body
                if digest_of(data) != query["digest"][0]:
                    return registry._send(self, 400, b'{"errors": [{"code": "DIGEST_INVALID"}]}')
                registry.blobs[digest_of(data)] = data
                registry.links.add((match["name"], digest_of(data)))
                return registry._send(self, 201)

            do_GET = do_HEAD = do_PUT = do_POST = _any

        return Handler
