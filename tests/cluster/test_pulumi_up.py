"""`pulumi up --stack local` for real: the repository's own stack program, the real Pulumi
CLI and engine (file backend in a temp folder) and the real Kubernetes provider deploy the
local stage to the test control plane, where every namespace enforces Pod Security
`restricted`; then drift against what was created, refresh and destroy.

The tests of this module share one deployment and run in file order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import CACHE_DIR, KUBECONFIG, SERVICES_HINT, service_fact
from tests.conftest import ROOT, UPDATE_GOLDEN

pytestmark = [pytest.mark.k8s, pytest.mark.pulumi]

SPECS = (
    "envspecs/embed.yaml",
    "envspecs/features.yaml",
    "envspecs/serve.yaml",
    "envspecs/train.yaml",
)
CONTEXT = "envparity-test"  # the context of the test kubeconfig
EXPORT_FIXTURE = ROOT / "tests" / "golden" / "drift" / "pulumi-export-local"


class Deployment:
    """The temp project folder, the environment the CLI runs in, and what each step said."""

    def __init__(self, work: Path) -> None:
        self.work = work
        pulumi = service_fact("ENVPARITY_PULUMI", "") or built("pulumi")
        if not pulumi or not Path(pulumi).is_file():
            pytest.fail(f"no Pulumi CLI ({pulumi or 'ENVPARITY_PULUMI unset'}) -- {SERVICES_HINT}")
        plugins = Path(service_fact("ENVPARITY_PULUMI_HOME", str(CACHE_DIR / "pulumi-home")))
        home = work / "pulumi-home"
        home.mkdir()
        (home / "plugins").symlink_to(plugins / "plugins")
        self.env = {
            **os.environ,
            "PATH": f"{Path(pulumi).parent}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_HOME": str(home),
            "PULUMI_CONFIG_PASSPHRASE": "",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "KUBECONFIG": KUBECONFIG,
        }
        self.results: dict[str, dict] = {}

    def pulumi(self, *args: str) -> str:
        run = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"pulumi {' '.join(args)}: {run.stderr}{run.stdout}"
        return run.stdout

    def operation(self, name: str) -> dict:
        out = self.work / f"{name}.json"
        run = subprocess.run(
            [sys.executable, "-m", "tests.cluster.pulumi_local", name, str(self.work), str(out)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, f"pulumi {name} --stack local failed:\n{run.stderr[-6000:]}"
        self.results[name] = json.loads(out.read_text())
        return self.results[name]


def local_stack_config() -> str:
    """The repository's stack config of stage local, with the kube context of the test cluster."""
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.local.yaml").read_text())
    assert config["config"]["envparity:specs"] == list(SPECS)
    config["config"]["envparity:kubeContext"] = CONTEXT
    return yaml.safe_dump(config)


def built(name: str) -> str:
    """Where `.ci/tools` caches the binary of NAME ('' when it is not built)."""
    tools = ROOT / ".ci" / "tools"
    run = subprocess.run(["bash", str(tools), "path", name], capture_output=True, text=True)
    return run.stdout.strip()


def project_copy(work: Path) -> None:
    """Pulumi.yaml, the local stack config and the environment set it lists."""
    shutil.copy(ROOT / "Pulumi.yaml", work / "Pulumi.yaml")
    shutil.copytree(ROOT / "envspecs", work / "envspecs")
    (work / "stacks").mkdir()
    (work / "stacks" / "Pulumi.local.yaml").write_text(local_stack_config())


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, admin):
    work = tmp_path_factory.mktemp("pulumi-local")
    project_copy(work)
    deployment = Deployment(work)
    remove_leftovers(admin)
    (work / "state").mkdir()
    deployment.pulumi("login", f"file://{work / 'state'}")
    deployment.pulumi("stack", "init", "local", "--secrets-provider", "passphrase")
    deployment.operation("preview")
    deployment.operation("up")
    yield deployment
    if "destroy" not in deployment.results:
        deployment.operation("destroy")


