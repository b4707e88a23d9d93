"""Fixtures for the drift checker: specs written to tmp, the CLI, and a fake NVML module."""

from __future__ import annotations

import json
import platform
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from envparity.cli.main import app
from typer.testing import CliRunner

from envparity.core.resolve import resolve
from envparity.core.spec import load_spec


def installed(name: str) -> str:
    return metadata.version(name)


def base_spec(**overrides) -> dict:
    """A CPU spec that the interpreter running the tests satisfies exactly."""
    spec = {
        "envparity": 1,
        "name": "demo",
        "version": "1.0.0",
        "python": platform.python_version(),
        "python_packages": [
            f"packaging=={installed('packaging')}",
            f"PyYAML=={installed('PyYAML')}",
        ],
        "env": {"DEMO_MODE": "strict"},
        "run": {"command": ["python", "-m", "demo"], "port": 8080},  # a service: a Deployment
        "stages": {"local": {}},
    }
    spec.update(overrides)
    return spec


def gpu_spec(**overrides) -> dict:
    spec = base_spec(
        cuda="12.4.1", driver="550.54.15", gpus=["H100-80GB", "A100-80GB"], os="ubuntu22.04"
    )
    spec["run"] = {"command": ["python", "-m", "demo"], "gpus": 1, "port": 8080}  # a service
    spec["stages"] = {
        "local": {"gpus": 0},
        "production": {
            "replicas": 2,
            "instance_type": "p5.48xlarge",
            "nodes": {"min": 1, "max": 2},
            "region": "us-east-1",
        },
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def write_spec(tmp_path: Path):
    def write(data: dict, name: str = "demo.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def resolved(write_spec):
    def make(data: dict, stage: str):
        spec = load_spec(write_spec(data))
        return spec, resolve(spec, stage)

    return make


class Run:
    def __init__(self, result) -> None:
        self.code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr

    def json(self) -> dict:
        return json.loads(self.stdout)


@pytest.fixture
def cli():
    def run(*args: str) -> Run:
        return Run(CliRunner().invoke(app, ["drift", *map(str, args)], catch_exceptions=False))

    return run


def fake_nvml(
    driver: str | None = "550.54.15",
    devices=(("NVIDIA H100 80GB HBM3", (9, 0)),),
    as_bytes: bool = False,
    error: str = "NVML Shared Library Not Found",
):
    """A stand-in for the `pynvml` module with nvidia-ml-py's names and error classes."""
    module = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    def enc(text: str):
        return text.encode() if as_bytes else text

    def init():
        if driver is None:
            raise NVMLError(error)

    module.NVMLError = NVMLError
    module.nvmlInit = init
    module.nvmlShutdown = lambda: None
    module.nvmlSystemGetDriverVersion = lambda: enc(driver)
    module.nvmlDeviceGetCount = lambda: len(devices)
    module.nvmlDeviceGetHandleByIndex = lambda i: i
    module.nvmlDeviceGetName = lambda h: enc(devices[h][0])
    module.nvmlDeviceGetCudaComputeCapability = lambda h: devices[h][1]
    return module


def aws_error_endpoint(monkeypatch, status: int, code: str, message: str):
    """A loopback endpoint answering every call with one AWS JSON error, as AWS does.

    The server's `calls` lists the paths it answered.
    """
    calls: list[str] = []

    class Answer(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer()

        def answer(self) -> None:
            calls.append(self.path)
            body = json.dumps({"__type": code, "message": message}).encode()
            self.send_response(status)
            self.send_header("x-amzn-ErrorType", code)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.calls = calls
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for key, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    return server
