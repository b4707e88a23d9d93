"""The trust policy, what an attestation must claim, the signature drift rule, and the cosign
adapter's own failures: no services needed."""

from __future__ import annotations

import pytest
import yaml

from envparity.core.diagnostics import UserError
from envparity.core.drift import engine
from envparity.core.drift.findings import Unchecked, exit_code
from envparity.core.drift.observed import (
    DockerFacts,
    KubernetesFacts,
    Observation,
    SignatureFacts,
)
from envparity.core.drift.targets import BY_NAME
from envparity.core.resolve import resolve
from envparity.core.signature import attestation_problem
from envparity.core.spec import load_spec
from envparity.core.stack_settings import (
    COSIGN_IDENTITY,
    COSIGN_ISSUER,
    COSIGN_KEY,
    REQUIRE_SIGNED,
    StackConfigError,
    TrustPolicy,
    trust_policy,
)

DIGEST = "sha256:" + "ab" * 32
FINGERPRINT = "cd" * 32


def statement(digest: str = DIGEST, fingerprint: str = FINGERPRINT, kind=None) -> dict:
    """A statement as cosign verify-attestation returns it (its subject is the image digest)."""
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "127.0.0.1:5000/x", "digest": {"sha256": digest.split(":")[1]}}],
        "predicateType": kind or "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"externalParameters": {"fingerprint": fingerprint}}},
    }


def test_an_attestation_must_name_the_digest_and_the_spec_fingerprint():
    assert attestation_problem([statement()], DIGEST, FINGERPRINT) is None
    other = "sha256:" + "ef" * 32
    assert attestation_problem([statement(other)], DIGEST, FINGERPRINT) == (
        f"the attestation's subject is {other}"
    )
    assert attestation_problem([statement(fingerprint="0" * 64)], DIGEST, FINGERPRINT) == (
        f"the attestation is of fingerprint {'0' * 64}, not {FINGERPRINT[:12]}"
    )
    assert attestation_problem([], DIGEST, FINGERPRINT) == "no SLSA provenance attestation"
    assert (
        attestation_problem([statement(kind="https://spdx.dev/Document")], DIGEST, FINGERPRINT)
        == "no SLSA provenance attestation"
    )
    # One good statement among others is enough.
    assert attestation_problem([statement(other), statement()], DIGEST, FINGERPRINT) is None


def test_trust_policy_is_off_by_default_and_checked_when_on():
    assert trust_policy("staging", {}.get) == TrustPolicy("staging")
    on = trust_policy("staging", {REQUIRE_SIGNED: "true", COSIGN_KEY: "cosign.pub"}.get)
    assert (on.required, on.key) == (True, "cosign.pub")
    assert str(on) == "stage staging's trust policy (envparity:requireSigned, key cosign.pub)"
    keyless = {
        REQUIRE_SIGNED: True,  # a YAML boolean written by hand reads the same
        COSIGN_IDENTITY: "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main",
        COSIGN_ISSUER: "https://token.actions.githubusercontent.com",
    }
    assert trust_policy("production", keyless.get).required
    for config, says in (
        ({REQUIRE_SIGNED: "yes"}, "expected true or false"),
        ({REQUIRE_SIGNED: "true"}, "names no key or identity"),
        ({REQUIRE_SIGNED: "true", COSIGN_IDENTITY: "me"}, "names no key or identity"),
        ({COSIGN_KEY: "cosign.pub", COSIGN_ISSUER: "x"}, "sets both"),
    ):
        with pytest.raises(StackConfigError, match=says) as caught:
            trust_policy("staging", config.get)
        assert caught.value.hint and "pulumi config" in caught.value.hint


SPEC = {
    "envparity": 1,
    "name": "demo",
    "version": "1.0.0",
    "python": "3.11.9",
    "python_packages": ["six==1.16.0"],
    "run": {"command": ["python", "-m", "demo"], "port": 8080},
    "stages": {"staging": {}},
}


@pytest.fixture
def env(tmp_path):
    path = tmp_path / "envspecs" / "demo.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    return resolve(load_spec(path), "staging")


def test_the_signature_rule_runs_on_the_targets_that_see_running_digests(env):
    assert sorted(t.name for t in BY_NAME.values() if t.signed) == ["docker", "kubernetes"]
    policy = "stage staging's trust policy (envparity:requireSigned, key cosign.pub)"
    good = SignatureFacts("image demo:1", f"127.0.0.1:5000/demo@{DIGEST}", policy, None)
    bad = SignatureFacts(
        "image demo:2", f"127.0.0.1:5000/demo@{DIGEST}", policy, "no signatures found"
    )
    facts = DockerFacts((), ())
    result = engine.compare("docker", env, Observation(facts, signatures=(good, bad)))
    [finding] = [f for f in result.findings if f.field == "signature"]
    assert finding.object == "image demo:2"
    assert finding.expected == f"a valid signature and provenance attestation under {policy}"
    assert finding.actual == f"127.0.0.1:5000/demo@{DIGEST}: no signatures found"
    assert "envparity sign" in finding.hint and "--stage staging" in finding.hint
    assert ("image demo:1", "signature") in [(c.object, c.field) for c in result.checks]
    assert exit_code([result]) == 2
    # Without a policy the flow observes no signatures: nothing is said about them.
    quiet = engine.compare("docker", env, Observation(facts))
    assert all(f.field != "signature" for f in quiet.findings + quiet.checks)
    # A digest cosign could not check is a gap, exit 3.
    gap = Unchecked("docker", "image demo:1 signature", "could not verify", "install cosign")
    unlisted = KubernetesFacts(None, None)  # nothing else to judge
    unchecked = engine.compare("kubernetes", env, Observation(unlisted, (gap,), signatures=(good,)))
    assert exit_code([unchecked]) == 3
    assert [(c.object, c.field) for c in unchecked.checks] == [("image demo:1", "signature")]


def test_a_missing_cosign_names_how_to_install_it(monkeypatch, tmp_path):
    from envparity.adapters import cosign

    monkeypatch.setenv("ENVPARITY_COSIGN", str(tmp_path / "nowhere" / "cosign"))
    with pytest.raises(cosign.CosignMissing) as caught:
        cosign.verify(f"127.0.0.1:5000/demo@{DIGEST}", cosign.Verifier(key="cosign.pub"))
    assert "no such file" in caught.value.message and "install cosign" in caught.value.hint
    monkeypatch.delenv("ENVPARITY_COSIGN")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(cosign.CosignMissing, match="not on PATH"):
        cosign.binary()
    assert issubclass(cosign.CosignMissing, UserError)
