"""The real services the trust and hostile-input tests stand on, each proved to do what the
later tests will rely on: a TLS registry with htpasswd, a registry behind a token realm, a
private package index with Basic auth, skopeo and cosign (key-based, no network)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.services.conftest import (
    CA,
    PYPI,
    REGISTRY,
    SERVICES_HINT,
    TLS_REGISTRY,
    TOKEN_REALM,
    TOKEN_REGISTRY,
    TOKEN_SERVICE,
    docker,
    service_fact,
)

pytestmark = pytest.mark.docker

DEMO = "envparity-private-demo"
DEMO_WHEEL = "envparity_private_demo-0.1.0-py3-none-any.whl"


def request(url: str, *, method: str = "GET", headers=None, data=None, context=None):
    """(status, headers, body) of one HTTP request; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# -- the TLS registry with htpasswd ------------------------------------------------------------


def test_tls_registry_asks_for_basic_auth_and_takes_the_users_password(passwords):
    context = ssl.create_default_context(cafile=CA)
    status, headers, _ = request(f"https://{TLS_REGISTRY}/v2/", context=context)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic realm=")
    status, _, _ = request(
        f"https://{TLS_REGISTRY}/v2/", headers=basic("pusher", "wrong"), context=context
    )
    assert status == 401
    status, _, body = request(
        f"https://{TLS_REGISTRY}/v2/", headers=basic("pusher", passwords["pusher"]), context=context
    )
    assert (status, body) == (200, b"{}")
    # The certificate is the tests' CA's: the system's trust store does not accept it.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"https://{TLS_REGISTRY}/v2/", timeout=10)


def test_docker_login_and_push_through_the_engine(passwords, tiny_image, tmp_path: Path):
    assert Path(f"/etc/docker/certs.d/{TLS_REGISTRY}/ca.crt").read_bytes() == Path(CA).read_bytes()
    config = {"DOCKER_CONFIG": str(tmp_path)}  # the login goes to a throwaway config.json
    denied = docker("push", f"{TLS_REGISTRY}/team/none:1", env=config, check=False)
    assert denied.returncode != 0
    login = docker(
        "login", TLS_REGISTRY, "--username", "pusher", "--password-stdin",
        input=passwords["pusher"], env=config, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    assert TLS_REGISTRY in json.loads((tmp_path / "config.json").read_text())["auths"]
    source = tiny_image()
    target = f"{TLS_REGISTRY}/team/tiny:1"
    docker("tag", source, target)
    try:
        push = docker("push", target, env=config, check=False)
        assert push.returncode == 0, push.stderr
        digest = source.rpartition("@")[2]
        context = ssl.create_default_context(cafile=CA)
        status, headers, _ = request(
            f"https://{TLS_REGISTRY}/v2/team/tiny/manifests/1",
            method="HEAD",
            headers={
                **basic("reader", passwords["reader"]),
                "Accept": "application/vnd.docker.distribution.manifest.v2+json",
            },
            context=context,
        )
        assert status == 200
        assert headers["Docker-Content-Digest"] == digest
    finally:
        docker("rmi", target, check=False)


# -- the registry behind a token realm ---------------------------------------------------------


def token(scope: str, user: str | None = None, password: str | None = None) -> str:
    headers = basic(user, password or "") if user else {}
    query = urllib.parse.urlencode({"service": TOKEN_SERVICE, "scope": scope})
    status, _, body = request(f"{TOKEN_REALM}?{query}", headers=headers)
    assert status == 200, body
    return json.loads(body)["token"]


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def push_blob(repository: str, data: bytes, jwt: str) -> tuple[int, object, bytes]:
    bearer = {"Authorization": f"Bearer {jwt}"}
    url = f"http://{TOKEN_REGISTRY}/v2/{repository}/blobs/uploads/"
    status, headers, body = request(url, method="POST", headers=bearer)
    if status != 202:
        return status, headers, body
    location = headers["Location"]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    separator = "&" if "?" in location else "?"
    return request(
        f"{location}{separator}digest={digest}",
        method="PUT",
        data=data,
        headers={**bearer, "Content-Type": "application/octet-stream"},
    )


def test_token_registry_challenges_with_the_realm():
    status, headers, _ = request(f"http://{TOKEN_REGISTRY}/v2/")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge == f'Bearer realm="{TOKEN_REALM}",service="{TOKEN_SERVICE}"'


def test_a_pusher_token_puts_and_gets_a_manifest(passwords):
    scope = "repository:team/app:pull,push"
    jwt = token(scope, "pusher", passwords["pusher"])
    assert claims(jwt)["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}
    ]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                         "diff_ids": []}}).encode()  # fmt: skip
    layer = os.urandom(64)
    for blob in (config, layer):
        status, _, body = push_blob("team/app", blob, jwt)
        assert status == 201, body
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": "sha256:" + hashlib.sha256(layer).hexdigest()}],
    }).encode()  # fmt: skip
    media = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
    url = f"http://{TOKEN_REGISTRY}/v2/team/app/manifests/v1"
    bearer = {"Authorization": f"Bearer {jwt}"}
    status, headers, body = request(url, method="PUT", data=manifest, headers={**bearer, **media})
    assert status == 201, body
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    assert headers["Docker-Content-Digest"] == digest
    status, _, body = request(url, headers={**bearer, "Accept": media["Content-Type"]})
    assert (status, body) == (200, manifest)
    # The token is for team/app only: another repository is refused with it.
    status, _, _ = request(f"http://{TOKEN_REGISTRY}/v2/team/other/manifests/v1", headers=bearer)
    assert status == 401


