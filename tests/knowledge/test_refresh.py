"""The generator against loopback servers speaking the real protocols.

- a PEP 503 / PEP 691 simple index on 127.0.0.1 serving wheel file names copied from
  download.pytorch.org/whl/torch/ (knowledge_sources/pytorch-whl-torch.cog-097da31.html);
- the registry of .ci/services at 127.0.0.1:5000, with tiny images pushed under
  nvidia/cuda-style tags to a repository unique to the test (paging through `Link`);
- a loopback registry answering with Docker Hub's bearer-token challenge;
- moto's server on 127.0.0.1 answering DescribeInstanceTypes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from envparity.adapters.knowledge_refresh import (
    Source,
    SourceError,
    load_curated,
    read_simple_index,
    read_tags,
    snapshot,
    wheel_rows,
)
from knowledge_sources.loopback import SimpleIndex, TagRegistry

ROOT = Path(__file__).resolve().parents[2]
COPY = ROOT / "knowledge_sources" / "pytorch-whl-torch.cog-097da31.html"
CLI = (sys.executable, "-m", "envparity.cli.main")
REGISTRY = os.environ.get("ENVPARITY_TEST_REGISTRY", "127.0.0.1:5000")
CUDA_TAGS = [
    "12.8.1-cudnn-runtime-ubuntu24.04",
    "12.8.1-runtime-ubuntu24.04",
    "12.8.1-base-ubuntu24.04",
    "12.4.1-cudnn-runtime-ubuntu22.04",
    "12.4.1-runtime-ubuntu22.04",
    "12.8.1-runtime-rockylinux9",  # other OS: read, not kept
]


def _lines(*versions: str) -> str:
    """The index copy's <a> lines of these torch versions (real file names and hrefs)."""
    text = COPY.read_text(encoding="utf-8")
    keep = [
        line
        for line in text.splitlines()
        if any(f">torch-{v}+" in line or f">torch-{v}-" in line for v in versions)
    ]
    return "<!DOCTYPE html><html><body>\n" + "\n".join(keep) + "\n</body></html>\n"


@pytest.fixture
def aws(moto_url, monkeypatch):
    for key, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_url


def _put(
    url: str, body: bytes, kind: str, method: str = "PUT"
) -> urllib.request.http.client.HTTPResponse:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": kind})
    return urllib.request.urlopen(request, timeout=30)


def _push_blob(repository: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = _put(f"http://{REGISTRY}/v2/{repository}/blobs/uploads/", b"", "", "POST")
    location = start.headers["Location"]
    location = location if location.startswith("http") else f"http://{REGISTRY}{location}"
    joiner = "&" if "?" in location else "?"
    _put(f"{location}{joiner}digest={digest}", data, "application/octet-stream")
    return digest


@pytest.fixture
def pushed_repository():
    """A unique repository on the loopback registry holding tiny images with CUDA-style tags."""
    repository = f"envparity-test/cuda-{uuid.uuid4().hex[:10]}"
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    config_digest = _push_blob(repository, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    kind = "application/vnd.oci.image.manifest.v1+json"
    for tag in CUDA_TAGS:
        _put(f"http://{REGISTRY}/v2/{repository}/manifests/{tag}", manifest, kind)
    yield repository
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repository}/manifests/{digest}", method="DELETE"
    )
    urllib.request.urlopen(request, timeout=30)


# --- simple index ------------------------------------------------------------------------
def test_simple_index_html_gives_builds_pythons_and_arches():
    with SimpleIndex({("whl", "torch"): _lines("2.0.1", "2.7.1")}) as index:
        urls = read_simple_index(f"{index.url}/whl", "torch")
        assert read_simple_index(f"{index.url}/whl", "torchvision") == []
    source = Source("idx", "wheel-index", "x")
    rows = {(r["version"], r["build"]): r for r in wheel_rows(urls, source, pypi=False)}
    assert rows[("2.0.1", "cu118")]["pythons"] == ["cp38", "cp39", "cp310", "cp311"]
    assert rows[("2.7.1", "cu128")]["pythons"] == [
        "cp39",
        "cp310",
        "cp311",
        "cp312",
        "cp313",
        "cp313t",
    ]
    assert rows[("2.7.1", "cu128")]["arches"] == ["aarch64", "x86_64"]
    assert rows[("2.7.1", "cu118")]["arches"] == ["x86_64"]
    # rocm, xpu, cxx11-abi and pypi-cudnn variants are not builds envparity judges
    assert {b for _, b in rows} == {"cpu", "cu117", "cu118", "cu126", "cu128"}


