"""Shared test helpers: golden files, and the root of the repository."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
# Console scripts (envparity, hadolint) of the environment running the tests, wherever it is.
SCRIPTS = Path(sysconfig.get_path("scripts"))
# Property tests draw max_examples x this many examples: bench/fuzz.py sets it for a long run.
FUZZ_SCALE = int(os.environ.get("ENVPARITY_FUZZ_SCALE", "1"))


def assert_golden(path: Path, actual: str) -> None:
    """Compare `actual` with the golden file byte for byte; UPDATE_GOLDEN=1 rewrites it."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"missing golden file {path.relative_to(ROOT)}: run the tests with UPDATE_GOLDEN=1"
        )
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.relative_to(ROOT)} differs (UPDATE_GOLDEN=1 to accept)"
    )


def pytest_configure(config: pytest.Config) -> None:
    if UPDATE_GOLDEN and os.environ.get("CI"):
        raise pytest.UsageError(
            "UPDATE_GOLDEN=1 rewrites golden files; it is refused when CI is set "
            "(regenerate them locally and commit the diff)"
        )


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def moto_url():
    """moto in server mode on 127.0.0.1 (a free port), one per test module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _hypothesis_profiles() -> None:
    """CI draws no random examples and keeps no database: a run there is the run here.

    `ci` (loaded when CI is set): derandomize=True (the examples are a function of the test),
    database=None (no example replayed from an earlier run). Locally hypothesis draws at
    random and replays what once failed; HYPOTHESIS_PROFILE=ci gives CI's run, and
    `bench/fuzz.py` a long one whose findings become @example cases.
    """
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    settings.register_profile("fuzz", database=None, print_blob=True)  # bench/fuzz.py
    settings.register_profile("dev")
    default = "ci" if os.environ.get("CI") else "dev"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


_hypothesis_profiles()
