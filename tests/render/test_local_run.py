"""What `envparity run` gives the container: env, identity, secrets, port, GPUs, the folder."""

from __future__ import annotations

from pathlib import Path

from envparity.core.resolve import resolve
from envparity.core.spec import load_spec
from envparity.flows.run import WORKDIR, container_options
from tests.conftest import ROOT


def options(name: str, stage: str, gpus=None, caller=None, command=()):
    env = resolve(load_spec(ROOT / "envspecs" / f"{name}.yaml"), stage)
    return env, container_options(env, env.image_ref, Path(), command, gpus, caller or {})


def test_service_port_env_secrets_and_identity():
    env, o = options("features", "production", caller={"FEATURES_DB_URL": "postgres://x", "X": "1"})
    assert o["ports"] == {"8000/tcp": ("127.0.0.1", 8000)}
    assert o["environment"]["LOG_LEVEL"] == "warning"
    assert o["environment"]["FEATURES_DB_URL"] == "postgres://x"  # a secret the spec names
    assert "X" not in o["environment"]  # nothing else of the caller's environment
    assert o["environment"]["ENVPARITY_FINGERPRINT"] == env.fingerprint
    assert o["volumes"] == {str(Path().resolve()): {"bind": WORKDIR, "mode": "rw"}}
    assert o["command"] == list(env.command) and "device_requests" not in o


def test_gpus_by_default_when_the_stage_needs_them_and_on_request():
    _, o = options("train", "testing")  # run.gpus: 1
    assert o["device_requests"][0]["Count"] == -1
    _, o = options("train", "local", command=["nvidia-smi"])  # local: gpus 0
    assert "device_requests" not in o and o["command"] == ["nvidia-smi"]
    _, o = options("train", "local", gpus="2")
    assert o["device_requests"][0]["Count"] == 2
