"""Signing, the trust policy and a tampered image, end to end: the real engine, the loopback
registry and the cosign CLI built by .ci/tools (key pairs, nothing leaves loopback)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
from pathlib import Path

import pytest

from envparity.core import ledger
from envparity.core.stack_settings import COSIGN_KEY, REQUIRE_SIGNED
from tests.docker.conftest import run_cli
from tests.docker.test_promotion import build, cli, one_error, recorded, staged
from tests.services.conftest import SERVICES_HINT, service_fact

pytestmark = pytest.mark.docker
VERIFY_FLAGS = ("--insecure-ignore-tlog=true", "--allow-http-registry")


@pytest.fixture
def signer(tmp_path: Path, monkeypatch):
    """The environment envparity and cosign run in: cosign's path, a key pair's password, a
    HOME of its own; `signer(root)` makes cosign.key/cosign.pub in a project root."""
    binary = service_fact("ENVPARITY_COSIGN")
    if not binary or not Path(binary).is_file():
        pytest.fail(f"no cosign ({binary or 'ENVPARITY_COSIGN unset'}) -- {SERVICES_HINT}")
    env = {
        "ENVPARITY_COSIGN": binary,
        "COSIGN_PASSWORD": "envparity-test",
        "HOME": str(tmp_path / "home"),
        "TUF_ROOT": str(tmp_path / "tuf"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def cosign(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
        )

    return cosign


def keys(signer, root: Path, prefix: str = "cosign") -> None:
    done = signer("generate-key-pair", "--output-key-prefix", prefix, cwd=root)
    assert done.returncode == 0, done.stderr


def require_signed(p, *stages: str) -> None:
    """Turn the trust policy on in the stages' stack configs, keyed by the project's cosign.pub."""
    for stage in stages:
        path = ledger.stack_config_path(p.stacks, stage)
        config = ledger.read_stack_config(path)
        config[REQUIRE_SIGNED], config[COSIGN_KEY] = "true", "cosign.pub"
        path.write_text(ledger.dump(stage, config), encoding="utf-8")


def tamper(client, p, stage: str = "testing") -> str:
    """The stage's pushed image plus a backdoor layer, pushed under the same tag and recorded as
    the stage's image; its labels and in-image provenance record are the original's."""
    env = p.resolved(stage)
    good = recorded(p, stage)
    dockerfile = f"FROM {good.repository}@{good.digest}\nRUN touch /tmp/backdoor\n"
    image, _ = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True)
    image.tag(env.image_repository, env.image_tag)
    digest = None
    for event in client.api.push(env.image_repository, env.image_tag, stream=True, decode=True):
        assert "error" not in event, event
        digest = (event.get("aux") or {}).get("Digest") or digest
    assert digest and digest != good.digest
    ledger.record_image(p.stacks, stage, p.name, env.image_ref, digest, env.fingerprint)
    return digest


def test_a_signed_image_verifies_with_plain_cosign_promotes_and_is_in_sync(
    project, wheelhouse, signer
):
    p = staged(project)
    keys(signer, p.root)
    require_signed(p, "testing", "staging")
    build(p, wheelhouse, "testing", "--push")
    image = recorded(p, "testing")
    ref = f"{image.repository}@{image.digest}"

    signed = cli(p, "sign", "--stage", "testing", "--key", str(p.root / "cosign.key"))
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.strip() == ref
    assert "verified with stage testing's trust policy" in signed.stderr

    # What envparity wrote is what cosign (and an admission controller) reads.
    verified = signer("verify", "--key", "cosign.pub", *VERIFY_FLAGS, ref, cwd=p.root)
    assert verified.returncode == 0, verified.stderr
    attested = signer(
        "verify-attestation", "--key", "cosign.pub", "--type", "slsaprovenance1",
        *VERIFY_FLAGS, ref, cwd=p.root,
    )  # fmt: skip
    assert attested.returncode == 0, attested.stderr
    statement = json.loads(base64.b64decode(json.loads(attested.stdout.splitlines()[0])["payload"]))
    assert statement["subject"][0]["digest"] == {"sha256": image.digest.removeprefix("sha256:")}
    params = statement["predicate"]["buildDefinition"]["externalParameters"]
    assert params["fingerprint"] == p.resolved("testing").fingerprint
    in_image = json.loads(run_cli("provenance", ref, "--json").stdout)
    assert statement["predicate"] == in_image["predicate"]  # the in-image record, attested

    promoted = cli(p, "promote", "--from", "testing", "--to", "staging")
    assert promoted.returncode == 0, promoted.stderr
    staging = p.resolved("staging")
    copy = f"{staging.image_repository}@{image.digest}"
    # The signatures travelled with the image: the copy verifies by itself.
    again = signer("verify", "--key", "cosign.pub", *VERIFY_FLAGS, copy, cwd=p.root)
    assert again.returncode == 0, again.stderr

    drift = run_cli(
        "drift", str(p.spec), "--stage", "testing", "--target", "docker",
        "--stacks", str(p.stacks), "--json",
    )  # fmt: skip
    assert drift.returncode == 0, drift.stdout + drift.stderr
    checks = json.loads(drift.stdout)["results"][0]["checks"]
    assert [c["object"] for c in checks if c["field"] == "signature"] == [
        f"image {p.resolved('testing').image_ref}"
    ]


def test_a_tampered_image_is_refused_by_promote_rollback_and_drift(
    project, wheelhouse, signer, docker_client
):
    p = staged(project)
    keys(signer, p.root)
    keys(signer, p.root, "attacker")
    require_signed(p, "testing", "staging")
    build(p, wheelhouse, "testing", "--push")
    signed = cli(p, "sign", "--stage", "testing", "--key", str(p.root / "cosign.key"))
    assert signed.returncode == 0, signed.stderr
    good = recorded(p, "testing")
    testing = p.resolved("testing")

    bad = tamper(docker_client, p)
    bad_ref = f"{testing.image_repository}@{bad}"
    # The copied record is word for word the signed image's: only a signature tells them apart.
    record = json.loads(run_cli("provenance", bad_ref, "--json").stdout)
    original = json.loads(
        run_cli("provenance", f"{good.repository}@{good.digest}", "--json").stdout
    )
    assert record == original

    refused = cli(p, "promote", "--from", "testing", "--to", "staging")
    assert refused.returncode == 1
    assert one_error(refused.stderr) == (
        f"error: {bad_ref} is not trusted by stage staging's trust policy "
        "(envparity:requireSigned, key cosign.pub): no signatures found "
        f"(hint: sign it: envparity sign {p.spec} --stage testing --key cosign.key "
        "(docs/promotion.md, 'Signing and verification'))"
    )
    assert recorded(p, "staging") is None

    drift = run_cli(
        "drift", str(p.spec), "--stage", "testing", "--target", "docker",
        "--stacks", str(p.stacks), "--json",
    )  # fmt: skip
    assert drift.returncode == 2, drift.stdout + drift.stderr
    [finding] = json.loads(drift.stdout)["results"][0]["findings"]
    assert (finding["field"], finding["actual"]) == ("signature", f"{bad_ref}: no signatures found")

    # Rolling the stage back to the signed image is allowed; forward to the tampered one is not.
    back = cli(p, "rollback", "--stage", "testing")
    assert back.returncode == 0, back.stderr
    assert recorded(p, "testing").digest == good.digest
    forward = cli(p, "rollback", "--stage", "testing", "--to", bad)
    assert forward.returncode == 1
    assert f"{bad_ref} is not trusted by stage testing's" in one_error(forward.stderr)
    assert f"--digest {bad}" in forward.stderr

    # Signed with another key: still refused, as cosign itself refuses it.
    ledger.record_image(p.stacks, "testing", p.name, testing.image_ref, bad, testing.fingerprint)
    forged = cli(p, "sign", "--stage", "testing", "--key", str(p.root / "attacker.key"))
    assert forged.returncode == 1  # the policy's key does not verify what it just signed
    assert "no matching signatures" in one_error(forged.stderr)
    refused = cli(p, "promote", "--from", "testing", "--to", "staging")
    assert refused.returncode == 1
    assert "no matching signatures" in one_error(refused.stderr)

    # No cosign: drift could not check the signature (exit 3), promotion refuses.
    missing = run_cli(
        "drift", str(p.spec), "--stage", "testing", "--target", "docker",
        "--stacks", str(p.stacks), "--json",
        env={"ENVPARITY_COSIGN": str(p.root / "no-cosign")},
    )  # fmt: skip
    assert missing.returncode == 3, missing.stdout + missing.stderr
    [gap] = json.loads(missing.stdout)["results"][0]["unchecked"]
    assert "no such file" in gap["reason"] and "install cosign" in gap["hint"]

    # Kubernetes: a workload running the tampered digest is drift too.
    from kubernetes import client, config

    from envparity.core.names import k8s_labels
    from tests.drift.fake_kube import FakeKube

    labels = k8s_labels(testing)
    body = {
        "metadata": {"name": testing.name, "labels": labels},
        "spec": {
            "parallelism": testing.replicas,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": testing.name, "image": f"{testing.image_ref}@{bad}"}]
                },
            },
        },
    }
    server = FakeKube().start()
    try:
        kubeconfig = server.kubeconfig(p.root / "kubeconfig")
        with config.new_client_from_config(config_file=str(kubeconfig)) as api:
            client.BatchV1Api(api).create_namespaced_job(testing.name, body)
        kube = run_cli(
            "drift", str(p.spec), "--stage", "testing", "--target", "kubernetes",
            "--stacks", str(p.stacks), "--json", env={"KUBECONFIG": str(kubeconfig)},
        )  # fmt: skip
    finally:
        server.stop()
    assert kube.returncode == 2, kube.stdout + kube.stderr
    findings = json.loads(kube.stdout)["results"][0]["findings"]
    [signature] = [f for f in findings if f["field"] == "signature"]
    assert signature["object"] == f"job {testing.name}/{testing.name}"
    assert signature["actual"].startswith(f"{bad_ref}: no matching signatures")


def test_cosign_that_hangs_is_stopped_at_its_timeout(signer, tmp_path):
    """A registry that accepts connections and never answers: cosign is killed on time."""
    import socket
    import time

    from envparity.adapters import cosign

    keys(signer, tmp_path)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        image = f"127.0.0.1:{silent.getsockname()[1]}/x/y@sha256:{'ab' * 32}"
        started = time.monotonic()
        with pytest.raises(cosign.CosignError, match="did not answer within 2 s"):
            cosign.verify(image, cosign.Verifier(key=str(tmp_path / "cosign.pub")), timeout=2)
    assert time.monotonic() - started < 10
