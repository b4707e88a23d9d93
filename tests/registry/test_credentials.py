"""Where logins come from: the Docker config's auths, credential helpers (real executables on
PATH, run as the Docker CLI runs them), and ECR's GetAuthorizationToken (moto, `aws`)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from envparity.adapters import docker_config, registry_auth
from envparity.adapters.registry_http import RegistryError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def helper(directory: Path, name: str, script: str, monkeypatch) -> Path:
    """An executable `docker-credential-NAME` on PATH running `script` (sh)."""
    path = directory / f"docker-credential-{name}"
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    return path


def test_auths_in_every_form(fresh_logins):
    fresh_logins(
        {
            "auths": {
                "https://reg.example:5000/v1/": {"auth": b64("ann:pw:with:colons")},
                "other.example": {"username": "bob", "password": "pw2"},
                "token.example": {"identitytoken": "refresh-me"},
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hubpw")},
            }
        }
    )
    found = docker_config.credentials("reg.example:5000")
    assert (found.username, found.password) == ("ann", "pw:with:colons")
    assert docker_config.credentials("other.example").basic() == "Basic " + b64("bob:pw2")
    assert docker_config.credentials("token.example").identity_token == "refresh-me"
    assert docker_config.credentials("docker.io").username == "hubuser"
    assert docker_config.credentials("nothing.example") is None


def test_broken_config_is_one_line(fresh_logins):
    path = fresh_logins({"auths": {"reg.example": {"auth": "%%%"}}})
    with pytest.raises(RegistryError, match="not base64") as refused:
        docker_config.credentials("reg.example")
    assert "docker login reg.example" in refused.value.hint
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError, match="is not a Docker config"):
        docker_config.credentials("reg.example")


def test_cred_helper_gets_the_host_on_stdin(fresh_logins, tmp_path, monkeypatch):
    seen = tmp_path / "stdin"
    helper(
        tmp_path,
        "fake",
        f'cat > {seen}; [ "$1" = get ] || exit 9\n'
        'echo \'{"ServerURL": "x", "Username": "helped", "Secret": "s3cret"}\'',
        monkeypatch,
    )
    fresh_logins({"credHelpers": {"reg.example:5000": "fake"}, "auths": {}})
    found = docker_config.credentials("reg.example:5000")
    assert (found.username, found.password) == ("helped", "s3cret")
    assert seen.read_text() == "reg.example:5000"
    assert found.source == "credential helper docker-credential-fake"


def test_creds_store_not_found_falls_back_to_auths(fresh_logins, tmp_path, monkeypatch):
    helper(
        tmp_path, "store", 'echo "credentials not found in native keychain"; exit 1', monkeypatch
    )
    fresh_logins({"credsStore": "store", "auths": {"reg.example": {"auth": b64("a:b")}}})
    assert docker_config.credentials("reg.example").username == "a"
    assert docker_config.credentials("none.example") is None


def test_identity_token_from_a_helper(fresh_logins, tmp_path, monkeypatch):
    helper(tmp_path, "tok", 'echo \'{"Username": "<token>", "Secret": "idtok"}\'', monkeypatch)
    fresh_logins({"credsStore": "tok"})
    assert docker_config.credentials("reg.example").identity_token == "idtok"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("sleep 30", "timed out"),
        ("echo broken; exit 3", "exit 3: broken"),
        ("echo not-json", "answered no JSON login"),
        ("yes", "answered no JSON login|exit"),  # endless output: cut at 1 MiB
    ],
)
def test_a_failing_helper_is_one_line(fresh_logins, tmp_path, monkeypatch, script, message):
    monkeypatch.setattr(docker_config, "HELPER_TIMEOUT", 1.0)
    helper(tmp_path, "bad", script, monkeypatch)
    fresh_logins({"credHelpers": {"reg.example": "bad"}})
    with pytest.raises(RegistryError, match=message) as refused:
        docker_config.credentials("reg.example")
    assert "docker-credential-bad" in str(refused.value)
    assert refused.value.hint


def test_a_helper_missing_from_path_says_so(fresh_logins):
    fresh_logins({"credHelpers": {"reg.example": "absent-helper"}})
    with pytest.raises(RegistryError, match="docker-credential-absent-helper is not on PATH"):
        docker_config.credentials("reg.example")


def test_ecr_hosts_are_recognised():
    assert registry_auth.ECR_HOST.fullmatch("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    assert registry_auth.ECR_HOST.fullmatch("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com")
    assert not registry_auth.ECR_HOST.fullmatch("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil")


@pytest.mark.aws
def test_ecr_login_from_get_authorization_token(moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(key, value)
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    session = registry_auth.Session(host)
    from envparity.adapters.registry_http import Deadline

    found = session.credentials(Deadline(30))
    assert found.username == "AWS" and found.password
    assert found.source == "ecr:GetAuthorizationToken"


@pytest.mark.aws
def test_ecr_without_aws_credentials_names_the_helper(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(registry_auth.AuthRefused) as refused:
        registry_auth.ecr_credentials("123456789012.dkr.ecr.us-east-1.amazonaws.com")
    assert "ECR login for 123456789012.dkr.ecr.us-east-1.amazonaws.com failed" in str(refused.value)
    assert "docker-credential-ecr-login" in refused.value.hint
