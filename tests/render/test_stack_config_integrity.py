"""Stack configs are committed and hold Pulumi's secrets set-up: every writer (render, the
ledger) changes only the keys envparity owns, keeps the file's mode, and concurrent writers
lose nothing (real processes racing on one file)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path

import pytest
import yaml
from envparity.cli.main import app
from typer.testing import CliRunner

from envparity.core import ledger
from envparity.core.render import stack_config as sc
from envparity.core.render.files import write_atomic
from envparity.core.spec import load_specs
from tests.conftest import ROOT

runner = CliRunner()
DIGEST = "sha256:" + "ab" * 32
FINGERPRINT = "0123456789ab" + "0" * 52
# What `pulumi stack init` and `pulumi config set --secret` leave in a stack config.
SALT = "v1:gWzWSTpXz0M=:v1:RU3l/jaFC3DEn1GX:RHeDRcCdMAS5js0a2e/R7vRszy/lkA=="
SECRET = {"secure": "v1:T/ItCi71g1zyHGuj:OzZvoYYfr8+vC02kaE8cCB7ofMba40c="}
NESTED = {"key": {"secure": "v1:dWOT7nfmFJDH6Tg4:9pHvfp/jtW1q844KhrU6RuXuU6HRgA=="}}
# A KMS provider: the data key encrypted by KMS (a long base64 string), kept as text.
KMS = {
    "secretsprovider": "awskms://alias/x?region=us-east-1",
    "encryptedkey": "AQICAHh" + "Zm9vYmFy" * 40 + "==",
    "environment": ["myproj/dev", "myproj/shared"],
    "x-team-note": {"owner": "ml-platform", "since": "2026-01-01"},
}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A checkout of the example project (specs and committed stack configs); its root."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "envspecs", root / "envspecs")
    shutil.copytree(ROOT / "stacks", root / "stacks", ignore=shutil.ignore_patterns("*.py"))
    monkeypatch.chdir(root)
    return root


def with_secrets(path: Path, top: dict) -> dict:
    """Add what Pulumi writes to the stack config at `path` (mode 0600, as Pulumi makes it);
    return the whole document."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["config"]["envparity:dbPassword"] = SECRET
    data["config"]["envparity:nested"] = NESTED
    data["config"]["aws:region"] = "us-east-1"
    data.update(top)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return data


def assert_kept(path: Path, before: dict) -> None:
    """Every key but those envparity owns is as it was, and the file is still 0600."""
    after = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert {k: v for k, v in after.items() if k != "config"} == {
        k: v for k, v in before.items() if k != "config"
    }
    owned = {ledger.IMAGES, ledger.HISTORY, "envparity:specs"}
    mine = {k: v for k, v in before["config"].items() if k not in owned}
    assert {k: after["config"].get(k) for k in mine} == mine
    assert path.stat().st_mode & 0o777 == 0o600


def record(stacks: Path, stage: str, name: str, digest: str = DIGEST, how: str = "build") -> Path:
    return ledger.record_image(
        stacks,
        stage,
        name,
        f"127.0.0.1:5000/{stage}/{name}:0.1.0-{FINGERPRINT[:12]}",
        digest,
        FINGERPRINT,
        how=how,
    )


@pytest.mark.parametrize("top", [{"encryptionsalt": SALT}, KMS], ids=["passphrase", "awskms"])
def test_render_and_check_keep_pulumi_keys_secrets_and_mode(project, top):
    path = project / "stacks" / "Pulumi.testing.yaml"
    data = with_secrets(path, top)
    # The environment set changed: render must rewrite envparity:specs, and only that.
    (project / "envspecs" / "features.yaml").unlink()
    check = runner.invoke(app, ["render", "--check", "envspecs/train.yaml"])
    assert check.exit_code == 1 and "Pulumi.testing.yaml" in check.output
    result = runner.invoke(app, ["render", "envspecs/train.yaml"])
    assert result.exit_code == 0, result.output
    assert_kept(path, data)
    assert "envspecs/features.yaml" not in ledger.read_stack_config(path)["envparity:specs"]
    text = path.read_text(encoding="utf-8")
    for value in top.values():  # the strings appear as they were, not folded or re-encoded
        if isinstance(value, str):
            assert f": {value}\n" in text
    # Pulumi's keys are part of a fresh render, not staleness.
    assert runner.invoke(app, ["render", "--check", "envspecs/train.yaml"]).exit_code == 0
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []


def test_the_ledger_keeps_pulumi_keys_secrets_and_mode(project):
    path = project / "stacks" / "Pulumi.production.yaml"
    data = with_secrets(path, {"encryptionsalt": SALT, **KMS})
    record(project / "stacks", "production", "train")
    record(project / "stacks", "production", "train", "sha256:" + "cd" * 32, how="promote")
    record(project / "stacks", "production", "train", DIGEST, how="rollback")
    assert_kept(path, data)
    hows = [e.how for e in ledger.stage_history(project / "stacks", "production", "train")]
    assert hows == ["rollback", "promote", "build"]


