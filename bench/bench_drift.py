"""How fast the drift engine compares observed objects with their specs (issue 6's target).

Target: 10,000 observed objects compared in under 1 s. Each workload is 10,000 objects:
Kubernetes (5,000 Deployments + 5,000 GPU nodes), AWS (10,000 node groups) and host
(10,000 installed distributions against 10,000 lock pins). The baseline, measured in
the same run, is `json.dumps` of the same objects' raw API-shaped dicts: the least any
checker must do to look at them once.
Run: .venv/bin/python bench/bench_drift.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envparity.core.drift import engine  # noqa: E402 - after the path set-up
from envparity.core.drift.engine import Expectations  # noqa: E402
from envparity.core.drift.observed import (  # noqa: E402
    AwsFacts,
    DeploymentFacts,
    HostFacts,
    KubernetesFacts,
    NodeFacts,
    NodeGroupFacts,
    Observation,
    WorkloadContainer,
)
from envparity.core.resolve import resolve  # noqa: E402
from envparity.core.spec import load_spec  # noqa: E402
from envparity.flows.drift_check import expected_node_pool  # noqa: E402

N = 10_000
DIGEST = "sha256:" + "ab" * 32


def median_time(fn, runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def workloads(env):
    pool = expected_node_pool(env)
    labels = dict(pool.labels) | {
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
        "nvidia.com/cuda.driver-version.major": "550",
        "nvidia.com/cuda.driver-version.minor": "54",
        "nvidia.com/cuda.driver-version.revision": "15",
    }
    deployments = tuple(
        DeploymentFacts(
            f"ns{i}",
            env.name,
            {"app.kubernetes.io/name": env.name},
            {"envparity.io/fingerprint": env.fingerprint if i % 7 else "0" * 64},
            env.replicas if i % 11 else 1,
            (
                WorkloadContainer(
                    env.name, f"r/{env.name}:{env.image_tag}@{DIGEST}", str(env.gpus_per_replica)
                ),
            ),
            dict(pool.labels),
        )
        for i in range(N // 2)
    )
    nodes = tuple(NodeFacts(f"node-{i}", labels) for i in range(N // 2))
    kube = Observation(KubernetesFacts(deployments, nodes))
    groups = tuple(
        NodeGroupFacts(
            "c",
            f"g{i}",
            {"envparity.io/fingerprint": env.fingerprint},
            (pool.instance_type if i % 5 else "p4d.24xlarge",),
            pool.ami_type,
            pool.min_size,
            pool.max_size,
            dict(pool.labels),
        )
        for i in range(N)
    )
    aws = Observation(AwsFacts(("c",), groups, ()))
    dists = {f"pkg{i}": f"1.{i % 9}.0" for i in range(N)}
    lock = {f"pkg{i}": "1.0.0" for i in range(N)}
    host = Observation(HostFacts(env.software.python, dists, {}))
    expectations = Expectations(promoted_digest=DIGEST, node_pool=pool, lock=lock)
    raw = {
        "kubernetes": [vars(d) for d in deployments] + [vars(n) for n in nodes],
        "aws": [vars(g) for g in groups],
        "host": dists,
    }
    return {"kubernetes": kube, "aws": aws, "host": host}, expectations, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = resolve(load_spec(ROOT / "envspecs" / "train.yaml"), "production")
    observations, expectations, raw = workloads(env)
    print(f"{'workload':<28}{'baseline':>12}{'engine':>12}{'ratio':>9}  findings")
    for target, observation in observations.items():
        baseline = median_time(lambda t=target: json.dumps(raw[t], default=str), args.runs)
        took = median_time(
            lambda t=target, o=observation: engine.compare(t, env, o, expectations), args.runs
        )
        result = engine.compare(target, env, observation, expectations)
        verdict = "ok" if took < 1.0 else "TOO SLOW (target < 1 s)"
        print(
            f"{target + ' (10,000 objects)':<28}{baseline * 1000:9.1f} ms{took * 1000:9.1f} ms"
            f"{took / baseline:8.2f}x  {len(result.findings):>6}  {verdict}"
        )


if __name__ == "__main__":
    main()