def test_simple_index_json_pep691():
    files = [
        {"filename": n, "url": f"/whl/cu126/{n}", "hashes": {}}
        for n in (
            "torch-2.6.0+cu126-cp312-cp312-manylinux_2_28_x86_64.whl",
            "torch-2.6.0+cu126-cp313-cp313-manylinux_2_28_aarch64.whl",
        )
    ]
    page = json.dumps({"meta": {"api-version": "1.1"}, "name": "torch", "files": files})
    with SimpleIndex({("whl", "torch"): page}) as index:
        urls = read_simple_index(f"{index.url}/whl", "torch")
    (row,) = wheel_rows(urls, Source("idx", "wheel-index", "x"), pypi=False)
    assert (row["build"], row["pythons"], row["arches"]) == (
        "cu126",
        ["cp312", "cp313"],
        ["aarch64", "x86_64"],
    )


def test_unreachable_index_is_a_source_error():
    with pytest.raises(SourceError, match="cannot connect"):
        read_simple_index("http://127.0.0.1:9/whl", "torch")


# --- registries --------------------------------------------------------------------------
@pytest.mark.docker
def test_tag_list_of_the_loopback_registry_pages_through_link(pushed_repository):
    tags = read_tags(f"http://{REGISTRY}", pushed_repository, page_size=2)
    assert sorted(tags) == sorted(CUDA_TAGS)


def test_bearer_challenge_and_paging():
    tags = [f"12.{i}.0-runtime-ubuntu22.04" for i in range(7)]
    with TagRegistry({("hub", "nvidia/cuda"): tags}) as registry:
        assert read_tags(f"{registry.url}/hub", "nvidia/cuda", page_size=3) == tags
        asked = registry.requests
    assert asked[0].startswith("/hub/v2/nvidia/cuda/tags/list?n=3")  # 401 first
    assert asked[1].startswith("/token?") and "scope=repository%3Anvidia%2Fcuda%3Apull" in asked[1]
    assert sum("/tags/list" in a for a in asked) == 4  # the retried first page + 3 pages


# --- the whole generator -------------------------------------------------------------------
@pytest.mark.docker
@pytest.mark.aws
def test_refresh_writes_a_team_snapshot_that_validate_prefers(tmp_path, aws, pushed_repository):
    with SimpleIndex({("whl", "torch"): _lines("2.7.1")}) as index:
        env = {
            **os.environ,
            "ENVPARITY_TORCH_INDEX": f"{index.url}/whl",
            "ENVPARITY_REGISTRY": f"http://{REGISTRY}",
            "ENVPARITY_CUDA_REPOSITORY": pushed_repository,
        }
        (tmp_path / ".git").mkdir()
        done = subprocess.run(
            [*CLI, "knowledge", "refresh", "--skip", "pypi", "--skip", "python-images"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / ".envparity" / "knowledge.json").read_text())
    assert [r["tag"] for r in written["images"]["nvidia/cuda"]] == sorted(
        t for t in CUDA_TAGS if "ubuntu" in t
    )
    assert {(r["version"], r["build"]) for r in written["wheels"]} >= {("2.7.1", "cu128")}
    assert written["instance_types"] and all(r["sources"] for r in written["instance_types"])
    assert written["sources"]["cuda-images"]["url"] == f"http://{REGISTRY}"

    # validate, run beside the team snapshot, judges by it: 12.8.1 exists, 12.4.1 on 24.04 not
    specs = tmp_path / "envspecs"
    specs.mkdir()
    spec = (ROOT / "tests" / "knowledge" / "cuda1281.yaml").read_text()
    (specs / "ok.yaml").write_text(spec)
    ok = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "validate", "envspecs/ok.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    (specs / "old.yaml").write_text(
        spec.replace('"12.8.1"', '"12.4.1"').replace("torch==2.7.1+cu128", "torch==2.7.1+cu126")
    )
    old = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "validate", str(specs / "old.yaml")],
        cwd=ROOT,  # the search starts at the spec, not the working directory
        capture_output=True,
        text=True,
    )
    assert old.returncode == 1
    assert "nvidia/cuda has no tag 12.4.1-runtime-ubuntu24.04" in old.stderr
    show = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "knowledge", "show", "--json"],
        cwd=specs,
        capture_output=True,
        text=True,
    )
    info = json.loads(show.stdout)
    assert (info["kind"], info["path"]) == ("team", str(tmp_path / ".envparity" / "knowledge.json"))
    assert info["sources"]["cuda-images"]["entries"] == 5


