"""Provenance, promotion, rollback, history, reproducibility and provenance drift, end to end:
the real engine and the loopback registry, two repositories standing for two stages."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from envparity.adapters import registry
from envparity.core import ledger
from envparity.core.render.stack_config import render_stack_configs
from tests.docker.conftest import BASE_IMAGE, REGISTRY, run_cli

pytestmark = pytest.mark.docker


def staged(project):
    """A project whose testing/staging/production push to their own repositories."""
    p = project(packages=("six==1.16.0", "idna==3.10"), testing_extra=())
    prefix = f"promo-{uuid.uuid4().hex[:8]}"
    data = yaml.safe_load(p.spec.read_text(encoding="utf-8"))
    data["stages"] = {
        stage: {"registry": f"{REGISTRY}/{prefix}/{stage}"}
        for stage in ("testing", "staging", "production")
    }
    p.spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    render_stack_configs([p.loaded()], p.stacks)
    return p


def build(p, wheelhouse, stage="testing", *extra):
    done = run_cli(
        "build",
        str(p.spec),
        "--stage",
        stage,
        "--base-image",
        BASE_IMAGE,
        "--wheelhouse",
        str(wheelhouse),
        "--stacks",
        str(p.stacks),
        *extra,
    )
    assert done.returncode == 0, done.stderr
    return done


def cli(p, *args):
    return run_cli(*args[:1], str(p.spec), *args[1:], "--stacks", str(p.stacks))


def one_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    [line] = [x for x in stderr.splitlines() if x.startswith("error: ")]
    assert "(hint: " in line
    return line


def recorded(p, stage):
    config = ledger.read_stack_config(ledger.stack_config_path(p.stacks, stage))
    return ledger.recorded_image(
        [ledger.ImageRef.parse(t) for t in config[ledger.IMAGES]], p.resolved(stage)
    )


def test_provenance_record_is_in_the_image_and_printed(project, wheelhouse, docker_client):
    p = staged(project)
    env = p.resolved("testing")
    build(p, wheelhouse)
    image = docker_client.images.get(env.image_ref)
    assert image.labels["io.envparity.provenance"] == "/etc/envparity/provenance.json"
    done = run_cli("provenance", env.image_ref, "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["_type"] == "https://in-toto.io/Statement/v1"
    assert record["predicateType"] == "https://slsa.dev/provenance/v1"
    assert record["subject"][0]["digest"] == {"sha256": env.fingerprint}
    params = record["predicate"]["buildDefinition"]["externalParameters"]
    assert (params["name"], params["version"], params["fingerprint"]) == (
        p.name,
        "0.1.0",
        env.fingerprint,
    )
    assert params["software"]["python"] == "3.11.2"
    deps = {d["name"]: d for d in record["predicate"]["buildDefinition"]["resolvedDependencies"]}
    lock = p.spec.with_suffix(".lock").read_text(encoding="utf-8")
    assert deps["idna"]["annotations"]["version"] == "3.10"
    assert all(h in lock for h in deps["idna"]["annotations"]["sha256"])
    base = docker_client.images.get(BASE_IMAGE)
    assert deps["base image"]["digest"]["sha256"] == base.id.removeprefix("sha256:")
    # The dependency layers stay cached: a second build adds only a new record layer.
    again = build(p, wheelhouse)
    # (The image as built is reused whole: same spec, locks and base; see docs/build.md.)
    [summary] = [line for line in again.stderr.splitlines() if line.startswith("dependency lay")]
    assert summary.startswith("dependency layers: reused ") and "installed" not in summary
    table = run_cli("provenance", env.image_ref)
    assert table.returncode == 0 and "idna" in table.stdout and "3.10" in table.stdout
    missing = run_cli("provenance", BASE_IMAGE)
    assert missing.returncode == 1
    assert "no provenance record" in one_error(missing.stderr)


def test_promote_rollback_and_history(project, wheelhouse):
    p = staged(project)
    testing, staging = p.resolved("testing"), p.resolved("staging")

    refused = cli(p, "promote", "--from", "testing", "--to", "staging")
    assert refused.returncode == 1
    assert "no recorded image" in one_error(refused.stderr)

    build(p, wheelhouse, "testing", "--push")
    first = recorded(p, "testing").digest
    done = cli(p, "promote", "--from", "testing", "--to", "staging")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{staging.image_ref}@{first}"
    copy = registry.get_manifest(registry.Repository.parse(staging.image_repository), first)
    assert copy is not None and copy.digest == first
    assert recorded(p, "staging").digest == first
    # The copy was never pulled: its provenance is read from the registry.
    shown = run_cli("provenance", f"{staging.image_repository}@{first}", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["subject"][0]["digest"]["sha256"] == staging.fingerprint

    # A rebuild differs only by its provenance record (build time), so it has another digest.
    build(p, wheelhouse, "testing", "--push")
    second = recorded(p, "testing").digest
    assert second != first
    assert cli(p, "promote", "--from", "testing", "--to", "staging").returncode == 0
    assert recorded(p, "staging").digest == second

    back = cli(p, "rollback", "--stage", "staging")
    assert back.returncode == 0, back.stderr
    assert recorded(p, "staging").digest == first
    assert f"@{second} -> {staging.image_ref}@{first}" in back.stderr
    assert "pulumi up --stack staging" in back.stderr

    listed = json.loads(cli(p, "history", "--stage", "staging", "--json").stdout)
    assert [(e["how"], e["digest"]) for e in listed["history"]] == [
        ("rollback", first),
        ("promote", second),
        ("promote", first),
    ]
    forward = cli(p, "rollback", "--stage", "staging", "--to", second)
    assert forward.returncode == 0, forward.stderr
    assert recorded(p, "staging").digest == second
    assert testing.image_tag == staging.image_tag


def test_promote_refuses_an_image_of_other_software(project, wheelhouse):
    p, other = staged(project), staged(project)
    testing = p.resolved("testing")
    build(other, wheelhouse, "testing", "--push")
    # Another environment's image recorded under p's tag: right name, wrong fingerprint label.
    theirs = recorded(other, "testing")
    registry.copy(
        registry.Repository.parse(theirs.repository),
        theirs.digest,
        registry.Repository.parse(testing.image_repository),
        testing.image_tag,
    )
    ledger.record_image(
        p.stacks, "testing", p.name, testing.image_ref, theirs.digest, testing.fingerprint
    )
    done = cli(p, "promote", "--from", "testing", "--to", "staging")
    assert done.returncode == 1
    line = one_error(done.stderr)
    assert f"carries fingerprint {other.resolved('testing').fingerprint}" in line
    assert recorded(p, "staging") is None


def test_rollback_refuses_an_image_gone_from_the_registry(project, wheelhouse):
    p = staged(project)
    build(p, wheelhouse, "testing", "--push")
    path = ledger.stack_config_path(p.stacks, "testing")
    config = ledger.read_stack_config(path)
    current = recorded(p, "testing")
    gone = ledger.ImageRef(current.repository, current.tag, "sha256:" + "0" * 64)
    ledger.remember(config, ledger.HistoryEntry(gone, "2026-01-01T00:00:00Z", "-", "build"))
    path.write_text(ledger.dump("testing", config), encoding="utf-8")
    done = cli(p, "rollback", "--stage", "testing", "--to", gone.digest)
    assert done.returncode == 1
    assert "no longer exists" in one_error(done.stderr)
    assert recorded(p, "testing").digest == current.digest


def test_docker_drift_names_the_package_and_the_spec_path(project, wheelhouse):
    p = staged(project)
    build(p, wheelhouse, "testing")
    # The spec moves on (idna 3.10 -> 3.9); the image on the engine does not.
    p.spec.write_text(
        p.spec.read_text(encoding="utf-8").replace("idna==3.10", "idna==3.9"), encoding="utf-8"
    )
    done = run_cli("drift", str(p.spec), "--stage", "testing", "--target", "docker", "--json")
    assert done.returncode == 2, done.stderr
    findings = json.loads(done.stdout)["results"][0]["findings"]
    by_object = {f["object"]: f for f in findings}
    idna = by_object["python_packages idna"]
    assert (idna["field"], idna["expected"], idna["actual"]) == ("version", "3.9", "3.10")
    assert str(p.spec) in idna["hint"] and "envspecs/" not in idna["hint"]
    assert any(f["field"] == "io.envparity.fingerprint" for f in findings)
    assert "python_packages six" not in by_object  # unchanged pins are checks, not findings


def test_verify_reproducible_builds_twice_and_compares(project, wheelhouse, docker_client):
    p = staged(project)
    done = build(p, wheelhouse, "production", "--verify-reproducible")
    assert "reproducible: two builds without cache have the same Python" in done.stderr
    assert done.stderr.count("Using cache") == 0
    env = p.resolved("production")
    assert "io.envparity.provenance" in docker_client.images.get(env.image_ref).labels


def test_kubernetes_drift_names_the_package_from_the_pods_image(
    project, wheelhouse, tmp_path, monkeypatch
):
    from kubernetes import client, config

    from envparity.core.names import k8s_labels
    from tests.drift.fake_kube import FakeKube

    p = staged(project)
    build(p, wheelhouse, "testing", "--push")
    image = str(recorded(p, "testing"))
    p.spec.write_text(
        p.spec.read_text(encoding="utf-8").replace("idna==3.10", "idna==3.9"), encoding="utf-8"
    )
    env = p.resolved("testing")
    server = FakeKube().start()
    try:
        monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "kubeconfig")))
        # A batch command (no run.port): the stacks run it as a Job with the workload's labels.
        assert env.kind == "job"
        labels = k8s_labels(env)
        body = {
            "metadata": {"name": env.name, "labels": labels},
            "spec": {
                "parallelism": env.replicas,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": env.name, "image": image}]},
                },
            },
        }
        with config.new_client_from_config(config_file=str(tmp_path / "kubeconfig")) as api:
            client.BatchV1Api(api).create_namespaced_job(env.name, body)
        done = run_cli(
            "drift",
            str(p.spec),
            "--stage",
            "testing",
            "--target",
            "kubernetes",
            "--stacks",
            str(p.stacks),
            "--json",
            env={"KUBECONFIG": str(tmp_path / "kubeconfig")},
        )
    finally:
        server.stop()
    assert done.returncode == 2, done.stderr
    findings = json.loads(done.stdout)["results"][0]["findings"]
    idna = next(f for f in findings if f["object"].endswith("python_packages idna"))
    assert idna["object"] == f"job {env.name}/{env.name} python_packages idna"
    assert (idna["expected"], idna["actual"]) == ("3.9", "3.10")
    assert str(p.spec) in idna["hint"]


def test_require_clean_drift_checks_the_source_stage_first(project, wheelhouse, docker_client):
    p = staged(project)
    testing = p.resolved("testing")
    build(p, wheelhouse, "testing", "--push")
    clean = cli(
        p,
        "promote",
        "--from",
        "testing",
        "--to",
        "staging",
        "--require-clean-drift",
        "--drift-target",
        "docker",
    )
    assert clean.returncode == 0, clean.stderr
    # A newer image of the environment built from other software: the source stage drifted.
    import io

    dockerfile = f"FROM {testing.image_ref}\nLABEL io.envparity.fingerprint={'0' * 64}\n"
    docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True)
    drifted = cli(
        p,
        "promote",
        "--from",
        "testing",
        "--to",
        "production",
        "--require-clean-drift",
        "--drift-target",
        "docker",
    )
    assert drifted.returncode == 2
    assert "not promoting: stage testing is not in sync on docker" in drifted.stderr
    assert recorded(p, "production") is None


@pytest.fixture(scope="module")
def second_registry(tmp_path_factory):
    """Another anonymous loopback registry, so a promotion has to move the blobs' bytes."""
    import socket
    import subprocess
    import textwrap
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    root = tmp_path_factory.mktemp("second-registry")
    (root / "config.yml").write_text(
        textwrap.dedent(f"""\
        version: 0.1
        log: {{level: warn}}
        storage: {{filesystem: {{rootdirectory: {root / "data"}}}}}
        http: {{addr: "{address}"}}
        """),
        encoding="utf-8",
    )
    with (root / "registry.log").open("wb") as log:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(root / "config.yml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail((root / "registry.log").read_text(), pytrace=False)
            time.sleep(0.2)
    yield address
    process.terminate()
    process.wait(timeout=30)


def test_copy_to_another_registry_moves_the_blobs(docker_client, second_registry):
    """Across registries nothing can be mounted: every blob is streamed and checked."""
    import io
    import tarfile

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in (
            ("Dockerfile", "FROM scratch\nCOPY hello /hello\nLABEL io.envparity.name=copy-test\n"),
            ("hello", uuid.uuid4().hex),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    context.seek(0)
    source = registry.Repository.parse(f"{REGISTRY}/promo-{uuid.uuid4().hex[:8]}/copy")
    image, _ = docker_client.images.build(fileobj=context, custom_context=True, rm=True)
    image.tag(str(source), "1")
    try:
        digest = None
        for event in docker_client.api.push(str(source), tag="1", stream=True, decode=True):
            digest = (event.get("aux") or {}).get("Digest") or digest
    finally:
        docker_client.images.remove(image.id, force=True)
    target = registry.Repository.parse(f"{second_registry}/staging/copy")
    copied = registry.copy(source, digest, target, "1")
    assert copied.digest == digest
    again = registry.get_manifest(target, "1")
    assert again is not None and again.digest == digest
    for blob in [again.json["config"], *again.json["layers"]]:
        registry.get_blob(target, blob["digest"])  # present, and matches its digest
    assert registry.manifest_exists(target, digest)
    assert not registry.manifest_exists(target, "sha256:" + "0" * 64)


def push_labelled(docker_client, env) -> str:
    """Push a tiny image labelled with `env`'s fingerprint as `env.image_ref`; its digest.
    Promotion and rollback need only that label, so no Python image has to be built."""
    import io
    import tarfile

    from envparity.core.names import FINGERPRINT_LABEL

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in (
            (
                "Dockerfile",
                f"FROM scratch\nCOPY id /id\nLABEL {FINGERPRINT_LABEL}={env.fingerprint}\n",
            ),
            ("id", uuid.uuid4().hex),  # another digest each time
        ):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    context.seek(0)
    image, _ = docker_client.images.build(fileobj=context, custom_context=True, rm=True)
    image.tag(env.image_repository, env.image_tag)
    try:
        digest = None
        for event in docker_client.api.push(
            env.image_repository, tag=env.image_tag, stream=True, decode=True
        ):
            assert "error" not in event, event
            digest = (event.get("aux") or {}).get("Digest") or digest
    finally:
        docker_client.images.remove(image.id, force=True)
    assert digest
    return digest


@pytest.mark.pulumi
def test_promotion_and_rollback_keep_pulumi_secrets(project, docker_client, tmp_path):
    """With the real Pulumi CLI: secrets set with `pulumi config set --secret` still decrypt
    after each record, promotion and rollback, and the stack configs stay 0600."""
    from tests.pulumi.pulumi_cli import Pulumi, pulumi_project

    p = staged(project)
    pulumi_project(p.root)
    pulumi = Pulumi(p.root, tmp_path / "pulumi")
    salts = {}
    for stage in ("testing", "staging"):
        pulumi.init(stage)
        salts[stage] = pulumi.set_secrets(stage)
    testing = p.resolved("testing")
    digests = []
    for _ in range(2):
        digests.append(push_labelled(docker_client, testing))
        # What `envparity build --push` records once the push is done.
        ledger.record_image(
            p.stacks, "testing", p.name, testing.image_ref, digests[-1], testing.fingerprint
        )
        pulumi.assert_intact("testing", salts["testing"])
        done = cli(p, "promote", "--from", "testing", "--to", "staging")
        assert done.returncode == 0, done.stderr
        assert recorded(p, "staging").digest == digests[-1]
        pulumi.assert_intact("staging", salts["staging"])
    back = cli(p, "rollback", "--stage", "staging")
    assert back.returncode == 0, back.stderr
    assert recorded(p, "staging").digest == digests[0]
    pulumi.assert_intact("staging", salts["staging"])


def test_concurrent_promotions_each_record(project, docker_client):
    """N `envparity promote` processes at once into one stack config: N history entries."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    p = staged(project)
    testing = p.resolved("testing")
    digest = push_labelled(docker_client, testing)
    ledger.record_image(p.stacks, "testing", p.name, testing.image_ref, digest, testing.fingerprint)
    command = [sys.executable, "-m", "envparity.cli.main", "promote", str(p.spec)]
    command += ["--from", "testing", "--to", "staging", "--stacks", str(p.stacks)]
    count = 6  # at most ledger.HISTORY_LIMIT

    def promote(_):
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    with ThreadPoolExecutor(count) as pool:
        runs = list(pool.map(promote, range(count)))
    assert [r.returncode for r in runs] == [0] * count, [r.stderr for r in runs]
    history = ledger.stage_history(p.stacks, "staging", p.name)
    assert [(e.how, e.image.digest) for e in history] == [("promote", digest)] * count
    assert recorded(p, "staging").digest == digest
