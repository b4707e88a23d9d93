"""The kubernetes target against the real kube-apiserver of `.ci/services up`: real list
paging, label selectors, validation and RBAC; the drift job's own rights through a real
ServiceAccount token (TokenRequest)."""

from __future__ import annotations

import pytest
import yaml
from envparity.components.drift_job import CLUSTER_RULES, NAMESPACED_RULES, SERVICE_ACCOUNT

from envparity.adapters.collectors import kubernetes as kube_collector
from envparity.flows.drift_check import expected_node_pool
from tests.cluster.conftest import KUBECONFIG, suffix
from tests.drift.conftest import gpu_spec
from tests.drift.kube_objects import add_deployment, add_node, api, drift_json

pytestmark = pytest.mark.k8s


@pytest.fixture
def setup(tmp_path, write_spec, resolved, kubeconfig, cleanup):
    """A GPU spec with a name of its own, its production stage, its namespace, and a stacks
    dir recording the promoted digest."""
    from kubernetes import client

    spec = gpu_spec(name=f"demo-{suffix()}")
    path = write_spec(spec)
    _, env = resolved(spec, "production")
    with api(KUBECONFIG) as c:
        client.CoreV1Api(c).create_namespace({"metadata": {"name": env.name}})
    cleanup(("namespace", env.name))
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    image = f"registry.example/production/{env.name}:{env.image_tag}@sha256:{'ab' * 32}"
    (stacks / "Pulumi.production.yaml").write_text(
        yaml.safe_dump({"config": {"envparity:images": [image]}})
    )
    return path, env, stacks, image


def node(env, cleanup, name, **kwargs) -> str:
    name = f"{env.name}-{name}"
    add_node(env, name, kubeconfig=KUBECONFIG, **kwargs)
    cleanup(("node", name))
    return name


def test_in_sync(setup, cli, cleanup):
    path, env, stacks, image = setup
    add_deployment(env, image, kubeconfig=KUBECONFIG)
    node(env, cleanup, "gpu-1")
    old = node(env, cleanup, "gpu-2", deprecated=True)  # old GFD labels are read as a fallback
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert (f"deployment {env.name}/{env.name}", "image digest") in checks
    assert (f"node {old}", "driver") in checks


def test_drift_in_deployment_and_nodes(setup, cli, cleanup):
    path, env, stacks, _ = setup
    other = f"registry.example/production/{env.name}:{env.image_tag}@sha256:{'cd' * 32}"
    add_deployment(
        env,
        other,
        kubeconfig=KUBECONFIG,
        replicas=5,
        gpus="2",
        selector={"kubernetes.io/os": "linux"},
        annotations={"envparity.io/fingerprint": "0" * 64},
    )
    old = node(env, cleanup, "gpu-old", driver=("535", "104", "05"))
    l4 = node(env, cleanup, "gpu-l4", product="NVIDIA-L4")
    run = drift_json(cli, path, stacks)
    assert run.code == 2
    found = {(f["object"], f["field"]): f for f in run.json()["results"][0]["findings"]}
    dep = f"deployment {env.name}/{env.name}"
    assert found[(dep, "replicas")]["expected"] == 2 and found[(dep, "replicas")]["actual"] == 5
    assert found[(dep, "image digest")]["actual"] == f"sha256:{'cd' * 32}"
    assert found[(dep, "envparity.io/fingerprint")]["actual"] == "0" * 64
    assert found[(dep, "limits.nvidia.com/gpu")]["actual"] == "2"
    assert found[(dep, "nodeSelector")]["actual"] == {"kubernetes.io/os": "linux"}
    assert found[(f"node {old}", "driver")]["actual"] == "535.104.05"
    assert found[(f"node {l4}", "gpu")]["actual"] == "L4"


def test_missing_deployment_and_nodes_are_drift(setup, cli):
    path, _, stacks, _ = setup
    run = drift_json(cli, path, stacks)
    assert run.code == 2
    assert {(f["object"], f["field"]) for f in run.json()["results"][0]["findings"]} == {
        ("deployments", "present"),
        ("nodes", "GPU nodes"),
    }


def test_lists_are_paged(setup, cleanup, monkeypatch):
    """The real server honours `limit`: 7 nodes in pages of 2 take 4 requests."""
    _, env, _, image = setup
    add_deployment(env, image, kubeconfig=KUBECONFIG)
    names = {node(env, cleanup, f"gpu-{index}") for index in range(7)}
    pages = []
    list_page = kube_collector.list_page

    def counting(api, path, selector, limit, token, timeout):
        if path == "/api/v1/nodes":
            pages.append(token)
        return list_page(api, path, selector, limit, token, timeout)

    monkeypatch.setattr(kube_collector, "list_page", counting)
    observation = kube_collector.collect(env, expected_node_pool(env), page_size=2)
    assert {n.name for n in observation.facts.nodes} == names
    assert len(pages) == 4 and pages[0] is None and all(pages[1:])