def test_a_reader_token_cannot_push(passwords):
    jwt = token("repository:team/app:pull,push", "reader", passwords["reader"])
    assert claims(jwt)["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull"]}
    ]
    status, headers, _ = push_blob("team/app", b"not allowed", jwt)
    assert status in (401, 403)
    assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]
    assert 'scope="repository:team/app:pull,push"' in headers["WWW-Authenticate"]


def test_the_realm_refuses_a_wrong_password_and_grants_anonymous_nothing(passwords):
    query = urllib.parse.urlencode({"service": TOKEN_SERVICE, "scope": "repository:team/app:pull"})
    status, _, _ = request(f"{TOKEN_REALM}?{query}", headers=basic("pusher", "wrong"))
    assert status == 401
    assert claims(token("repository:team/app:pull"))["access"] == [
        {"type": "repository", "name": "team/app", "actions": []}
    ]
    # pusher's grant covers team/* only
    other = token("repository:elsewhere/app:pull,push", "pusher", passwords["pusher"])
    assert claims(other)["access"][0]["actions"] == []


# -- the private package index -----------------------------------------------------------------


def test_private_index_needs_a_login_and_lists_the_wheel(passwords):
    status, headers, _ = request(f"{PYPI}{DEMO}/")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic")
    status, _, body = request(f"{PYPI}{DEMO}/", headers=basic("reader", passwords["reader"]))
    assert status == 200
    assert DEMO_WHEEL in body.decode()
    # No fallback to PyPI: a public name is not found here.
    status, _, _ = request(f"{PYPI}six/", headers=basic("reader", passwords["reader"]))
    assert status == 404


