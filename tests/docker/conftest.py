"""Fixtures for the build tests: the real engine and registry of `.ci/services up`, a host
wheelhouse (downloaded once from PyPI, on the host; containers get no network), and small
projects (spec + locks + stack configs) in a temp dir."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REGISTRY = os.environ.get("ENVPARITY_TEST_REGISTRY", "127.0.0.1:5000")
BASE_IMAGE = os.environ.get("ENVPARITY_TEST_BASE_IMAGE", "envparity-test/bookworm-python:3.11.2")
CACHE_DIR = Path(os.environ.get("ENVPARITY_CACHE_DIR", "/var/cache/envparity"))
# Small pure-Python wheels, so builds take seconds; two versions of six for a one-pin change.
WHEELS = ("six==1.16.0", "six==1.17.0", "idna==3.10", "packaging==24.2")
SERVICES_HINT = "start the engine, registry and base image with `bash .ci/services up`"


@pytest.fixture(scope="session")
def docker_client():
    """The engine of DOCKER_HOST; without it the docker tests fail (they are not optional)."""
    from envparity.adapters.build_errors import BuildError
    from envparity.adapters.docker_build import connect

    try:
        client = connect()
    except BuildError as exc:
        pytest.fail(f"{exc} -- {SERVICES_HINT}", pytrace=False)
    try:
        client.images.get(BASE_IMAGE)
    except Exception:  # whatever fails here, the base is not usable
        pytest.fail(f"base image {BASE_IMAGE} is missing -- {SERVICES_HINT}", pytrace=False)
    yield client
    client.close()


def wheelhouse_dir() -> Path:
    """A wheelhouse with WHEELS, downloaded once from PyPI on the host into the cache dir."""
    directory = CACHE_DIR / "wheels"
    directory.mkdir(parents=True, exist_ok=True)
    have = {
        p.name.split("-")[0].lower() + "==" + p.name.split("-")[1] for p in directory.glob("*.whl")
    }
    for requirement in WHEELS:
        if requirement not in have:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--python-version",
                    "3.11",
                    "--platform",
                    "manylinux_2_28_x86_64",
                    "--dest",
                    str(directory),
                    requirement,
                ],
                check=True,
            )
    return directory


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return wheelhouse_dir()


@dataclass(frozen=True)
class Project:
    """A spec with fresh locks and stack configs in a temp dir."""

    root: Path
    spec: Path
    name: str

    @property
    def stacks(self) -> Path:
        return self.root / "stacks"

    def loaded(self):
        from envparity.core.spec import load_spec

        return load_spec(self.spec)

    def resolved(self, stage: str):
        from envparity.core.resolve import resolve

        return resolve(self.loaded(), stage)


def make_project(
    root: Path,
    wheelhouse: Path,
    *,
    name: str,
    python: str = "3.11.2",
    packages: tuple[str, ...] = ("six==1.16.0",),
    testing_extra: tuple[str, ...] = ("idna==3.10",),
    registry: str = REGISTRY,
) -> Project:
    """Write a CPU spec, lock it from the wheelhouse only (no index), render its stack configs."""
    from envparity.adapters.uv import compile_locks
    from envparity.core.lockfile import write_locks
    from envparity.core.render.stack_config import render_stack_configs
    from envparity.core.spec import load_spec

    root.mkdir(parents=True, exist_ok=True)
    spec = root / f"{name}.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
        envparity: 1
        name: {name}
        version: 0.1.0
        python: "{python}"
        os: debian12
        python_packages: [{", ".join(packages)}]
        env:
          PYTHONDONTWRITEBYTECODE: "1"
        run:
          command: [python, -c, "import six; print('six', six.__version__)"]
        stages:
          testing:
            registry: "{registry}"
            extra_python_packages: [{", ".join(testing_extra)}]
          production:
            registry: "{registry}"
        """),
        encoding="utf-8",
    )
    loaded = load_spec(spec)
    write_locks(loaded, compile_locks(loaded, find_links=wheelhouse, no_index=True))
    render_stack_configs([loaded], root / "stacks")
    return Project(root, spec, name)


@pytest.fixture
def project(tmp_path: Path, wheelhouse: Path, docker_client) -> Callable[..., Project]:
    """A factory of projects with unique names; their images are removed after the test."""
    names: list[str] = []

    def factory(**kwargs) -> Project:
        name = kwargs.pop("name", None) or f"it-{uuid.uuid4().hex[:8]}"
        names.append(name)
        return make_project(tmp_path / name, wheelhouse, name=name, **kwargs)

    yield factory
    from docker.errors import APIError

    # By label, not by tag: pulled-by-digest and re-tagged images have no tag of the name.
    for name in names:
        for image in docker_client.images.list(filters={"label": f"io.envparity.name={name}"}):
            with contextlib.suppress(APIError):  # gone already with a child, or in use
                docker_client.images.remove(image.id, force=True)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """`envparity ARGS` as a user runs it: a real process, its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory) -> str:
    """A second loopback registry that requires a login (to see a push denied); stopped after."""
    import socket
    import time
    import urllib.error
    import urllib.request
    import warnings

    with socket.socket() as s:  # a free loopback port
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    root = tmp_path_factory.mktemp("auth-registry")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # Deprecated (gone in 3.13), but Debian's libxcrypt makes the bcrypt htpasswd needs.
        import crypt

        hashed = crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH))
    (root / "htpasswd").write_text(f"pusher:{hashed}\n", encoding="utf-8")
    (root / "config.yml").write_text(
        textwrap.dedent(f"""\
        version: 0.1
        log: {{level: warn}}
        storage: {{filesystem: {{rootdirectory: {root / "data"}}}}}
        http: {{addr: "{address}"}}
        auth: {{htpasswd: {{realm: envparity-test, path: {root / "htpasswd"}}}}}
        """),
        encoding="utf-8",
    )
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=2)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                break  # up, and asking for a login
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(
                f"the auth registry did not start: {(root / 'registry.log').read_text()}",
                pytrace=False,
            )
        time.sleep(0.2)
    yield address
    process.terminate()
    process.wait(timeout=30)
    log.close()
