"""The registry client against a loopback registry in memory: logins, token flow, mounts,
digest checks, index promotion checks and the transport rules. No Docker needed."""

from __future__ import annotations

import base64
import json
import subprocess
from http.server import BaseHTTPRequestHandler

import pytest

from envparity.adapters import registry
from envparity.adapters.registry_http import RegistryError, plain_http_allowed
from tests.registry.fake_registry import FakeRegistry

LABEL = "io.envparity.fingerprint"


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("host", "plain"),
    [
        ("127.0.0.1:5000", True),
        ("127.4.5.6", True),
        ("[::1]:5000", True),
        ("localhost:5000", True),
        ("localhost.attacker.example:5000", False),
        ("127.0.0.1.nip.io:5000", False),
        ("[::ffff:127.0.0.1]:5000", False),  # not an IPv6 loopback literal
        ("10.0.0.7:5000", False),
        ("registry.example", False),
    ],
)
def test_plain_http_only_for_loopback_literals(host, plain):
    assert plain_http_allowed(host) is plain
    assert registry.Repository.parse(f"{host}/team/app").base.startswith(
        "http://" if plain else "https://"
    )


def test_insecure_registries_are_listed_by_host_port_host_or_cidr(monkeypatch):
    monkeypatch.setenv("ENVPARITY_INSECURE_REGISTRIES", "reg.lan:5000, other.lan 10.1.0.0/16")
    assert plain_http_allowed("reg.lan:5000")
    assert not plain_http_allowed("reg.lan:5001")
    assert plain_http_allowed("other.lan:443")
    assert plain_http_allowed("10.1.2.3:5000")
    assert not plain_http_allowed("10.2.0.1:5000")


def test_basic_login_from_the_docker_config(fresh_logins):
    with FakeRegistry(auth="basic") as fake:
        digest = fake.put_image("team/app", "1", {LABEL: "f"})
        repo = registry.Repository.parse(f"{fake.address}/team/app")
        with pytest.raises(registry.LoginMissing) as refused:
            registry.get_manifest(repo, digest)
        assert f"registry {fake.address} refused anonymous access" in str(refused.value)
        assert f"docker login {fake.address}" in refused.value.hint
        registry._sessions.clear()
        fresh_logins({"auths": {fake.address: {"auth": basic("pusher", "secret")}}})
        assert registry.get_manifest(repo, digest).digest == digest
        # The login is sent again without a new challenge: one 401 in all.
        assert registry.get_manifest(repo, "1").digest == digest
        anonymous = [p for _, p, h in fake.requests if "Authorization" not in h]
        assert len([p for p in anonymous if "/manifests/" in p]) == 2
        assert not [h for _, p, h in fake.requests if p == "/v2/" and "Authorization" in h]


def test_wrong_password_names_registry_scope_and_login(fresh_logins):
    fresh_logins({"auths": {"127.0.0.1": {"username": "pusher", "password": "wrong"}}})
    with FakeRegistry(auth="basic") as fake:
        fresh_logins({"auths": {fake.address: {"username": "pusher", "password": "wrong"}}})
        repo = registry.Repository.parse(f"{fake.address}/team/app")
        with pytest.raises(registry.AuthRefused) as refused:
            registry.get_manifest(repo, "1")
    message = str(refused.value)
    assert f"registry {fake.address} refused the login from" in message
    assert "for repository:team/app:pull" in message
    assert f"docker login {fake.address}" in message


def test_bearer_token_flow_scopes_and_cache(fresh_logins):
    with (
        FakeRegistry(auth="bearer", grants={"pusher": ("pull", "push")}) as fake,
    ):
        fresh_logins({"auths": {fake.address: {"username": "pusher", "password": "secret"}}})
        source = fake.put_image("team/src", "1", {LABEL: "f"}, layers=(b"one", b"two"))
        src = registry.Repository.parse(f"{fake.address}/team/src")
        dst = registry.Repository.parse(f"{fake.address}/team/dst")
        copied = registry.copy(src, source, dst, "1")
        assert copied.digest == source
        assert registry.get_manifest(dst, "1").digest == source
    tokens = fake.seen("GET", "/token")
    scopes = [r[1] for r in fake.requests if r[1].startswith("/token")]
    # The target's token asks for push there and pull on the source (the mount reads it).
    assert any(
        "scope=repository%3Ateam%2Fdst%3Apull%2Cpush" in s
        and "scope=repository%3Ateam%2Fsrc%3Apull" in s
        for s in scopes
    )
    assert all(t["Authorization"].startswith("Basic ") for t in tokens)
    assert len(tokens) <= 3  # cached per scope: not one per call
    # Same registry: every blob was mounted, none uploaded.
    mounts = [p for m, p, _ in fake.requests if m == "POST" and "mount=" in p]
    assert len(mounts) == 3 and not fake.seen("PUT", "/blobs/uploads/")


