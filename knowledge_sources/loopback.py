"""Loopback servers that speak the primary sources' protocols over copies of their data.

- `SimpleIndex`: a PEP 503 simple index (`/<prefix>/<project>/`) serving an HTML page as
  download.pytorch.org/whl/<project>/ serves it.
- `TagRegistry`: the OCI distribution tag list (`/<prefix>/v2/<repo>/tags/list`) with
  `n`/`last` paging, a `Link: <...>; rel="next"` header, and Docker Hub's bearer-token
  challenge (401 + `WWW-Authenticate: Bearer realm=...`, token from `/token`).

Used to build the packaged snapshot from copies (build_packaged.py) and by the tests,
so the generator runs the same code it runs against the real sources.
"""

from __future__ import annotations

import abc
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "loopback-token"


class _Server(abc.ABC):
    """A threaded HTTP server on 127.0.0.1:<free port>; subclasses answer each GET."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                outer.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @abc.abstractmethod
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one GET request."""

    @staticmethod
    def send(request, status: int, body: bytes, headers: dict[str, str]) -> None:
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


class SimpleIndex(_Server):
    """`pages[(prefix, project)]` is served at /<prefix>/<project>/: PEP 691 JSON when it
    starts with '{', else PEP 503 HTML."""

    def __init__(self, pages: dict[tuple[str, str], str]):
        super().__init__()
        self.pages = pages

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlparse(request.path).path.strip("/").split("/")
        page = self.pages.get(("/".join(parts[:-1]), parts[-1]))
        if page is None:
            self.send(request, 404, b"not found", {"Content-Type": "text/plain"})
            return
        kind = "application/vnd.pypi.simple.v1+json" if page.startswith("{") else "text/html"
        self.send(request, 200, page.encode(), {"Content-Type": kind})


class TagRegistry(_Server):
    """`tags[(prefix, repository)]` is the tag list served at /<prefix>/v2/<repo>/tags/list."""

    def __init__(self, tags: dict[tuple[str, str], list[str]], *, auth: bool = True):
        super().__init__()
        self.tags = {key: sorted(value) for key, value in tags.items()}
        self.auth = auth
        self.requests: list[str] = []

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlparse(request.path)
        self.requests.append(request.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        if parsed.path == "/token":
            body = json.dumps({"token": TOKEN, "scope": query.get("scope", "")}).encode()
            self.send(request, 200, body, {"Content-Type": "application/json"})
            return
        prefix, marker, rest = parsed.path.strip("/").partition("v2/")
        repository = rest.removesuffix("/tags/list")
        key = (prefix.strip("/"), repository)
        if not marker or not rest.endswith("/tags/list") or key not in self.tags:
            self.send(request, 404, b"{}", {"Content-Type": "application/json"})
            return
        if self.auth and request.headers.get("Authorization") != f"Bearer {TOKEN}":
            challenge = (
                f'Bearer realm="{self.url}/token",service="loopback",'
                f'scope="repository:{repository}:pull"'
            )
            self.send(request, 401, b"{}", {"WWW-Authenticate": challenge})
            return
        tags = self.tags[key]
        size = int(query.get("n", "100"))
        last = query.get("last")
        start = tags.index(last) + 1 if last in tags else 0
        page = tags[start : start + size]
        headers = {"Content-Type": "application/json"}
        if start + size < len(tags):
            following = urllib.parse.urlencode({"n": size, "last": page[-1]})
            headers["Link"] = f'<{parsed.path}?{following}>; rel="next"'
        body = json.dumps({"name": repository, "tags": page}).encode()
        self.send(request, 200, body, headers)
