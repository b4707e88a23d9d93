"""The real Pulumi CLI on a temp project folder: a file backend and PULUMI_HOME in temp
folders, passphrase secrets, no update check and no plugin download (config commands need
no plugin). A module of its own so the Pulumi and docker tests share it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import SERVICES_HINT, service_fact
from tests.cluster.test_pulumi_up import built
from tests.conftest import ROOT

PASSPHRASE = "envparity-test-passphrase"
# Secrets as teams set them (`--path`): a project key, a nested one, another namespace's.
SECRETS = {"envparity:dbPassword": "hunter2", "envparity:db.user": "s3cret", "team:token": "t0k"}


class Pulumi:
    """`pulumi ...` run in `project` (a folder with Pulumi.yaml), logged in to a file backend."""

    def __init__(self, project: Path, scratch: Path) -> None:
        binary = service_fact("ENVPARITY_PULUMI", "") or built("pulumi")
        if not binary or not Path(binary).is_file():
            pytest.fail(f"no Pulumi CLI ({binary or 'not built'}) -- {SERVICES_HINT}")
        (scratch / "home").mkdir(parents=True)
        (scratch / "backend").mkdir()
        self.project, self.binary = project, binary
        self.env = {
            **os.environ,
            "PULUMI_HOME": str(scratch / "home"),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        self("login", f"file://{scratch / 'backend'}")

    def __call__(self, *args: str) -> str:
        run = subprocess.run(
            [self.binary, *args, "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, f"pulumi {' '.join(args)}: {run.stderr}{run.stdout}"
        return run.stdout

    def init(self, stage: str) -> None:
        """`pulumi stack init` with the passphrase provider, then the stack config made private
        (0600), as a team keeping secrets in it does."""
        self("stack", "init", stage, "--secrets-provider", "passphrase")
        self.config_path(stage).chmod(0o600)

    def get(self, stage: str, key: str) -> str:
        return self("config", "get", "--stack", stage, "--path", key).rstrip("\n")

    def set_secrets(self, stage: str) -> str:
        """Set SECRETS in `stage`; return the stack's `encryptionsalt`."""
        for key, value in SECRETS.items():
            self("config", "set", "--stack", stage, "--secret", "--path", key, value)
        return self.top_level(stage)["encryptionsalt"]

    def top_level(self, stage: str) -> dict:
        """The stack config's top-level keys but `config`."""
        data = yaml.safe_load(self.config_path(stage).read_text(encoding="utf-8"))
        return {key: value for key, value in data.items() if key != "config"}

    def config_path(self, stage: str) -> Path:
        return self.project / "stacks" / f"Pulumi.{stage}.yaml"

    def assert_intact(self, stage: str, salt: str) -> None:
        """Pulumi still decrypts every secret, the salt is the same and the file is 0600."""
        assert self.top_level(stage) == {"encryptionsalt": salt}
        assert {key: self.get(stage, key) for key in SECRETS} == SECRETS
        assert self.config_path(stage).stat().st_mode & 0o777 == 0o600


def pulumi_project(root: Path) -> None:
    """Make `root` (with stacks/ rendered in it) a Pulumi project: this repository's Pulumi.yaml."""
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
