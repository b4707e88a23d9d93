"""The Kubernetes collector: Deployments of the env and stage, and the nodes that can run them.

Endpoint and credentials come from KUBECONFIG / the current context (or the stage's
`cluster` context), read by the official `kubernetes` client. Lists are paged with
`limit`/`continue`, and the two lists run concurrently. Pages are fetched through the client's
REST layer (`list_page`), not its generated API classes: importing CoreV1Api and AppsV1Api
with their models costs seconds of CPU, more than listing 10,000 objects
(bench/bench_drift_kubernetes.py).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from envparity.adapters.collectors.retry import GaveUp, with_retries
from envparity.core.drift.expectations import ExpectedNodePool
from envparity.core.drift.findings import Unchecked
from envparity.core.drift.observed import (
    DeploymentFacts,
    KubernetesFacts,
    NodeFacts,
    Observation,
    WorkloadContainer,
)
from envparity.core.drift.rules.kubernetes import GFD_PRODUCT
from envparity.core.model import ResolvedStage
from envparity.core.names import GPU_RESOURCE, k8s_selector_text
from envparity.core.provenance import Provenance, ProvenanceError, parse

TARGET = "kubernetes"
FORBIDDEN = "the API server denied the list:"


def deployment_selector(env: ResolvedStage) -> str:
    return k8s_selector_text(env)


def node_selector(env: ResolvedStage, pool: ExpectedNodePool | None) -> str:
    """The node pool's own labels when the stage has one, else any node GFD labelled as GPU."""
    if pool is not None:
        return ",".join(f"{k}={v}" for k, v in sorted(pool.labels.items()))
    return GFD_PRODUCT


def collect(
    env: ResolvedStage,
    pool: ExpectedNodePool | None = None,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    timeout: float = 10.0,
    page_size: int = 500,
) -> Observation:
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    try:
        _load_config(config, configuration, kubeconfig, context or env.cluster)
    except (ConfigException, OSError) as exc:
        return Observation(
            None,
            (
                Unchecked(
                    TARGET,
                    "kubeconfig",
                    f"cannot use the kubeconfig: {exc}",
                    "set KUBECONFIG or `cluster:` to a context that exists "
                    "(kubectl config get-contexts)",
                ),
            ),
        )
    configuration.retries = False  # retries are ours: bounded, with backoff, under a deadline
    api = client.ApiClient(configuration)
    deadline = time.monotonic() + timeout
    try:
        with ThreadPoolExecutor(max_workers=2) as pool_:
            deployments = pool_.submit(_list_workloads, api, env, page_size, timeout, deadline)
            nodes = (
                pool_.submit(
                    _list_all,
                    api,
                    "/api/v1/nodes",
                    node_selector(env, pool),
                    page_size,
                    timeout,
                    deadline,
                )
                if env.needs_gpu
                else None
            )
            dep_items, dep_gap = deployments.result()
            node_items, node_gap = nodes.result() if nodes else ([], None)
    finally:
        api.close()
    gaps = tuple(
        Unchecked(TARGET, what, gap, _hint(gap))
        for what, gap in (("deployments", dep_gap), ("nodes", node_gap))
        if gap
    )
    kind = WORKLOAD_LISTS[env.kind][0]
    deployments = None if dep_gap else tuple(_deployment(d, kind) for d in dep_items)
    provenance_gaps: tuple[Unchecked, ...] = ()
    if deployments:
        deployments, provenance_gaps = _with_provenance(deployments, deadline)
    facts = KubernetesFacts(
        deployments=deployments,
        nodes=None if node_gap else tuple(_node(n) for n in node_items),
    )
    return Observation(facts, gaps + provenance_gaps)


def _with_provenance(
    deployments: tuple[DeploymentFacts, ...], deadline: float
) -> tuple[tuple[DeploymentFacts, ...], tuple[Unchecked, ...]]:
    """Each container with the provenance record of its image read from its registry before
    the deadline, and a gap ("could not check") for each image whose registry answered too
    slowly, too much, garbage, or refused the login it has. An unreachable registry, or one
    that wants a login nobody configured, leaves the fingerprint annotation to stand alone."""
    images = sorted({c.image for d in deployments for c in d.containers if "/" in c.image})
    if not images:
        return deployments, ()
    with ThreadPoolExecutor(max_workers=min(8, len(images))) as workers:
        results = list(workers.map(lambda i: _provenance(i, deadline), images))
    found = {i: r for i, r in zip(images, results, strict=True) if isinstance(r, Provenance)}
    gaps = tuple(r for r in results if isinstance(r, Unchecked))
    if not found:  # nothing to add: no copy of thousands of objects
        return deployments, gaps
    return tuple(
        replace(
            d,
            containers=tuple(
                replace(c, provenance=found[c.image]) if c.image in found else c
                for c in d.containers
            ),
        )
        if any(c.image in found for c in d.containers)
        else d
        for d in deployments
    ), gaps


def _provenance(image: str, deadline: float) -> Provenance | Unchecked | None:
    from envparity.adapters import registry

    def gap(why: str, hint: str) -> Unchecked:
        return Unchecked(TARGET, f"image {image}", f"could not read its provenance: {why}", hint)

    left = deadline - time.monotonic()
    if left <= 0:
        return None  # the lists took the time: the registry was never asked, as before
    try:
        record = registry.read_provenance(image, timeout=left)
        return parse(record, image) if record is not None else None
    except (registry.Unreachable, registry.LoginMissing):
        return None  # not readable from here: the fingerprint finding stands alone
    except (registry.RegistryError, ProvenanceError) as exc:
        return gap(exc.message, exc.hint)


