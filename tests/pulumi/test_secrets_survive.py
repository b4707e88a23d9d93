"""Pulumi's secrets survive envparity: with the real Pulumi CLI (file backend, passphrase
provider), secrets set with `pulumi config set --secret` still decrypt after `envparity
render`, `render --check` and the ledger's records, and the stack config stays 0600.
Promotion and rollback are tested the same way in tests/docker/test_promotion.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envparity.core import ledger
from tests.conftest import ROOT
from tests.pulumi.pulumi_cli import Pulumi, pulumi_project

pytestmark = pytest.mark.pulumi

ENVPARITY = str(Path(sys.executable).parent / "envparity")
DIGEST = "sha256:" + "ab" * 32


def envparity(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ENVPARITY, *args], cwd=project, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def project(tmp_path) -> Path:
    """A temp copy of this repository's Pulumi project: Pulumi.yaml, envspecs/, stacks/."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "envspecs", root / "envspecs")
    shutil.copytree(ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("*.py"))
    pulumi_project(root)
    return root


def test_secrets_decrypt_after_render_check_and_records(project, tmp_path):
    pulumi = Pulumi(project, tmp_path / "pulumi")
    pulumi.init("production")
    salt = pulumi.set_secrets("production")
    pulumi.assert_intact("production", salt)

    # A spec leaves the set: render rewrites envparity:specs of every stack.
    (project / "envspecs" / "features.yaml").unlink()
    stale = envparity(project, "render", "--check", "envspecs/train.yaml")
    assert stale.returncode == 1 and "Pulumi.production.yaml" in stale.stderr
    done = envparity(project, "render", "envspecs/train.yaml")
    assert done.returncode == 0, done.stderr
    assert "envspecs/features.yaml" not in pulumi.get("production", "envparity:specs")
    pulumi.assert_intact("production", salt)
    fresh = envparity(project, "render", "--check", "envspecs/train.yaml")
    assert fresh.returncode == 0, fresh.stderr  # Pulumi's keys are not staleness
    pulumi.assert_intact("production", salt)

    # The ledger's record, as `envparity build --push` makes it, then a promotion's and a
    # rollback's (the registry side of those: tests/docker/test_promotion.py).
    from envparity.core.resolve import resolve
    from envparity.core.spec import load_spec

    env = resolve(load_spec(project / "envspecs" / "train.yaml"), "production")
    for n, how in enumerate(("build", "promote", "rollback")):
        ledger.record_image(
            project / "stacks",
            "production",
            env.name,
            env.image_ref,
            f"sha256:{n:02x}" + "ab" * 31,
            env.fingerprint,
            how=how,
        )
        pulumi.assert_intact("production", salt)
    images = yaml.safe_load(pulumi("config", "get", "--stack", "production", "envparity:images"))
    assert images == [f"{env.image_ref}@sha256:02" + "ab" * 31]
    history = ledger.stage_history(project / "stacks", "production", env.name)
    assert [e.how for e in history] == ["rollback", "promote", "build"]


def test_a_kms_provider_set_up_is_kept_byte_for_byte(project):
    """Pulumi writes `secretsprovider` and `encryptedkey` for a cloud KMS provider; envparity
    keeps both lines as written (no KMS is reached: only the text is compared)."""
    path = project / "stacks" / "Pulumi.staging.yaml"
    lines = [
        "secretsprovider: awskms://alias/x?region=us-east-1\n",
        "encryptedkey: AQICAHhEYmFzZTY0K2RhdGEra2V5" + "QUJDREVGR0hJSktMTU5PUA" * 12 + "==\n",
    ]
    path.write_text(
        path.read_text(encoding="utf-8")
        + "  envparity:dbPassword:\n    secure: AQICAHhzZWNyZXQ=\n"
        + "".join(lines),
        encoding="utf-8",
    )
    path.chmod(0o600)
    (project / "envspecs" / "features.yaml").unlink()
    done = envparity(project, "render", "envspecs/train.yaml")
    assert done.returncode == 0, done.stderr
    fingerprint = "0" * 64
    image = f"127.0.0.1:5000/staging/train:1-{fingerprint[:12]}"
    ledger.record_image(project / "stacks", "staging", "train", image, DIGEST, fingerprint)
    text = path.read_text(encoding="utf-8")
    assert all(line in text.splitlines(keepends=True) for line in lines), text
    config = ledger.read_stack_config(path)
    assert config["envparity:dbPassword"] == {"secure": "AQICAHhzZWNyZXQ="}
    assert "envspecs/features.yaml" not in config["envparity:specs"]
    assert path.stat().st_mode & 0o777 == 0o600
