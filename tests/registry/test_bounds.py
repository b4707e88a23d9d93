"""Hostile registries: endless, slow, oversize and garbage answers end as one clean line (promote,
exit 1) or as "could not check" (drift's provenance read, exit 3), inside 512 MiB of address
space and inside the deadline. The client runs in a subprocess under RLIMIT_AS; the registry is
the loopback fake of fake_registry.py, told to misbehave."""

from __future__ import annotations

import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from envparity.core import ledger
from envparity.core.provenance import LABEL as PROVENANCE_LABEL
from envparity.core.render.stack_config import render_stack_configs
from envparity.core.resolve import resolve
from envparity.core.spec import load_spec
from tests.drift.conftest import base_spec
from tests.registry.fake_registry import FakeRegistry, layer_with

LIMIT = 512 << 20
ROOT = Path(__file__).resolve().parents[2]


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run_limited(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limited,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def endless(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
    handler.end_headers()
    chunk = b"a" * 65536
    try:
        while True:
            handler.wfile.write(chunk)
    except OSError:
        return


def trickle(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
    handler.end_headers()
    try:
        for _ in range(120):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.5)
    except OSError:
        return


def bomb(expanded: int) -> bytes:
    """A gzip layer of a few hundred KB that expands to `expanded` bytes, record last."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as gz,
        tarfile.open(fileobj=gz, mode="w|") as tar,
    ):
        info = tarfile.TarInfo("zeros")
        info.size = expanded
        tar.addfile(info, io.BytesIO(bytes(expanded)))
        record = b'{"_type": "https://in-toto.io/Statement/v1"}'
        info = tarfile.TarInfo("etc/envparity/provenance.json")
        info.size = len(record)
        tar.addfile(info, io.BytesIO(record))
    return raw.getvalue()


DRIFT = """
import json, sys, time
from envparity.adapters.collectors.kubernetes import _provenance
started = time.monotonic()
found = _provenance(sys.argv[1], time.monotonic() + float(sys.argv[2]))
print(json.dumps({"seconds": time.monotonic() - started, "type": type(found).__name__,
                  "reason": getattr(found, "reason", ""), "hint": getattr(found, "hint", "")}))
"""


def drift_read(image: str, deadline: float = 5.0) -> dict:
    done = run_limited("-c", DRIFT, image, str(deadline))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def image_with_provenance_layer(fake: FakeRegistry, layer: bytes) -> str:
    return fake.put_image("team/app", "1", {PROVENANCE_LABEL: "/etc/x"}, layers=(b"base", layer))


@pytest.mark.parametrize("what", ["manifest", "blob", "bomb", "slow", "garbage"])
def test_drift_provenance_read_of_a_hostile_registry_is_could_not_check(what):
    with FakeRegistry() as fake:
        digest = image_with_provenance_layer(fake, bomb(128 << 20) if what == "bomb" else b"x")
        if what == "manifest":
            fake.hostile["/manifests/"] = endless
        elif what == "blob":  # the config's descriptor says a few hundred bytes
            fake.hostile["/blobs/"] = endless
        elif what == "slow":
            fake.hostile["/manifests/"] = trickle
        elif what == "garbage":
            fake.manifests[("team/app", "1")] = ("application/json", b"\x00garbage")
        image = f"{fake.address}/team/app:1" + ("" if what == "garbage" else f"@{digest}")
        found = drift_read(image, deadline=3.0)
    assert found["type"] == "Unchecked", found
    assert found["reason"].startswith("could not read its provenance: ")
    assert found["hint"]
    assert found["seconds"] < 3.0 + 2.0  # the deadline holds, whatever the registry does
    expected = {
        "manifest": "longer than the 4194304-byte limit",
        "blob": "is longer than the",
        "bomb": "expands past 67108864 bytes",
        "slow": "timed out",
        "garbage": "is not JSON",
    }[what]
    assert expected in found["reason"]


def test_drift_provenance_read_stays_quiet_when_unreachable_or_no_login():
    """Not readable from here is not a finding (a registry nobody logged in to)."""
    with FakeRegistry(auth="basic") as fake:
        digest = fake.put_image("team/app", "1", {PROVENANCE_LABEL: "/etc/x"})
        assert drift_read(f"{fake.address}/team/app@{digest}")["type"] == "NoneType"
    assert drift_read(f"{fake.address}/team/app@{digest}")["type"] == "NoneType"  # stopped


def test_drift_provenance_read_finds_the_record():
    record = {"_type": "https://in-toto.io/Statement/v1", "subject": []}
    layer = layer_with({"etc/envparity/provenance.json": json.dumps(record).encode()})
    with FakeRegistry() as fake:
        digest = image_with_provenance_layer(fake, layer)
        found = drift_read(f"{fake.address}/team/app@{digest}")
    # Not an envparity record: parse refuses it, which is a gap, not a crash.
    assert found["type"] == "Unchecked"
    assert "not an envparity provenance record" in found["reason"]


@pytest.fixture
def promotable(tmp_path: Path):
    """A spec whose testing stage records an image in a fake registry; staging is beside it."""

    def make(fake: FakeRegistry, label: str | None = None) -> tuple[Path, Path, str]:
        data = base_spec()
        data["stages"] = {
            stage: {"registry": f"{fake.address}/{stage}"} for stage in ("testing", "staging")
        }
        path = tmp_path / "demo.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        spec = load_spec(path)
        stacks = tmp_path / "stacks"
        render_stack_configs([spec], stacks)
        env = resolve(spec, "testing")
        labels = {"io.envparity.fingerprint": label or env.fingerprint}
        repo = env.image_repository.partition("/")[2]
        digest = fake.put_image(repo, env.image_tag, labels, layers=(b"one", b"two"))
        ledger.record_image(
            stacks, "testing", env.name, env.image_ref, digest, env.fingerprint, how="build"
        )
        return path, stacks, digest

    return make


def promote(path: Path, stacks: Path) -> subprocess.CompletedProcess:
    return run_limited(
        "-m", "envparity.cli.main", "promote", str(path),
        "--from", "testing", "--to", "staging", "--stacks", str(stacks),
    )  # fmt: skip


def one_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    [line] = [x for x in stderr.splitlines() if x.startswith("error: ")]
    assert "(hint: " in line
    return line


def test_promote_through_the_fake_registry_mounts_and_records(promotable):
    with FakeRegistry() as fake:
        path, stacks, digest = promotable(fake)
        done = promote(path, stacks)
        assert done.returncode == 0, done.stderr
        assert digest in (stacks / "Pulumi.staging.yaml").read_text()
        assert len([p for m, p, _ in fake.requests if m == "POST" and "mount=" in p]) == 3


@pytest.mark.parametrize("what", ["manifest", "blob"])
def test_promote_from_an_endless_registry_ends_in_one_line(promotable, what):
    with FakeRegistry() as fake:
        path, stacks, _ = promotable(fake)
        fake.hostile[f"/{what}s/"] = endless
        done = promote(path, stacks)
    assert done.returncode == 1
    assert "-byte limit" in one_error(done.stderr)


def test_promote_refuses_a_manifest_swapped_for_another(promotable):
    with FakeRegistry() as fake:
        path, stacks, digest = promotable(fake)
        other = fake.put_image("testing/demo", "other", {"x": "y"})
        fake.manifests[("testing/demo", digest)] = fake.manifests[("testing/demo", other)]
        done = promote(path, stacks)
    assert done.returncode == 1
    line = one_error(done.stderr)
    assert digest in line and other in line
