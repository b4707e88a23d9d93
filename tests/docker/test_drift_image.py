"""The drift job's image is ours: built from drift/envparity-drift.yaml with `envparity build`,
pushed, recorded, run by the DriftJob by digest; inside it, the DriftJob's exact command line
and mounts check a (loopback) Kubernetes API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from envparity.cli.main import app
from typer.testing import CliRunner

from envparity import __version__
from envparity.adapters.pulumi_plan import plan
from envparity.adapters.uv import compile_locks
from envparity.core.ledger import read_stack_config
from envparity.core.lockfile import write_locks
from envparity.core.project import environment_set
from envparity.core.render.stack_config import render_stack_configs
from envparity.core.resolve import resolve
from envparity.core.spec import load_spec, load_specs
from envparity.flows.drift_check import expected_node_pool
from tests.conftest import ROOT
from tests.docker.conftest import BASE_IMAGE, CACHE_DIR, REGISTRY
from tests.drift.fake_kube import FakeKube
from tests.pulumi.plan_helpers import copy_project

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SPEC = ROOT / "drift" / "envparity-drift.yaml"
# The base image's Python (3.11, glibc 2.36): wheels of any of these manylinux levels run on it.
PLATFORM = ["--only-binary=:all:", "--python-version", "3.11"] + [
    f"--platform={tag}_x86_64" for tag in ("manylinux_2_28", "manylinux_2_17", "manylinux2014")
]


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True)


def drift_wheelhouse(directory: Path) -> Path:
    """envparity's wheel built from this checkout, and its dependencies downloaded on the host
    (once per version, cached): the image is then built without network."""
    directory.mkdir()
    source = directory.parent / "source"  # setuptools writes build/ beside the sources
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__")
    )
    pip("wheel", "--no-deps", "--wheel-dir", str(directory), str(source))
    deps = CACHE_DIR / f"drift-wheels-{__version__}"
    if not (deps / "complete").exists():
        shutil.rmtree(deps, ignore_errors=True)
        deps.mkdir(parents=True)
        requirement = load_spec(SPEC).software.python_packages[0]
        pip("download", *PLATFORM, "--find-links", str(directory), "--dest", str(deps), requirement)
        for own in deps.glob("envparity-*.whl"):
            own.unlink()  # this checkout's wheel is rebuilt every time
        (deps / "complete").touch()
    for wheel in deps.glob("*.whl"):
        shutil.copy(wheel, directory)
    return directory


def test_the_drift_spec_pins_this_envparity():
    assert load_spec(SPEC).software.python_packages == (f"envparity[kubernetes]=={__version__}",)
    assert all(p.resolve() != SPEC for p in environment_set(ROOT))  # not a deployed environment


def test_drift_job_runs_our_image_by_digest_end_to_end(tmp_path, docker_client, monkeypatch):
    stacks = copy_project(tmp_path, drift_image=None)
    monkeypatch.chdir(tmp_path)
    render_stack_configs(load_specs(environment_set(tmp_path)), stacks)
    # The repository's drift spec, pushed to the loopback registry in production.
    spec_path = tmp_path / "drift" / "envparity-drift.yaml"
    spec_path.parent.mkdir()
    spec_path.write_text(
        SPEC.read_text().replace("  production: {}", f'  production:\n    registry: "{REGISTRY}"')
    )
    spec = load_spec(spec_path)
    wheelhouse = drift_wheelhouse(tmp_path / "wheelhouse")
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    env = resolve(spec, "production")
    built = CliRunner().invoke(
        app,
        [
            "build",
            "drift/envparity-drift.yaml",
            "--stage",
            "production",
            "--push",
            "--base-image",
            BASE_IMAGE,
            "--wheelhouse",
            str(wheelhouse),
        ],
    )
    try:
        assert built.exit_code == 0, built.output
        [recorded] = [
            i
            for i in read_stack_config(stacks / "Pulumi.production.yaml")["envparity:images"]
            if "/envparity-drift:" in i
        ]
        assert recorded.startswith(f"{REGISTRY}/envparity-drift:{env.image_tag}@sha256:")

        # The stack's DriftJob for `features` runs exactly that digest.
        features = load_spec(tmp_path / "envspecs" / "features.yaml")
        p = plan([features], "production", stacks)
        [cron] = [r for r in p.of_type("kubernetes:batch/v1:CronJob") if "drift" in r.name]
        pod = cron.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["image"] == recorded
        [config_map] = [r for r in p.of_type("kubernetes:core/v1:ConfigMap") if "drift" in r.name]
        [mount] = container["volumeMounts"]

        # The cluster: the workload's Deployment as the stack creates it, and its nodes.
        target = resolve(features, "production")
        fake = FakeKube().start()
        try:
            from kubernetes import client, config

            kube = tmp_path / "kube"
            kube.mkdir()
            fake.kubeconfig(kube / "config")
            with config.new_client_from_config(config_file=str(kube / "config")) as c:
                [deployment] = p.of_type("kubernetes:apps/v1:Deployment")
                body = {"apiVersion": "apps/v1", "kind": "Deployment", **deployment.inputs}
                client.AppsV1Api(c).create_namespaced_deployment("features", body)
                labels = dict(expected_node_pool(target).labels)
                client.CoreV1Api(c).create_node({"metadata": {"name": "n1", "labels": labels}})
            # The ConfigMap's files, mounted where the DriftJob mounts them, read-only.
            files = tmp_path / "configmap"
            files.mkdir()
            for name, text in config_map.inputs["data"].items():
                (files / name).write_text(text)
            for path in (files, kube, *files.iterdir(), *kube.iterdir()):
                path.chmod(0o755 if path.is_dir() else 0o644)
            run = docker_client.containers.run(
                recorded,
                command=container["command"],
                volumes={
                    str(files): {"bind": mount["mountPath"], "mode": "ro"},
                    str(kube): {"bind": "/etc/kube", "mode": "ro"},
                },
                # Only the API server's address differs from the cluster (a kubeconfig).
                environment={"KUBECONFIG": "/etc/kube/config"},
                network_mode="host",
                user="10001:10001",
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                detach=True,
            )
            try:
                status = run.wait(timeout=120)["StatusCode"]
                output = run.logs(stdout=True, stderr=False).decode()
                errors = run.logs(stdout=False, stderr=True).decode()
            finally:
                run.remove(force=True)
        finally:
            fake.stop()
        assert status == 0, (status, output, errors)
        report = json.loads(output)
        asked = [path for method, path, _ in fake.requests if method == "GET"]
        assert any(path.endswith("/deployments") for path in asked), asked  # it asked the API
        checked = {c["object"] for r in report["results"] for c in r["checks"]}
        assert "deployment features/features" in checked
    finally:
        for image in docker_client.images.list(name=f"{REGISTRY}/envparity-drift"):
            docker_client.images.remove(image.id, force=True)
