"""The pure parts of `envparity build` (no engine needed: these run in `pytest -m "not docker"`)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from envparity.adapters.build_context import build_context, context_wheels, wheelhouse_files
from envparity.adapters.build_errors import BuildError, push_error
from envparity.adapters.docker_build import input_digest, split_tag
from envparity.adapters.image_probe import ProbeError, parse_probe_output
from envparity.core.image_check import Difference, ImageContents, compare
from envparity.core.lockfile import (
    LockFormatError,
    Pin,
    dependency_layers,
    install_locks,
    parse_lock,
    stage_pins,
)
from tests.docker.conftest import run_cli

LOCK = """\
# Lock for the shared image, made by `envparity lock` ...: do not edit.
# envparity-lock-inputs: 0123
--extra-index-url https://download.pytorch.org/whl/cu124
Six==1.16.0 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # via -r requirements.in
zope.interface==6.4 \\
    --hash=sha256:cccc
"""


def test_parse_lock_reads_canonical_names_versions_and_hashes():
    assert parse_lock(LOCK) == [
        Pin("six", "1.16.0", frozenset({"aaaa", "bbbb"})),
        Pin("zope-interface", "6.4", frozenset({"cccc"})),
    ]


def test_parse_lock_refuses_an_unpinned_line():
    with pytest.raises(LockFormatError, match="not an exact name==version pin"):
        parse_lock("six>=1.0 \\\n    --hash=sha256:aaaa\n")


def test_stage_pins_add_the_stage_lock_only_for_that_stage():
    files = {
        "requirements.lock": LOCK.encode(),
        "requirements.testing.lock": b"idna==3.10 \\\n    --hash=sha256:dddd\n",
    }
    assert [p.name for p in stage_pins(files, "production")] == ["six", "zope-interface"]
    assert [p.name for p in stage_pins(files, "testing")] == ["six", "zope-interface", "idna"]
    # The Dockerfile installs the stage lock, never the whole shared one (only its slices).
    assert list(install_locks(files)) == ["testing"]


def test_each_installed_lock_gets_its_own_wheel_folder(tmp_path: Path):
    wheels = {"six-1.16.0.whl": b"six", "numpy-2.1.3.whl": b"numpy", "idna-3.10.whl": b"idna"}
    for name, content in wheels.items():
        (tmp_path / name).write_bytes(content)

    def lock(*names: str) -> bytes:
        return b"".join(
            f"{n.split('-')[0]}=={n.split('-')[1].removesuffix('.whl')} \\\n"
            f"    --hash=sha256:{hashlib.sha256(wheels[n]).hexdigest()}\n".encode()
            for n in names
        )

    files = {
        "requirements.lock": lock("numpy-2.1.3.whl", "six-1.16.0.whl"),
        "requirements.1-heavy.lock": lock("numpy-2.1.3.whl"),
        "requirements.2-light.lock": lock("six-1.16.0.whl"),
        "requirements.testing.lock": lock("idna-3.10.whl"),
    }
    assert context_wheels(tmp_path, files) == {
        "1-heavy/numpy-2.1.3.whl": tmp_path / "numpy-2.1.3.whl",
        "2-light/six-1.16.0.whl": tmp_path / "six-1.16.0.whl",
        "testing/idna-3.10.whl": tmp_path / "idna-3.10.whl",
    }
    assert dependency_layers(files, "production") == ["1-heavy", "2-light"]
    assert dependency_layers(files, "testing") == ["1-heavy", "2-light", "testing"]


def test_compare_lists_every_difference_and_ignores_unlocked_venv_tools():
    pins = parse_lock(LOCK)
    found = parse_probe_output(
        '{"python": "3.11.2", "prefix": "/opt/venv", "dists": [["six", "1.17.0"], '
        '["pip", "23.0.1"], ["setuptools", "66.1.1"], ["Extra_Thing", "1.0"]]}'
    )
    assert compare("3.11.9", pins, found) == [
        Difference("python", "3.11.9", "3.11.2"),
        Difference("extra-thing", None, "1.0"),
        Difference("six", "1.16.0", "1.17.0"),
        Difference("zope-interface", "6.4", None),
    ]


def test_probe_output_that_is_not_the_probe_json_is_a_clean_error():
    with pytest.raises(ProbeError, match="unexpected output"):
        parse_probe_output("Welcome to the image\n")


def test_compare_checks_venv_tools_when_the_lock_pins_them_and_the_prefix():
    pins = [Pin("pip", "24.0", frozenset())]
    found = ImageContents("3.11.2", "/usr", {"pip": "23.0.1"})
    assert compare("3.11.2", pins, found) == [
        Difference("python prefix", "/opt/venv", "/usr"),
        Difference("pip", "24.0", "23.0.1"),
    ]


def test_wheelhouse_files_choose_by_hash_not_by_name(tmp_path: Path):
    good, other = b"wheel bytes", b"other bytes"
    (tmp_path / "six-1.16.0-py3-none-any.whl").write_bytes(good)
    (tmp_path / "unrelated-1.0-py3-none-any.whl").write_bytes(other)
    pin = Pin("six", "1.16.0", frozenset({hashlib.sha256(good).hexdigest()}))
    assert wheelhouse_files(tmp_path, [pin]) == {
        "six-1.16.0-py3-none-any.whl": tmp_path / "six-1.16.0-py3-none-any.whl"
    }
    tampered = Pin("six", "1.16.0", frozenset({hashlib.sha256(b"x").hexdigest()}))
    with pytest.raises(BuildError, match=r"no file for six==1\.16\.0 with a hash the lock allows"):
        wheelhouse_files(tmp_path, [tampered])
    with pytest.raises(BuildError, match="is not a directory"):
        wheelhouse_files(tmp_path / "missing", [pin])


def test_build_context_is_deterministic_and_holds_files_and_wheels(tmp_path: Path):
    wheel = tmp_path / "six.whl"
    wheel.write_bytes(b"w")
    files = {"Dockerfile": b"FROM x\n", "requirements.lock": b"six==1 \\\n"}

    def tar_bytes() -> bytes:
        with build_context(files, {"six.whl": wheel}) as f:
            return f.read()

    first = tar_bytes()
    wheel.touch()  # a new mtime on the host must not change the context
    assert tar_bytes() == first
    with build_context(files, {"six.whl": wheel}) as f, tarfile.open(fileobj=f) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == [
        "Dockerfile",
        "requirements.lock",
        "wheelhouse",
        "wheelhouse/six.whl",
    ]
    assert {m.mtime for m in members.values()} == {0}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("127.0.0.1:5000/demo:0.1.0-abc", ("127.0.0.1:5000/demo", ":", "0.1.0-abc")),
        ("127.0.0.1:5000/demo", ("127.0.0.1:5000/demo", ":", "latest")),
        ("demo:1", ("demo", ":", "1")),
    ],
)
def test_split_tag_tells_a_port_from_a_tag(ref, expected):
    assert split_tag(ref) == expected


@pytest.mark.parametrize(
    ("message", "start"),
    [
        ("denied: requested access to the resource is denied", "push of r/x:1 denied by r"),
        ("no basic auth credentials", "push of r/x:1 denied by r"),
        (
            'Get "http://r/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
            "registry r unreachable while pushing r/x:1",
        ),
        ("blob upload invalid", "push of r/x:1 failed"),
    ],
)
def test_push_errors_say_denied_or_unreachable(message, start):
    assert push_error("r/x:1", message).message.startswith(start)


def test_cli_startup_does_not_import_docker():
    code = (
        "import sys, envparity.cli.main, envparity.adapters.docker_build; "
        "print(sorted(m for m in ('docker', 'pulumi', 'boto3', 'kubernetes') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_push_to_a_stage_without_registry_is_one_line(tmp_path: Path):
    spec = tmp_path / "plain.yaml"
    spec.write_text(
        'envparity: 1\nname: plain\nversion: 0.1.0\npython: "3.11.2"\nos: debian12\n'
        "python_packages: []\nstages:\n  production: {}\n",
        encoding="utf-8",
    )
    done = run_cli(
        "build",
        str(spec),
        "--stage",
        "production",
        "--push",
        env={"DOCKER_HOST": "tcp://127.0.0.1:1"},
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: {spec}: stage production names no registry to push to "
        "(hint: set stages.production.registry in the spec, e.g. 127.0.0.1:5000)\n"
    )


def test_push_without_stack_configs_fails_before_building(tmp_path: Path):
    spec = tmp_path / "reg.yaml"
    spec.write_text(
        'envparity: 1\nname: reg\nversion: 0.1.0\npython: "3.11.2"\nos: debian12\n'
        'python_packages: []\nstages:\n  production: {registry: "127.0.0.1:5000"}\n',
        encoding="utf-8",
    )
    missing = tmp_path / "stacks"
    done = run_cli(
        "build",
        str(spec),
        "--stage",
        "production",
        "--push",
        "--stacks",
        str(missing),
        env={"DOCKER_HOST": "tcp://127.0.0.1:1"},  # never reached
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: {missing / 'Pulumi.production.yaml'} does not exist, so a pushed digest could "
        "not be recorded (hint: "
    )
    assert done.stderr.count("\n") == 1


def test_input_digest_follows_files_target_build_args_and_base_id():
    files = {"Dockerfile": b"FROM x\n", "requirements.1-heavy.lock": b"six==1 \\\n"}
    args = {"ENVPARITY_OFFLINE": "1"}
    same = input_digest(files, "production", args, "sha256:base")
    assert input_digest(dict(reversed(files.items())), "production", args, "sha256:base") == same
    assert {
        input_digest({**files, "Dockerfile": b"FROM y\n"}, "production", args, "sha256:base"),
        input_digest(files, "testing", args, "sha256:base"),
        input_digest(files, "production", {"ENVPARITY_OFFLINE": "0"}, "sha256:base"),
        input_digest(files, "production", args, "sha256:moved"),
    }.isdisjoint({same})