def with_credentials(url: str, user: str, password: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


def test_pip_downloads_the_private_wheel_with_credentials_in_the_index_url(passwords, tmp_path):
    env = {**os.environ, "PIP_INDEX_URL": with_credentials(PYPI, "reader", passwords["reader"])}
    env.pop("PIP_EXTRA_INDEX_URL", None)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(tmp_path)]
    done = subprocess.run(
        [*command, f"{DEMO}==0.1.0"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [DEMO_WHEEL]
    env["PIP_INDEX_URL"] = PYPI  # no credentials: pip cannot list the project
    (tmp_path / DEMO_WHEEL).unlink()
    done = subprocess.run(
        [*command, "--no-input", f"{DEMO}==0.1.0"], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert not list(tmp_path.iterdir())


def test_uv_installs_the_private_wheel_with_a_netrc(passwords, tmp_path):
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is in the lock extra"
    host = PYPI.split("://")[1].split("/")[0].split(":")[0]
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host}\nlogin pusher\npassword {passwords['pusher']}\n")
    netrc.chmod(0o600)
    env = {**os.environ, "NETRC": str(netrc), "UV_NO_CACHE": "1"}
    for name in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "PIP_INDEX_URL"):
        env.pop(name, None)
    target = tmp_path / "target"
    done = subprocess.run(
        [uv, "pip", "install", "--no-deps", "--python", sys.executable, "--target", str(target),
         "--default-index", PYPI, f"{DEMO}==0.1.0"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "envparity_private_demo" / "__init__.py").is_file()


# -- skopeo ------------------------------------------------------------------------------------


def test_skopeo_copies_between_repositories_of_the_plain_registry(tiny_image):
    source = tiny_image(tag="1")
    repository = source.split("/", 1)[1].split("@")[0]
    target = f"{REGISTRY}/{repository}-copy:1"
    done = subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
         f"docker://{source}", f"docker://{target}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    inspected = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{target}"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert inspected.stdout.strip() == source.rpartition("@")[2]


# -- cosign: key-based signatures and attestations in the plain registry, no network -----------

# The flags that work with cosign v3 here (docs/testing.md lists them).
SIGN_FLAGS = ("--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes")
VERIFY_FLAGS = ("--insecure-ignore-tlog=true", "--allow-http-registry")


@pytest.fixture
def cosign(tmp_path: Path):
    """Run the cosign CLI built by .ci/tools with a key pair generated in a temp dir."""
    binary = service_fact("ENVPARITY_COSIGN")
    if not binary or not Path(binary).is_file():
        pytest.fail(f"no cosign ({binary or 'ENVPARITY_COSIGN unset'}) -- {SERVICES_HINT}")
    env = {
        **os.environ,
        "COSIGN_PASSWORD": "envparity-test",
        "HOME": str(tmp_path),  # no ~/.sigstore of the machine's user
        "TUF_ROOT": str(tmp_path / "tuf"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    generated = run("generate-key-pair")
    assert generated.returncode == 0, generated.stderr
    return run


def test_cosign_signs_and_attests_an_image_and_verifies_only_that_one(cosign, tiny_image, tmp_path):
    signed, unsigned = tiny_image(), tiny_image()
    done = cosign("sign", "--key", "cosign.key", *SIGN_FLAGS, signed)
    assert done.returncode == 0, done.stderr
    predicate = tmp_path / "provenance.json"
    predicate.write_text(
        json.dumps(
            {"buildDefinition": {"buildType": "https://envparity.dev/test"}, "runDetails": {}}
        )
    )
    done = cosign(
        "attest", "--key", "cosign.key", "--predicate", str(predicate),
        "--type", "slsaprovenance1", *SIGN_FLAGS, signed,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    verified = cosign("verify", "--key", "cosign.pub", *VERIFY_FLAGS, signed)
    assert verified.returncode == 0, verified.stderr
    assert signed.rpartition("@")[2] in verified.stdout
    attested = cosign(
        "verify-attestation", "--key", "cosign.pub", "--type", "slsaprovenance1",
        *VERIFY_FLAGS, signed,
    )  # fmt: skip
    assert attested.returncode == 0, attested.stderr
    statement = json.loads(base64.b64decode(json.loads(attested.stdout.splitlines()[0])["payload"]))
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert statement["predicate"]["buildDefinition"]["buildType"] == "https://envparity.dev/test"
    assert statement["subject"][0]["digest"]["sha256"] == signed.rpartition(":")[2]

    for command, says in (
        ("verify", "no signatures found"),
        ("verify-attestation", "no matching attestations"),
    ):
        refused = cosign(command, "--key", "cosign.pub", *VERIFY_FLAGS, unsigned)
        assert refused.returncode != 0, f"cosign {command} accepted an unsigned image"
        assert says in refused.stderr
    # The signed image under another key is not verified either.
    assert cosign("generate-key-pair", "--output-key-prefix", "other").returncode == 0
    refused = cosign("verify", "--key", "other.pub", *VERIFY_FLAGS, signed)
    assert refused.returncode != 0, "cosign verify accepted a signature made with another key"