@pytest.mark.aws
def test_ec2_rows_carry_vcpus_memory_and_gpus(aws):
    document = snapshot([Source("ec2", "ec2", aws, "us-east-1")], load_curated())
    rows = {r["name"]: r for r in document["instance_types"]}
    g5 = rows["g5.xlarge"]
    assert (g5["gpu"], g5["gpu_count"], g5["vcpus"], g5["memory_mib"]) == ("A10G", 1, 4, 16384)
    assert (
        rows["p4de.24xlarge"]["gpu"] == "A100-80GB" and rows["p4d.24xlarge"]["gpu"] == "A100-40GB"
    )
    assert rows["p3.2xlarge"]["sources"] == ["aws-ug", "aws-batch-gpu"]  # curated: moto lacks p3
    assert not any(name.startswith("g5g.") for name in rows)  # T4G: no compute capability source


def test_refresh_says_in_one_line_when_a_source_is_down(tmp_path):
    down = ("--torch-index", "http://127.0.0.1:9/whl", "--skip", "ec2", "-o", "k.json")
    done = subprocess.run(
        [*CLI, "knowledge", "refresh", *down],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 3
    assert done.stderr.startswith("error: http://127.0.0.1:9/whl/torch/: cannot connect")
    assert done.stderr.count("\n") == 1 and not (tmp_path / "k.json").exists()


def test_packaged_snapshot_is_what_the_generator_makes_of_the_copies(tmp_path):
    """Regenerating from knowledge_sources gives the committed file byte for byte."""
    from knowledge_sources import build_packaged

    target = tmp_path / "snapshot.json"
    build_packaged.main(target)
    packaged = ROOT / "envparity" / "core" / "knowledge" / "snapshot.json"
    assert target.read_text() == packaged.read_text()


def test_a_broken_team_snapshot_is_one_line_not_a_traceback(tmp_path):
    (tmp_path / ".envparity").mkdir()
    (tmp_path / ".envparity" / "knowledge.json").write_text("{not json")
    spec = tmp_path / "spec.yaml"
    spec.write_text((ROOT / "tests" / "knowledge" / "cuda1281.yaml").read_text())
    done = subprocess.run([*CLI, "validate", str(spec)], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {tmp_path}/.envparity/knowledge.json: the knowledge")
    assert done.stderr.count("\n") == 1


def test_envparity_knowledge_names_a_snapshot_outright(tmp_path):
    named = tmp_path / "k.json"
    named.write_text((ROOT / "envparity" / "core" / "knowledge" / "snapshot.json").read_text())
    env = {**os.environ, "ENVPARITY_KNOWLEDGE": str(named)}
    done = subprocess.run(
        [*CLI, "knowledge", "show", "--json"], capture_output=True, text=True, env=env
    )
    assert (json.loads(done.stdout)["kind"], json.loads(done.stdout)["path"]) == ("env", str(named))


def test_pypi_listing_gives_the_plain_wheels_as_build_pypi():
    """Files without a local label (on PyPI, and on the index for aarch64) are the PyPI build."""
    text = COPY.read_text(encoding="utf-8")
    plain = [line for line in text.splitlines() if ">torch-2.1.0-cp" in line]
    labelled = [line for line in text.splitlines() if ">torch-2.1.0+cu121-cp" in line]
    page = "<html><body>\n" + "\n".join(plain + labelled) + "\n</body></html>\n"
    with SimpleIndex({("simple", "torch"): page}) as pypi:
        urls = read_simple_index(f"{pypi.url}/simple", "torch")
    (row,) = wheel_rows(urls, Source("pypi", "pypi", "x"), pypi=True)
    assert (row["version"], row["build"], row["arches"]) == ("2.1.0", "pypi", ["aarch64"])
    assert row["pythons"] == ["cp38", "cp39", "cp310", "cp311"]


@pytest.mark.parametrize(
    ("tag", "image"),
    [
        ("3.12.7-slim-bookworm", "python"),
        ("12.4.1-cudnn-runtime-ubuntu22.04", "nvidia/cuda"),
        ("12.3.2-cudnn9-devel-ubuntu20.04", "nvidia/cuda"),
        ("13.0.0-tensorrt-devel-ubuntu24.04", None),
        ("10.2-runtime-ubuntu18.04", None),
        ("12.8.1-runtime-rockylinux9", None),
        ("3.12-slim", None),
    ],
)
def test_tags_are_sorted_into_image_lists_by_their_form(tag, image):
    from envparity.adapters.knowledge_refresh import image_of

    assert image_of(tag) == image