def _load_config(config, configuration, kubeconfig: str | None, context: str | None) -> None:
    """The kubeconfig (KUBECONFIG or ~/.kube/config); inside a pod without one (the DriftJob),
    the pod's service account, as `kubectl` does."""
    # The client reads KUBECONFIG once, at import; read it now so the current value counts.
    kubeconfig = kubeconfig or os.environ.get("KUBECONFIG") or None
    default = str(Path("~/.kube/config").expanduser())
    in_pod = "KUBERNETES_SERVICE_HOST" in os.environ
    if kubeconfig is None and in_pod and not Path(default).exists():
        config.load_incluster_config(client_configuration=configuration)
        return
    config.load_kube_config(
        config_file=kubeconfig or default, context=context, client_configuration=configuration
    )


def _hint(reason: str) -> str:
    if "403" in reason or "401" in reason:
        return "grant the drift checker read access (get/list deployments and nodes)"
    return "check that the cluster is reachable from here (kubectl get nodes) and retry"


def _retryable(exc: Exception) -> str | None:
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError

    if isinstance(exc, ApiException):
        if exc.status == 429 or (exc.status or 0) >= 500:
            return f"the API server answered {exc.status} {exc.reason}"
        return None
    if isinstance(exc, (HTTPError, OSError)):
        return f"cannot reach the API server: {type(exc).__name__}"
    return None


# The object each workload kind is deployed as (components/workload.py): kind, API group
# path and resource, listed at /apis/<group>/<resource> or /apis/<group>/namespaces/<ns>/<resource>.
WORKLOAD_LISTS = {
    "service": ("Deployment", "apps/v1", "deployments"),
    "job": ("Job", "batch/v1", "jobs"),
    "cronjob": ("CronJob", "batch/v1", "cronjobs"),
}


def _list_workloads(api, env: ResolvedStage, page_size: int, timeout: float, deadline: float):
    """The Deployments, Jobs or CronJobs (by the env's kind) across all namespaces; when that
    is forbidden (the DriftJob's Role is namespaced), in the env's namespace (its name)."""
    _, group, resource = WORKLOAD_LISTS[env.kind]
    selector = deployment_selector(env)
    everywhere = f"/apis/{group}/{resource}"
    items, gap = _list_all(api, everywhere, selector, page_size, timeout, deadline)
    if gap and gap.startswith(FORBIDDEN):
        in_namespace = f"/apis/{group}/namespaces/{env.name}/{resource}"
        items, gap = _list_all(api, in_namespace, selector, page_size, timeout, deadline)
    return items, gap


def list_page(
    api, path: str, selector: str, limit: int, token: str | None, timeout: tuple[float, float]
) -> dict:
    """One page of the list at `path`, with the client's credentials and connection pool;
    an answer other than 2xx raises the client's ApiException, as its generated calls do."""
    from kubernetes.client.rest import ApiException

    configuration = api.configuration
    headers = {**api.default_headers, "Accept": "application/json"}
    for auth in configuration.auth_settings().values():  # a bearer token, refreshed if due
        if auth["in"] == "header" and auth["value"]:
            headers[auth["key"]] = auth["value"]
    query = {"labelSelector": selector, "limit": limit} | ({"continue": token} if token else {})
    response = api.rest_client.request(
        "GET",
        f"{configuration.host}{path}?{urlencode(query)}",
        headers=headers,
        _request_timeout=timeout,
    )
    if not 200 <= response.status <= 299:
        raise ApiException(status=response.status, reason=response.reason)
    # kubernetes < 35 reads the body in request(); later versions on read()
    return json.loads(response.data if response.data is not None else response.read())


def _list_all(
    api, path: str, selector: str, page_size: int, timeout: float, deadline: float
) -> tuple[list[dict], str | None]:
    """Every item of a paged list, or (what was read, why the rest could not be)."""
    from kubernetes.client.rest import ApiException

    items: list[dict] = []
    token: str | None = None
    while True:

        def page(token=token):
            left = max(0.1, deadline - time.monotonic())
            timeouts = (min(3.0, left), min(timeout, left))
            return list_page(api, path, selector, page_size, token, timeouts)

        try:
            body = with_retries(page, retryable=_retryable, deadline=deadline)
        except GaveUp as exc:
            return items, f"{exc.reason}; read {len(items)} object(s) before that"
        except ApiException as exc:
            refused = FORBIDDEN if exc.status == 403 else "the API server refused the list:"
            return items, f"{refused} {exc.status} {exc.reason}"
        except ValueError as exc:
            return items, f"the API server sent something that is not JSON: {exc}"
        items.extend(body.get("items") or ())
        token = (body.get("metadata") or {}).get("continue")
        if not token:
            return items, None
        if time.monotonic() > deadline:
            return items, f"timed out after reading {len(items)} object(s)"


def _deployment(item: dict, kind: str = "Deployment") -> DeploymentFacts:
    """A Deployment, Job or CronJob: its pod template and replicas (a Job's parallelism)."""
    meta, spec = item.get("metadata") or {}, item.get("spec") or {}
    if "jobTemplate" in spec:
        spec = (spec["jobTemplate"] or {}).get("spec") or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}
    containers = tuple(
        WorkloadContainer(
            c.get("name", ""),
            c.get("image", ""),
            ((c.get("resources") or {}).get("limits") or {}).get(GPU_RESOURCE),
        )
        for c in pod.get("containers") or ()
    )
    return DeploymentFacts(
        meta.get("namespace", ""),
        meta.get("name", ""),
        meta.get("labels") or {},
        meta.get("annotations") or {},
        spec["replicas"] if "replicas" in spec else spec.get("parallelism"),
        containers,
        pod.get("nodeSelector") or {},
        kind,  # list items carry no `kind`: the list call says it
    )


def _node(item: dict) -> NodeFacts:
    meta = item.get("metadata") or {}
    return NodeFacts(meta.get("name", ""), meta.get("labels") or {})