def test_render_fills_a_stack_pulumi_initialised(project):
    """`pulumi stack init` before the first render: the file holds only the salt."""
    path = project / "stacks" / "Pulumi.staging.yaml"
    path.write_text(f"encryptionsalt: {SALT}\n", encoding="utf-8")
    path.chmod(0o600)
    specs = load_specs(sorted((project / "envspecs").glob("*.yaml")))
    assert sc.render_stack_configs(specs, project / "stacks") == [path]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["encryptionsalt"] == SALT and data["config"]["envparity:specs"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert sc.render_stack_configs(specs, project / "stacks", check=True) == []
    shutil.rmtree(project / "stacks")  # the folder is made again for the stages specs declare
    assert len(sc.render_stack_configs(specs, project / "stacks")) == 4


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_write_atomic_keeps_the_mode_of_the_file_it_replaces(tmp_path, mode):
    target = tmp_path / "Pulumi.testing.yaml"
    target.write_bytes(b"old\n")
    target.chmod(mode)
    write_atomic(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_mode & 0o777 == mode


# Concurrency: real processes, released together by a barrier so their writes overlap.
WRITERS = 6
RECORDS = 3  # per writer, each into its own environment (at most HISTORY_LIMIT)
ROUNDS = 3


def _writer(stacks: Path, index: int, barrier) -> None:
    barrier.wait()
    for n in range(RECORDS):
        how = ("build", "promote", "rollback")[n % 3]
        record(stacks, "testing", f"env{index}", f"sha256:{index:02x}{n:02x}" + "0" * 60, how)


def _renderer(stacks: Path, barrier) -> None:
    specs = load_specs(sorted((stacks.parent / "envspecs").glob("*.yaml")))
    barrier.wait()
    for n in range(RECORDS):
        # Alternate two environment sets, so each render really rewrites the file.
        sc.render_stack_configs(specs[n % 2 :], stacks)


def race(stacks: Path, *, render: bool) -> list[str]:
    """Run WRITERS recording processes (and a rendering one) at once; return what is lost."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS + render)
    processes = [
        context.Process(target=_writer, args=(stacks, i, barrier), daemon=True)
        for i in range(WRITERS)
    ]
    if render:
        processes.append(context.Process(target=_renderer, args=(stacks, barrier), daemon=True))
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    config = ledger.read_stack_config(ledger.stack_config_path(stacks, "testing"))
    lost = []
    for i in range(WRITERS):
        name = f"env{i}"
        last = f"sha256:{i:02x}{RECORDS - 1:02x}" + "0" * 60
        if [ledger.ImageRef.parse(t).digest for t in config[ledger.IMAGES] if name in t] != [last]:
            lost.append(f"{name}: image")
        entries = ledger.history(config, name)
        if len(entries) != RECORDS:
            lost.append(f"{name}: {RECORDS - len(entries)} history entries")
    return lost


@pytest.mark.parametrize("render", [False, True], ids=["records", "records-and-render"])
def test_concurrent_writers_lose_no_record(project, render):
    stacks = project / "stacks"
    path = ledger.stack_config_path(stacks, "testing")
    data = with_secrets(path, {"encryptionsalt": SALT})
    for attempt in range(ROUNDS):
        path.write_text(ledger.dump("testing", data["config"], data), encoding="utf-8")
        assert race(stacks, render=render) == [], f"round {attempt}"
        assert_kept(path, data)
    assert sorted(p.name for p in stacks.iterdir() if p.name.startswith(".")) == []


def _record_when(go, stacks: Path, name: str) -> None:
    go.wait()
    record(stacks, "testing", name)


def test_the_stack_config_is_locked_while_it_changes(project):
    """A writer waits while another holds the lock and replaces the file, then locks the new
    file and adds to what the holder wrote."""
    import fcntl

    stacks = project / "stacks"
    path = ledger.stack_config_path(stacks, "testing")
    context = multiprocessing.get_context("fork")
    go = context.Event()
    # Forked before the lock is taken: a child would share (and so keep) a lock it inherits.
    writer = context.Process(target=_record_when, args=(go, stacks, "waiting"), daemon=True)
    writer.start()
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        go.set()
        writer.join(1.5)
        assert writer.is_alive()  # blocked on the lock
        assert "waiting" not in path.read_text(encoding="utf-8")
        # The holder's own change, replacing the file as every writer does.
        config = ledger.read_stack_config(path)
        config[ledger.IMAGES] = [f"127.0.0.1:5000/testing/holder:1-{FINGERPRINT[:12]}@{DIGEST}"]
        write_atomic(path, ledger.dump("testing", config).encode())
    finally:
        os.close(fd)
    writer.join(30)
    assert writer.exitcode == 0
    names = [ledger.ImageRef.parse(t).name for t in ledger.read_stack_config(path)[ledger.IMAGES]]
    assert names == ["holder", "waiting"]
