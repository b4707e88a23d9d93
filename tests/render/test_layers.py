"""The dependency layers: grouped by recorded wheel size, every locked package in exactly one."""

from __future__ import annotations

import shutil
import subprocess

from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import SIZE_KEY, blocks, parse_lock, write_locks
from envparity.core.render.artifacts import render_env
from envparity.core.render.layers import split
from envparity.core.spec import load_spec
from tests.render.conftest import CASES
from tests.render.test_golden import HADOLINT

MB = 1_000_000


def lock_with(sizes: dict[str, int | None]) -> str:
    """A shared lock text whose packages have these recorded sizes (None: no size line)."""
    out = ["# Lock for the shared image ...\n", "--extra-index-url https://example.org/simple\n"]
    for name, size in sizes.items():
        out.append(f"{name}==1.0 \\\n    --hash=sha256:{name:a<64}\n    # via -r requirements.in\n")
        if size is not None:
            out.append(f"{SIZE_KEY}{size}\n")
    return "".join(out)


def test_layers_are_tiers_of_size_relative_to_the_largest_package():
    layers = split(
        lock_with(
            {
                "torch": 800 * MB,
                "nvidia-cudnn-cu12": 660 * MB,
                "triton": 80 * MB,  # exactly 10x smaller: still heavy
                "sympy": 6 * MB,  # 133x smaller: medium
                "filelock": 799_000,  # just over 1000x smaller: light
                "networkx": 79 * MB,  # just over 10x smaller: medium
                "six": 11_000,
                "mystery": None,  # a lock made before sizes were recorded
            }
        )
    )
    assert [(layer.id, layer.packages) for layer in layers] == [
        ("1-heavy", ("nvidia-cudnn-cu12", "torch", "triton")),
        ("2-medium", ("networkx", "sympy")),
        ("3-light", ("filelock", "mystery", "six")),
    ]


def test_slices_partition_the_lock_and_keep_its_index_options():
    text = lock_with({"numpy": 16 * MB, "pandas": 13 * MB, "pytz": 500_000, "six": 11_000})
    layers = split(text)
    assert [layer.id for layer in layers] == ["1-heavy", "2-medium", "3-light"]
    sliced = [pin for layer in layers for pin in parse_lock(layer.lock)]
    assert sorted(sliced, key=lambda p: p.name) == parse_lock(text)  # each pin once, hashes kept
    whole = blocks(text)
    for layer in layers:
        assert "--extra-index-url https://example.org/simple" in layer.lock.splitlines()
        assert blocks(layer.lock) == {name: whole[name] for name in layer.packages}


def test_a_lock_without_sizes_is_one_layer_and_an_empty_lock_none():
    assert [layer.id for layer in split(lock_with({"a": None, "b": None}))] == ["1-light"]
    assert split("# Lock for the shared image ...\n") == []


def test_lock_records_each_wheel_size_and_render_installs_every_slice(tmp_path, wheelhouse):
    spec_path = tmp_path / "gpu-train.yaml"
    shutil.copy(CASES / "gpu-train" / "envspec.yaml", spec_path)
    spec = load_spec(spec_path)
    locks = compile_locks(spec, find_links=wheelhouse, no_index=True)
    for pin in parse_lock(locks[""]):
        wheel = wheelhouse / f"{pin.name.replace('-', '_')}-{pin.version}-py3-none-any.whl"
        assert f"{SIZE_KEY}{wheel.stat().st_size}\n" in blocks(locks[""])[pin.name]
    write_locks(spec, locks)
    files = render_env(spec)
    dockerfile = files["Dockerfile"].decode()
    installs = [line for line in dockerfile.splitlines() if line.startswith("COPY requirements.")]
    # Heaviest first, each slice with its own wheel folder, the stage's extras last.
    assert installs == [
        "COPY requirements.1-heavy.lock wheelhouse/1-heavy/* /tmp/envparity/",
        "COPY requirements.2-medium.lock wheelhouse/2-medium/* /tmp/envparity/",
        "COPY requirements.3-light.lock wheelhouse/3-light/* /tmp/envparity/",
        "COPY requirements.testing.lock wheelhouse/testing/* /tmp/envparity/",
    ]
    for name in ("requirements.1-heavy.lock", "requirements.2-medium.lock"):
        assert f"-r /tmp/envparity/{name}" in dockerfile and name in files


def test_hadolint_default_threshold_fails_on_an_info_finding(tmp_path):
    # The golden lint runs at hadolint's defaults: an info rule (DL3059) alone fails it.
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:12\nRUN true\nRUN false\n")
    done = subprocess.run([str(HADOLINT), str(dockerfile)], capture_output=True, text=True)
    assert done.returncode != 0 and "DL3059" in done.stdout