def remove_leftovers(admin) -> None:
    """Namespaces a crashed earlier run left behind (the names are the specs')."""
    from kubernetes import client

    core = client.CoreV1Api(admin)
    names = [Path(spec).stem for spec in SPECS]
    for name in names:
        try:
            core.delete_namespace(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
    wait_until(lambda: not [n for n in core.list_namespace().items if n.metadata.name in names])


def wait_until(condition, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true after {seconds}s: {condition}"
        time.sleep(0.5)


def names(resources) -> set[tuple[str, str]]:
    return {(r["type"], r["urn"].rsplit("::", 1)[-1]) for r in resources}


def test_preview_lists_what_envparity_plan_lists(deployed, tmp_path):
    """The real preview (Pulumi engine + provider) and the offline plan (mocks) agree."""
    from envparity.adapters.pulumi_plan import plan
    from envparity.core.spec import load_spec

    # The specs of the project `pulumi up` ran in: the environment set is its specs folder.
    work = deployed.work
    offline = plan([load_spec(work / s) for s in SPECS], "local", work / "stacks")
    planned = {(r.type, r.name) for r in offline.resources}
    previewed = names(deployed.results["preview"]["steps"])
    assert previewed == planned
    assert {s["op"] for s in deployed.results["preview"]["steps"]} == {"create"}


def test_up_created_every_resource(deployed):
    up = deployed.results["up"]
    assert up["changes"]["create"] == len(deployed.results["preview"]["steps"])
    assert set(up["changes"]) == {"create"}


def test_restricted_admission_accepted_the_pods(deployed, admin):
    """kube-controller-manager turned each Deployment into a ReplicaSet and Pods, and each Job
    (a batch command such as train) into Pods; the Pod Security admission (`restricted`, the
    default of every namespace here) judged each Pod."""
    from kubernetes import client

    apps, core = client.AppsV1Api(admin), client.CoreV1Api(admin)
    replica_sets = apps.list_namespaced_replica_set
    jobs = client.BatchV1Api(admin).list_namespaced_job
    for spec in SPECS:
        namespace = Path(spec).stem
        wait_until(lambda ns=namespace: replica_sets(ns).items or jobs(ns).items)
        for replica_set in replica_sets(namespace).items:
            wait_until(
                lambda rs=replica_set, ns=namespace: (
                    rejected(apps, rs, ns) or core.list_namespaced_pod(ns).items
                )
            )
            assert not rejected(apps, replica_set, namespace), rejected(
                apps, replica_set, namespace
            )
        # A Job's pods exist only once admitted (a rejected one leaves a FailedCreate event).
        wait_until(lambda ns=namespace: core.list_namespaced_pod(ns).items)


def rejected(apps, replica_set, namespace) -> str:
    """Why the ReplicaSet could not create its Pods ('' when it could)."""
    current = apps.read_namespaced_replica_set(replica_set.metadata.name, namespace)
    return " ".join(
        c.message for c in current.status.conditions or () if c.type == "ReplicaFailure"
    )


def drift(*args) -> tuple[int, dict]:
    from envparity.cli.main import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["drift", *map(str, args), "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_kubernetes_drift_is_in_sync(deployed, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", KUBECONFIG)
    for spec in SPECS:
        code, report = drift(
            ROOT / spec,
            "--stage",
            "local",
            "--target",
            "kubernetes",
            "--stacks",
            deployed.work / "stacks",
        )
        assert code == 0, report
        assert report["results"][0]["checks"]


def test_a_changed_spec_is_drift(deployed, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", KUBECONFIG)
    spec = yaml.safe_load((ROOT / "envspecs" / "serve.yaml").read_text())
    spec["stages"]["local"]["replicas"] = 3
    changed = tmp_path / "serve.yaml"
    changed.write_text(yaml.safe_dump(spec, sort_keys=False))
    code, report = drift(
        changed, "--stage", "local", "--target", "kubernetes", "--stacks", deployed.work / "stacks"
    )
    assert code == 2
    found = {(f["object"], f["field"]): f for f in report["results"][0]["findings"]}
    assert found[("deployment serve/serve", "replicas")]["actual"] == 1
    assert found[("deployment serve/serve", "replicas")]["expected"] == 3


def test_pulumi_drift_reads_the_real_stack_export(deployed):
    export = deployed.work / "export.json"
    deployed.pulumi("stack", "export", "--stack", "local", "--file", str(export))
    for spec in SPECS:
        code, report = drift(
            deployed.work / spec,
            "--stage",
            "local",
            "--target",
            "pulumi",
            "--state",
            export,
            "--stacks",
            deployed.work / "stacks",
        )
        assert code == 0, report
    if UPDATE_GOLDEN:
        write_export_fixture(export)


def write_export_fixture(export: Path) -> None:
    """The export, the specs and the stack config it was made from, for tests/drift."""
    if EXPORT_FIXTURE.exists():
        shutil.rmtree(EXPORT_FIXTURE)
    (EXPORT_FIXTURE / "envspecs").mkdir(parents=True)
    (EXPORT_FIXTURE / "stacks").mkdir()
    for spec in SPECS:
        for source in (ROOT / "envspecs").glob(f"{Path(spec).stem}.*"):  # the spec, its locks
            shutil.copy(source, EXPORT_FIXTURE / "envspecs" / source.name)
    (EXPORT_FIXTURE / "stacks" / "Pulumi.local.yaml").write_text(local_stack_config())
    shutil.copy(export, EXPORT_FIXTURE / "export.json")


def test_refresh_finds_nothing_changed(deployed):
    refresh = deployed.operation("refresh")
    assert set(refresh["changes"]) == {"same"}, refresh["changes"]


def test_destroy_removes_everything(deployed, admin):
    from kubernetes import client

    destroy = deployed.operation("destroy")
    assert destroy["changes"] == {"delete": deployed.results["up"]["changes"]["create"]}
    core = client.CoreV1Api(admin)
    namespaces = {Path(s).stem for s in SPECS}
    wait_until(
        lambda: not [n for n in core.list_namespace().items if n.metadata.name in namespaces]
    )
    roles = client.RbacAuthorizationV1Api(admin).list_cluster_role().items
    assert not [r.metadata.name for r in roles if r.metadata.name.startswith("envparity-drift-")]
