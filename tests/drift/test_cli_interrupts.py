"""The console entry's last resorts: a bug of ours and Ctrl-C each end in one line, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from envparity.cli import main as cli_main

from envparity.flows import drift_check as checker
from tests.drift.conftest import base_spec, gpu_spec
from tests.drift.fake_kube import FakeKube


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["envparity", *args])
    with pytest.raises(SystemExit) as exited:
        cli_main.main()
    return exited.value.code, capsys.readouterr().err


def test_an_internal_error_is_one_line_exit_1(monkeypatch, capsys, write_spec):
    def broken(*args, **kwargs):
        raise RuntimeError("collector exploded")  # stands in for a bug of ours

    monkeypatch.setattr(checker, "check", broken)
    monkeypatch.delenv("ENVPARITY_DEBUG", raising=False)
    path = str(write_spec(base_spec()))
    code, err = run_main(monkeypatch, capsys, "drift", path, "--stage", "local", "--target", "host")
    assert code == 1
    assert err == (
        "error: internal error: RuntimeError: collector exploded "
        "(hint: rerun with ENVPARITY_DEBUG=1 and report it)\n"
    )


def test_envparity_debug_shows_the_traceback(monkeypatch, write_spec):
    def broken(*args, **kwargs):
        raise RuntimeError("collector exploded")

    monkeypatch.setattr(checker, "check", broken)
    monkeypatch.setenv("ENVPARITY_DEBUG", "1")
    path = str(write_spec(base_spec()))
    monkeypatch.setattr(sys, "argv", ["envparity", "drift", path, "-s", "local", "-t", "host"])
    with pytest.raises(RuntimeError, match="collector exploded"):
        cli_main.main()


def test_ctrl_c_is_exit_130_in_one_line(tmp_path, write_spec):
    """SIGINT while the kubernetes collector waits on a hanging API server: 128 + SIGINT.

    With a 2 s timeout, a loaded machine that held the test off the CPU for 2 s before it
    sent the signal saw the collector give up first (exit 3, "could not check"). Here the
    server hangs as long as the collector waits (10 s): the signal, sent as soon as the first
    request arrives, comes first on any machine. The command then still waits for its
    worker threads' requests to end (the ThreadPoolExecutor joins them), so it ends after
    about 10 s, with 130.
    """
    server = FakeKube().start()
    server.faults = [10.0] * 4
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig(tmp_path / "kubeconfig"))}
    env.pop("ENVPARITY_DEBUG", None)
    path = write_spec(gpu_spec())
    args = ["drift", str(path), "-s", "production", "-t", "kubernetes", "--timeout", "10"]
    command = [sys.executable, "-c", "from envparity.cli.main import main; main()", *args]
    process = None
    try:
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        started = time.monotonic()
        while not server.requests and time.monotonic() - started < 30:
            time.sleep(0.05)
        assert server.requests, "the collector never reached the API server"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        server.stop()
    assert process.returncode == 130, err  # typer turns KeyboardInterrupt into Exit(130)
    assert "Traceback" not in err and err.count("\n") <= 1, err