def test_token_realm_refusing_names_the_realm(fresh_logins):
    with FakeRegistry(auth="bearer") as fake:
        fresh_logins({"auths": {fake.address: {"username": "pusher", "password": "nope"}}})
        repo = registry.Repository.parse(f"{fake.address}/team/app")
        with pytest.raises(
            registry.AuthRefused, match=r"token realm http://127\.0\.0\.1:\d+/token"
        ):
            registry.get_manifest(repo, "1")


def test_reader_cannot_push_and_is_told_which_scope(fresh_logins):
    users = {"pusher": "secret", "reader": "read"}
    grants = {"pusher": ("pull", "push"), "reader": ("pull",)}
    with FakeRegistry(auth="bearer", users=users, grants=grants) as fake:
        fresh_logins({"auths": {fake.address: {"username": "reader", "password": "read"}}})
        digest = fake.put_image("team/src", "1", {LABEL: "f"})
        src = registry.Repository.parse(f"{fake.address}/team/src")
        assert registry.get_manifest(src, digest) is not None  # pull is allowed
        with pytest.raises(registry.AuthRefused, match="repository:team/dst:pull,push"):
            registry.copy(src, digest, registry.Repository.parse(f"{fake.address}/team/dst"), "1")


def test_copy_across_registries_streams_and_checks(fresh_logins):
    with FakeRegistry() as one, FakeRegistry(auth="basic") as two:
        fresh_logins({"auths": {two.address: {"auth": basic("pusher", "secret")}}})
        digest = one.put_image("a/app", "1", {LABEL: "f"}, layers=(b"layer" * 1000,))
        target = registry.Repository.parse(f"{two.address}/b/app")
        registry.copy(registry.Repository.parse(f"{one.address}/a/app"), digest, target, "7")
        assert two.manifests[("b/app", "7")][1] == one.manifests[("a/app", digest)][1]
        assert set(two.blobs) == set(one.blobs)
        assert not any("mount=" in p for _, p, _ in two.requests)  # another registry: no mount
        # Authorization never went to the first (anonymous) registry.
        assert not any("Authorization" in h for _, _, h in one.requests)


def test_a_blob_the_target_has_is_neither_mounted_nor_streamed():
    with FakeRegistry() as fake:
        digest = fake.put_image("a/app", "1", {LABEL: "f"})
        src = registry.Repository.parse(f"{fake.address}/a/app")
        dst = registry.Repository.parse(f"{fake.address}/b/app")
        fake.links.update(("b/app", d) for _, d in list(fake.links))
        registry.copy(src, digest, dst, "1")
        assert not fake.seen("POST", "/blobs/uploads/")  # HEAD found every blob first
        assert len(fake.seen("HEAD", "/v2/b/app/blobs/")) == 2


def test_another_manifest_for_a_digest_is_refused_naming_both():
    with FakeRegistry() as fake:
        asked = fake.put_image("a/app", "1", {LABEL: "f"})
        other = fake.put_image("a/app", "2", {LABEL: "g"})
        fake.manifests[("a/app", asked)] = fake.manifests[("a/app", other)]
        repo = registry.Repository.parse(f"{fake.address}/a/app")
        with pytest.raises(registry.Unusable) as refused:
            registry.get_manifest(repo, asked)
        assert asked in str(refused.value) and other in str(refused.value)
        with pytest.raises(registry.Unusable):
            registry.manifest_exists(repo, asked)


def test_a_blob_with_other_bytes_is_refused():
    with FakeRegistry() as fake:
        digest = fake.put_image("a/app", "1", {LABEL: "f"})
        manifest = registry.get_manifest(registry.Repository.parse(f"{fake.address}/a/app"), digest)
        config = manifest.json["config"]
        original = fake.blobs[config["digest"]]
        fake.blobs[config["digest"]] = original.replace(b'"f"', b'"g"')
        repo = registry.Repository.parse(f"{fake.address}/a/app")
        with pytest.raises(registry.Unusable, match="does not match its digest"):
            registry.image_config(repo, manifest)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>hello</html>", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"mediaType": "text/plain"}).encode(), "media type text/plain"),
        (json.dumps({"mediaType": registry.OCI_MANIFEST, "layers": []}).encode(), "missing"),
    ],
)
def test_malformed_manifests_are_registry_errors_with_a_hint(body, why):
    with FakeRegistry() as fake:
        fake.manifests[("a/app", "1")] = ("application/json", body)
        with pytest.raises(registry.Unusable, match=why) as refused:
            registry.get_manifest(registry.Repository.parse(f"{fake.address}/a/app"), "1")
        assert refused.value.hint


