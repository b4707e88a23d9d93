"""How fast `envparity drift --target kubernetes` is end to end, on 10,000 listed objects.

Target: under 2 s for 5,000 Deployments and 5,000 GPU nodes of one environment, listed by
the real CLI in a subprocess from a loopback API server that pages with `limit`/`continue` as
the real one does. Its pages are joined from objects encoded once, so the time measured is
the CLI's, not the server's (tests/drift/fake_kube.py filters and encodes every object on every
page: seconds of its own here). The baseline, measured in the same run, is the same command
against the same server holding no objects: starting the CLI and the client.
The human report is timed: `--json` lists every check passed (40,000 here, 3 MB of
indented JSON), which times the JSON encoder more than the check.
Run: .venv/bin/python bench/bench_drift_kubernetes.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from urllib.parse import parse_qs, urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENVPARITY = Path(sys.executable).with_name("envparity")

from envparity.core.names import k8s_labels  # noqa: E402 - after the path set-up
from envparity.core.resolve import resolve  # noqa: E402
from envparity.core.spec import load_spec  # noqa: E402
from envparity.flows.drift_check import expected_node_pool  # noqa: E402

N = 10_000
SPEC = ROOT / "envspecs" / "serve.yaml"
# A registry port nothing listens on: the provenance lookup is refused at once.
IMAGE = "127.0.0.1:9/production/serve:{tag}@sha256:" + "ab" * 32


def objects(env, image: str) -> tuple[list[dict], list[dict]]:
    """N/2 Deployments of `env` (one per namespace) and N/2 GPU nodes of its pool, as
    the API server lists them."""
    labels = k8s_labels(env)
    pool = dict(expected_node_pool(env).labels)
    deployments = [
        {
            "metadata": {
                "name": env.name,
                "namespace": f"ns{i}",
                "labels": labels,
                "annotations": {"envparity.io/fingerprint": env.fingerprint},
            },
            "spec": {
                "replicas": env.replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "nodeSelector": pool,
                        "containers": [
                            {
                                "name": env.name,
                                "image": image,
                                "resources": {
                                    "limits": {"nvidia.com/gpu": str(env.gpus_per_replica)}
                                },
                            }
                        ],
                    },
                },
            },
        }
        for i in range(N // 2)
    ]
    node_labels = pool | {
        "nvidia.com/gpu.product": "NVIDIA-L4",
        "nvidia.com/cuda.driver-version.major": "550",
        "nvidia.com/cuda.driver-version.minor": "54",
        "nvidia.com/cuda.driver-version.revision": "15",
    }
    nodes = [{"metadata": {"name": f"node-{i}", "labels": node_labels}} for i in range(N // 2)]
    return deployments, nodes


class ApiServer(ThreadingHTTPServer):
    """List endpoints on 127.0.0.1 serving `lists[path]` (each item JSON-encoded once),
    `limit` items a page, the rest behind an opaque `continue` token. Every object is of
    the environment, so the label selector is not evaluated."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Pages)
        self.lists: dict[str, list[bytes]] = {}
        Thread(target=self.serve_forever, daemon=True).start()

    def kubeconfig(self, path: Path) -> Path:
        cluster = {"server": f"http://127.0.0.1:{self.server_address[1]}"}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "bench",
            "clusters": [{"name": "bench", "cluster": cluster}],
            "users": [{"name": "reader", "user": {"token": "read-only"}}],
            "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "reader"}}],
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path


class _Pages(BaseHTTPRequestHandler):
    server: ApiServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        items = self.server.lists.get(url.path)
        if items is None:
            self.send_error(404)
            return
        start = int(base64.b64decode(query["continue"])) if query.get("continue") else 0
        end = start + (int(query.get("limit") or 0) or len(items))
        meta = {"resourceVersion": "1"}
        if end < len(items):
            meta |= {"continue": base64.b64encode(str(end).encode()).decode()}
            meta |= {"remainingItemCount": len(items) - end}
        head = json.dumps({"kind": "List", "apiVersion": "v1", "metadata": meta})
        body = b'%s, "items": [%s]}' % (head[:-1].encode(), b",".join(items[start:end]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def timed(cmd: list[str], runs: int, env: dict) -> tuple[float, float, int]:
    """Median wall and CPU (user + system) seconds of `cmd` over `runs` runs after a
    warm-up, and its exit code."""
    code = subprocess.run(cmd, capture_output=True, env=env, check=False).returncode
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = resolve(load_spec(SPEC), "production")
    image = IMAGE.format(tag=env.image_tag)
    server = ApiServer()
    server.lists = {"/apis/apps/v1/deployments": [], "/api/v1/nodes": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stacks = Path(tmp) / "stacks"
            stacks.mkdir()
            (stacks / "Pulumi.production.yaml").write_text(
                yaml.safe_dump({"config": {"envparity:images": [image]}}), encoding="utf-8"
            )
            cmd = [str(ENVPARITY), "drift", str(SPEC), "--stage", "production"]
            cmd += ["--target", "kubernetes", "--stacks", str(stacks)]
            child = {**os.environ, "KUBECONFIG": str(server.kubeconfig(Path(tmp) / "kubeconfig"))}
            empty, empty_cpu, _ = timed(cmd, args.runs, child)
            deployments, nodes = objects(env, image)
            server.lists = {
                "/apis/apps/v1/deployments": [json.dumps(d).encode() for d in deployments],
                "/api/v1/nodes": [json.dumps(n).encode() for n in nodes],
            }
            full, full_cpu, code = timed(cmd, args.runs, child)
    finally:
        server.shutdown()
        server.server_close()
    if code not in (0, 2):
        sys.exit(f"drift exited {code}: it could not check")
    print(f"drift, no objects          {empty:6.2f} s  (baseline)  cpu {empty_cpu:5.2f} s")
    print(
        f"drift, {N:,} objects      {full:6.2f} s  {full / empty:5.1f}x  cpu {full_cpu:5.2f} s"
        "  (target < 2 s)"
    )
    if full >= 2:
        sys.exit(1)


if __name__ == "__main__":
    main()