def test_no_rights_is_exit_3_with_a_hint(setup, cli, tmp_path, monkeypatch, admin, cleanup):
    """A real identity without any role: RBAC answers 403 to every list."""
    path, env, stacks, _ = setup
    token = service_account_token(admin, env.name, "nobody")
    monkeypatch.setenv("KUBECONFIG", str(token_kubeconfig(admin, token, tmp_path)))
    run = drift_json(cli, path, stacks)
    assert run.code == 3
    reasons = run.json()["results"][0]["unchecked"]
    assert any("403" in u["reason"] and "read access" in u["hint"] for u in reasons)


def service_account_token(admin, namespace: str, name: str) -> str:
    """A ServiceAccount and a short-lived token for it, from the TokenRequest API."""
    from kubernetes import client

    core = client.CoreV1Api(admin)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    request = core.create_namespaced_service_account_token(
        name, namespace, {"spec": {"expirationSeconds": 600}}
    )
    return request.status.token


def token_kubeconfig(admin, token: str, tmp_path):
    config = admin.configuration
    path = tmp_path / "token.kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": config.host,
                            "certificate-authority": config.ssl_ca_cert,
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"token": token}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    return path


def bind_drift_roles(admin, env, cleanup) -> None:
    """The DriftJob's Role and ClusterRole (components/drift_job.py), bound to its account."""
    from kubernetes import client

    rbac = client.RbacAuthorizationV1Api(admin)
    subject = [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": env.name}]
    rbac.create_namespaced_role(
        env.name, {"metadata": {"name": "envparity-drift-read"}, "rules": NAMESPACED_RULES}
    )
    rbac.create_namespaced_role_binding(
        env.name,
        {
            "metadata": {"name": "envparity-drift-read"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "envparity-drift-read",
            },
            "subjects": subject,
        },
    )
    cluster_wide = f"envparity-drift-{env.name}"
    rbac.create_cluster_role({"metadata": {"name": cluster_wide}, "rules": CLUSTER_RULES})
    cleanup(("clusterrole", cluster_wide))
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": cluster_wide},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": cluster_wide,
            },
            "subjects": subject,
        }
    )
    cleanup(("clusterrolebinding", cluster_wide))


@pytest.fixture
def in_pod(setup, admin, cleanup, tmp_path, monkeypatch):
    """The drift job's view: no kubeconfig, KUBERNETES_SERVICE_HOST set, and a projected
    ServiceAccount token of the job's own account, bound to the job's own roles."""
    from kubernetes.config import incluster_config

    _, env, _, _ = setup
    bind_drift_roles(admin, env, cleanup)
    token = service_account_token(admin, env.name, SERVICE_ACCOUNT)
    (tmp_path / "token").write_text(token)
    host, port = admin.configuration.host.removeprefix("https://").rsplit(":", 1)
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    # Where the kubelet would mount them (/var/run/secrets/kubernetes.io/serviceaccount/).
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", admin.configuration.ssl_ca_cert)
    return token


def test_drift_job_rights_read_and_never_write(setup, in_pod, cli, cleanup):
    """In-cluster config + the job's roles: the cluster-wide Deployment list is forbidden, so
    the collector falls back to the env's namespace; nodes are read cluster-wide."""
    from kubernetes import client, config, watch

    path, env, stacks, image = setup
    add_deployment(env, image, kubeconfig=KUBECONFIG)
    node(env, cleanup, "gpu-1")
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout

    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)
    with client.ApiClient(configuration) as job:
        apps, core = client.AppsV1Api(job), client.CoreV1Api(job)
        assert apps.read_namespaced_deployment(env.name, env.name).metadata.name == env.name
        assert core.list_node(label_selector=kube_collector.node_selector(env, None)).items
        events = watch.Watch().stream(apps.list_namespaced_deployment, env.name, timeout_seconds=1)
        # ADDED first; kube-controller-manager may then update its status (MODIFIED).
        seen = [(e["type"], e["object"].metadata.name) for e in events]
        assert seen[0] == ("ADDED", env.name) and {name for _, name in seen} == {env.name}
        for forbidden in (
            lambda: apps.list_deployment_for_all_namespaces(),
            lambda: apps.create_namespaced_deployment(env.name, copy_of(apps, env)),
            lambda: apps.delete_namespaced_deployment(env.name, env.name),
            lambda: core.create_node({"metadata": {"name": f"{env.name}-x"}}),
            lambda: core.read_namespaced_secret("anything", env.name),
        ):
            with pytest.raises(client.ApiException) as denied:
                forbidden()
            assert denied.value.status == 403


def copy_of(apps, env) -> dict:
    """The env's Deployment as a body to create again under another name (valid, so only
    RBAC can refuse it)."""
    body = apps.api_client.sanitize_for_serialization(
        apps.read_namespaced_deployment(env.name, env.name)
    )
    body["metadata"] = {"name": f"{env.name}-copy"}
    body.pop("status", None)
    return body
