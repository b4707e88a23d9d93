"""A small stateful Kubernetes API server on 127.0.0.1 for the collector tests.

It stores objects created through the real `kubernetes` client (POST), lists them with
label selectors and `limit`/`continue` paging as the real API server does, answers
errors as `Status` objects, and can be told to fail the next requests (429, 500, 403,
a hang, or a 200 whose body is not JSON) or to send list bodies slowly, to test bounded
retries and timeouts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import yaml

NOT_JSON = "not-json"
LISTS = {  # path -> (store key, List kind, apiVersion)
    "/api/v1/nodes": ("nodes", "NodeList", "v1"),
    "/apis/apps/v1/deployments": ("deployments", "DeploymentList", "apps/v1"),
    "/apis/batch/v1/jobs": ("jobs", "JobList", "batch/v1"),
    "/apis/batch/v1/cronjobs": ("cronjobs", "CronJobList", "batch/v1"),
}
# Namespaced workload resources: (group path, resource) of /apis/<group>/namespaces/<ns>/<r>.
NAMESPACED = {("apps/v1", "deployments"), ("batch/v1", "jobs"), ("batch/v1", "cronjobs")}


def matches(labels: dict, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class FakeKube:
    def __init__(self) -> None:
        self.store: dict[str, list[dict]] = {k: [] for k, _, _ in LISTS.values()}
        self.requests: list[tuple[str, str, dict]] = []
        # status codes, seconds to hang, 0 for "answer", NOT_JSON for a body that is not JSON
        self.faults: list[int | float | str] = []
        self.trickle: tuple[int, float] | None = None  # send list bodies in N parts, pausing
        self.forbidden: set[str] = set()  # paths answered 403, as RBAC does
        self.version = 100
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, path: Path, context: str = "fake") -> Path:
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": context,
                    "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                    "users": [{"name": "reader", "user": {"token": "read-only-token"}}],
                    "contexts": [
                        {"name": context, "context": {"cluster": "fake", "user": "reader"}}
                    ],
                }
            )
        )
        return path

    def start(self) -> FakeKube:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def lists(self, path: str) -> int:
        return sum(1 for method, p, _ in self.requests if method == "GET" and p == path)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(
                self, code: int, body: dict | bytes, parts: int = 1, pause: float = 0
            ) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The client may have given up first (the timeout tests want exactly that).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    size = -(-len(data) // parts)
                    for start in range(0, len(data), size):
                        if start:
                            time.sleep(pause)
                        self.wfile.write(data[start : start + size])
                        self.wfile.flush()

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(
                    code,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Failure",
                        "message": message,
                        "reason": reason,
                        "code": code,
                    },
                )

            def _fault(self) -> bool:
                with fake.lock:
                    fault = fake.faults.pop(0) if fake.faults else None
                if not fault:  # None (no faults queued) or 0 (answer this one normally)
                    return False
                if isinstance(fault, float):
                    time.sleep(fault)
                    return False
                if fault == NOT_JSON:  # e.g. a proxy's HTML error page with status 200
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>")
                    return True
                reasons = {429: "TooManyRequests", 500: "InternalError", 403: "Forbidden"}
                self._status(fault, reasons.get(fault, "Unknown"), f"injected {fault}")
                return True

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append(("GET", url.path, query))
                if self._fault():
                    return
                if url.path in fake.forbidden:
                    self._status(403, "Forbidden", f"cannot list {url.path} at cluster scope")
                    return
                namespace = None
                parts = url.path.strip("/").split("/")
                if (
                    len(parts) == 6
                    and parts[0] == "apis"
                    and parts[3] == "namespaces"
                    and ("/".join(parts[1:3]), parts[5]) in NAMESPACED
                ):
                    namespace = parts[4]
                    url = urlparse(f"/apis/{parts[1]}/{parts[2]}/{parts[5]}")
                if url.path not in LISTS:
                    self._status(404, "NotFound", f"the server could not find {url.path}")
                    return
                key, kind, api_version = LISTS[url.path]
                with fake.lock:
                    items = [
                        o
                        for o in fake.store[key]
                        if matches(
                            o["metadata"].get("labels") or {}, query.get("labelSelector", "")
                        )
                        and namespace in (None, o["metadata"].get("namespace"))
                    ]
                    version = str(fake.version)
                start = 0
                if query.get("continue"):
                    try:
                        token = json.loads(base64.b64decode(query["continue"]))
                        start = int(token["start"])
                    except (ValueError, KeyError):
                        self._status(410, "Expired", "the provided continue parameter is too old")
                        return
                limit = int(query.get("limit") or 0) or len(items) or 1
                page = items[start : start + limit]
                meta = {"resourceVersion": version}
                if start + limit < len(items):
                    meta["continue"] = base64.b64encode(
                        json.dumps({"start": start + limit, "rv": version}).encode()
                    ).decode()
                    meta["remainingItemCount"] = len(items) - start - limit
                body = {"kind": kind, "apiVersion": api_version, "metadata": meta, "items": page}
                self._send(200, body, *(fake.trickle or (1, 0)))

            def do_POST(self) -> None:
                url = urlparse(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(("POST", url.path, {}))
                parts = url.path.strip("/").split("/")
                if url.path == "/api/v1/nodes":
                    key, kind = "nodes", "Node"
                elif len(parts) == 6 and ("/".join(parts[1:3]), parts[5]) in NAMESPACED:
                    key, kind = parts[5], LISTS[f"/apis/{parts[1]}/{parts[2]}/{parts[5]}"][1][:-4]
                    body.setdefault("metadata", {})["namespace"] = parts[4]
                    if key == "deployments":
                        body.setdefault("spec", {}).setdefault("replicas", 1)  # the API default
                else:
                    self._status(404, "NotFound", url.path)
                    return
                with fake.lock:
                    meta = body["metadata"]
                    if any(
                        o["metadata"]["name"] == meta["name"]
                        and o["metadata"].get("namespace") == meta.get("namespace")
                        for o in fake.store[key]
                    ):
                        self._status(409, "AlreadyExists", f"{meta['name']} already exists")
                        return
                    fake.version += 1
                    meta.update(
                        uid=f"uid-{fake.version}",
                        resourceVersion=str(fake.version),
                        creationTimestamp="2026-01-01T00:00:00Z",
                    )
                    body.update(kind=kind, apiVersion="v1" if key == "nodes" else "apps/v1")
                    fake.store[key].append(body)
                self._send(201, body)

        return Handler