def test_index_children_are_copied_and_each_fingerprint_checked(tmp_path):
    from envparity.flows.promote import PromotionError, _check_fingerprint

    class Env:
        fingerprint = "f" * 64

    with FakeRegistry() as fake:
        good = [fake.put_image("a/app", f"c{i}", {LABEL: "f" * 64}, (bytes([i]),)) for i in (1, 2)]
        index = fake.put_index("a/app", "multi", good)
        src = registry.Repository.parse(f"{fake.address}/a/app")
        _check_fingerprint(src, registry.get_manifest(src, index), Env())
        registry.copy(src, index, registry.Repository.parse(f"{fake.address}/b/app"), "multi")
        for child in [*good, index]:
            assert ("b/app", child) in fake.manifests
        stale = fake.put_image("a/app", "c3", {LABEL: "0" * 64}, (b"3",))
        mixed = fake.put_index("a/app", "mixed", [good[0], stale])
        with pytest.raises(PromotionError, match=f"{stale} carries fingerprint 000000"):
            _check_fingerprint(src, registry.get_manifest(src, mixed), Env())


def redirect_to(target: str):
    def behaviour(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(307)
        handler.send_header("Location", target + handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behaviour


def test_redirect_to_another_host_drops_authorization(fresh_logins):
    """As ECR sends blob downloads to S3: the login must not follow to 127.0.0.2."""
    with FakeRegistry(auth="basic") as fake, FakeRegistry(host="127.0.0.2") as storage:
        fresh_logins({"auths": {fake.address: {"auth": basic("pusher", "secret")}}})
        digest = fake.put_image("a/app", "1", {LABEL: "f"})
        storage.blobs.update(fake.blobs)
        storage.links.update(fake.links)
        fake.hostile["/blobs/"] = redirect_to(f"http://{storage.address}")
        repo = registry.Repository.parse(f"{fake.address}/a/app")
        config = registry.image_config(repo, registry.get_manifest(repo, digest))
        assert config["config"]["Labels"] == {LABEL: "f"}
        assert storage.seen("GET", "/blobs/")
        assert not [h for _, _, h in storage.requests if "Authorization" in h]
        assert fake.seen("GET", "/blobs/")[-1]["Authorization"].startswith("Basic ")


def test_redirect_loops_end(fresh_logins):
    with FakeRegistry() as fake:
        fake.hostile["/blobs/"] = redirect_to(f"http://{fake.address}")
        repo = registry.Repository.parse(f"{fake.address}/a/app")
        with pytest.raises(registry.Unusable, match="more than 5 redirects"):
            registry.get_blob(repo, "sha256:" + "0" * 64)


def test_redirect_to_a_non_loopback_plain_http_host_is_refused():
    with FakeRegistry() as fake:
        fake.hostile["/blobs/"] = redirect_to("http://127.0.0.1.nip.io:9")
        repo = registry.Repository.parse(f"{fake.address}/a/app")
        with pytest.raises(RegistryError, match=r"refusing plain HTTP to 127\.0\.0\.1\.nip\.io:9"):
            registry.get_blob(repo, "sha256:" + "0" * 64)


def test_https_never_redirects_to_http(tmp_path, monkeypatch):
    """A TLS registry on loopback (a self-signed test certificate, trusted through
    REQUESTS_CA_BUNDLE) is spoken to over TLS, verified; its redirect of a blob to plain HTTP,
    even on loopback, is refused."""
    import ssl

    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    with FakeRegistry() as tls, FakeRegistry() as plain:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        tls.server.socket = context.wrap_socket(tls.server.socket, server_side=True)
        digest = tls.put_image("a/app", "1", {LABEL: "f"})
        port = tls.address.rpartition(":")[2]
        repo = registry.Repository.parse(f"127.0.0.1:{port}/a/app")
        with pytest.raises(RegistryError, match="TLS certificate not trusted"):
            registry.get_manifest(repo, digest)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "cert.pem"))
        manifest = registry.get_manifest(repo, digest)
        assert manifest.digest == digest
        tls.hostile["/blobs/"] = redirect_to(f"http://{plain.address}")
        with pytest.raises(RegistryError, match="from https to http"):
            registry.image_config(repo, manifest)
        assert not plain.requests
