"""What the generator writes about completeness: which (CUDA release, OS) tag lists are
complete for which flavours, which torch releases have every build listed, and which
torchvision/torchaudio go with each torch release (issue 21)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from envparity.adapters.knowledge_refresh import Source, SourceError, load_curated, snapshot
from envparity.core.knowledge import PACKAGED
from knowledge_sources.loopback import TagRegistry

FULL = ["13.2.1-base-ubuntu24.04", "13.2.1-runtime-ubuntu24.04"]
CUDNN_DEVEL = ["13.0.1-cudnn-devel-ubuntu24.04"]
SEEN = ["13.1.0-runtime-ubuntu24.04"]


def _registry_sources(url: str) -> list[Source]:
    def source(name: str, flavors: str) -> Source:
        return Source(f"tags.{name}", "registry", f"{url}/{name}", "nvidia/cuda",
                      copy_of="x", complete_flavors=flavors)  # fmt: skip

    return [source("full", ".*"), source("cudnn", "cudnn-devel"), source("seen", "")]


def test_image_lists_say_which_flavours_each_release_lists_in_full():
    tags = {("full", "nvidia/cuda"): FULL, ("cudnn", "nvidia/cuda"): CUDNN_DEVEL,
            ("seen", "nvidia/cuda"): SEEN}  # fmt: skip
    with TagRegistry(tags) as registry:
        document = snapshot(_registry_sources(registry.url), load_curated(), date(2026, 1, 1))
    rows = {(r["cuda"], r["os"]): r for r in document["image_lists"]["nvidia/cuda"]}
    assert rows[("13.2.1", "ubuntu24.04")]["complete"] == [
        "base", "runtime", "devel", "cudnn-runtime", "cudnn-devel"]  # fmt: skip
    assert rows[("13.2.1", "ubuntu24.04")]["sources"] == ["tags.full"]
    assert rows[("13.0.1", "ubuntu24.04")]["complete"] == ["cudnn-devel"]
    # a copy of only the tags someone used says nothing about the others
    assert ("13.1.0", "ubuntu24.04") not in rows
    assert {"tags.full", "tags.cudnn"} <= set(document["sources"])


def _wheels_file(tmp_path, name: str, wheels: list[dict], companions: list[dict]) -> Source:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"wheels": wheels, "companions": companions}))
    return Source(name, "wheels-file", str(path))


def _row(version: str, build: str, complete: bool) -> dict:
    return {"project": "torch", "version": version, "build": build, "pythons": None,
            "arches": None, "complete": complete}  # fmt: skip


def test_a_release_is_complete_when_one_source_lists_all_its_builds(tmp_path):
    ties = [{"torch": "2.10.0", "torchvision": "0.25.0", "torchaudio": "2.10.0"}]
    used = _wheels_file(tmp_path, "used", [_row("2.10.0", "cu126", False),
                                           _row("2.9.0", "cu126", False)], ties)  # fmt: skip
    index = _wheels_file(tmp_path, "index", [_row("2.10.0", "cu129", True)], ties)
    document = snapshot([used, index], load_curated(), date(2026, 1, 1))
    complete = {(r["version"], r["build"]): r["complete"] for r in document["wheels"]}
    assert complete == {("2.9.0", "cu126"): False, ("2.10.0", "cu126"): True,
                        ("2.10.0", "cu129"): True}  # fmt: skip
    assert document["torch_companions"] == [
        {"torch": "2.10.0", "torchvision": "0.25.0", "torchaudio": "2.10.0",
         "sources": ["index", "used"]}]  # fmt: skip


def test_sources_that_tie_a_torch_release_to_different_torchvisions_are_an_error(tmp_path):
    one = _wheels_file(tmp_path, "one", [], [{"torch": "2.9.1", "torchvision": "0.24.1",
                                             "torchaudio": "2.9.1"}])  # fmt: skip
    two = _wheels_file(tmp_path, "two", [], [{"torch": "2.9.1", "torchvision": "0.24.0",
                                             "torchaudio": "2.9.1"}])  # fmt: skip
    with pytest.raises(SourceError, match=r"torch 2\.9\.1 goes with torchvision"):
        snapshot([one, two], load_curated(), date(2026, 1, 1))


@pytest.fixture(scope="module")
def packaged() -> dict:
    return json.loads(PACKAGED.read_text(encoding="utf-8"))


@pytest.mark.parametrize("cuda", ["13.0.1", "13.0.2", "13.1.1", "13.2.0"])
@pytest.mark.parametrize("os_", ["ubuntu22.04", "ubuntu24.04"])
@pytest.mark.parametrize("flavor", ["base", "runtime", "devel", "cudnn-runtime", "cudnn-devel"])
def test_packaged_snapshot_has_every_flavour_of_the_13x_releases_of_issue_21(
    packaged, cuda, os_, flavor
):
    tags = {r["tag"] for r in packaged["images"]["nvidia/cuda"]}
    assert f"{cuda}-{flavor}-{os_}" in tags


def test_packaged_snapshot_knows_cuda_13_1_0_without_cudnn_and_2_10_0_cu129(packaged):
    tags = {r["tag"] for r in packaged["images"]["nvidia/cuda"]}
    assert {"13.1.0-runtime-ubuntu24.04", "13.1.0-devel-ubuntu22.04"} <= tags
    assert not any(t.startswith("13.1.0-cudnn") for t in tags)
    builds = {r["build"]: r["complete"] for r in packaged["wheels"]
              if r["project"] == "torch" and r["version"] == "2.10.0"}  # fmt: skip
    assert builds == dict.fromkeys(["cpu", "cu126", "cu128", "cu129", "cu130"], True)
    ties = {r["torch"]: (r["torchvision"], r["torchaudio"]) for r in packaged["torch_companions"]}
    assert ties["2.9.1"] == ("0.24.1", "2.9.1") and ties["2.0.0"] == ("0.15.1", "2.0.1")


def test_lookups_read_the_packaged_snapshot(monkeypatch, tmp_path):
    from envparity.core.knowledge.tables import Tables

    monkeypatch.setenv("ENVPARITY_KNOWLEDGE", str(PACKAGED))
    lists = Tables.for_folder(tmp_path)
    assert lists.tags_complete("13.2.1", "ubuntu24.04", "cudnn-runtime")
    assert lists.tags_complete("13.0.1", "ubuntu24.04", "cudnn9-devel")
    assert not lists.tags_complete("13.0.1", "ubuntu24.04", "runtime")
    assert lists.companions("2.9.1") == {"torchvision": "0.24.1", "torchaudio": "2.9.1"}
    assert lists.companions("2.12.0") is None
    assert lists.torch_for("torchvision", "0.15.1") == "2.0.0"
    assert lists.torch_for("torchaudio", "9.9.9") is None
