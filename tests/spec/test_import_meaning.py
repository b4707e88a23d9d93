"""`envparity import` keeps what the peer file meant (issue 21): each case a real file.

Sources of the files: tests/fixtures/README.md. Where no public file with the case was found
(BentoML `envs` with `value: null`, `docker.env` as a list, a multi-GPU service next to a
bentofile with `docker.cuda_version`), the test writes the smallest file that has it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envparity.core.diagnostics import SpecError
from envparity.core.peer_import import PeerFileError, import_file
from envparity.core.peer_packages import sort_lines, url_requirement_problem
from envparity.core.spec import parse_spec

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _draft(path: Path):
    draft = import_file(path)
    text = draft.to_yaml()
    return draft, text, yaml.safe_load(text)


def _validate(text: str, folder: Path) -> list[str]:
    """The error messages `validate` gives the drafted spec (empty when it is valid)."""
    try:
        parse_spec(text, str(folder / "imported.yaml"), read=lambda r: (folder / r).read_text())
    except SpecError as exc:
        return [d.message for d in exc.diagnostics if d.severity == "error"]
    return []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "import", *args],
        capture_output=True,
        text=True,
    )


def test_truss_config_with_a_build_block_is_truss_not_cog():
    path = FIXTURES / "truss/model_cach_gcs/config.yaml"
    draft, text, data = _draft(path)
    assert draft.peer == "Truss"
    assert (data["python"], data["run"]["gpus"], data["run"]["memory"]) == ("3.11.18", 0, "2Gi")
    assert '#   build: {"secret_to_path_mapping"' in text  # said, not dropped
    assert "#   secrets: gcs-service-account-jsn (a spec's secret names are" in text
    assert _validate(text, path.parent) == []
    assert _cli(str(path)).returncode == 0


def test_truss_base_image_replaces_the_default_cuda_image():
    path = FIXTURES / "truss/07-high-performance-dynamic-batching/config.yaml"
    _, text, data = _draft(path)
    assert data["base_image"] == "baseten/trtllm-server:r23.12_baseten_v0.9.0.dev2024022000"
    for claim in ("cuda", "cudnn", "os", "cuda_flavor"):  # Truss' default image: not this one
        assert claim not in data, claim
    assert "python3.10-venv" in data["system_packages"]  # the image's OS, not ubuntu20.04
    assert (data["gpus"], data["run"]["gpus"]) == (["A10G"], 1)
    assert "/usr/bin/python3" in text  # python_executable_path is said
    errors = _validate(text, path.parent)
    assert any("has no CUDA" in e for e in errors), errors  # its CUDA is unknown: not guessed
    assert "set cuda to it" in text


def test_truss_base_image_tag_names_its_cuda_and_options_go_to_indexes():
    path = FIXTURES / "truss/whisperx-truss/config.yaml"
    draft, text, data = _draft(path)
    assert data["base_image"] == "runpod/pytorch:2.1.1-py3.10-cuda12.1.1-devel-ubuntu22.04"
    assert (data["cuda"], data["python"], data["gpus"]) == ("12.1.1", "3.10.22", ["L4"])
    assert data["package_indexes"] == ["https://download.pytorch.org/whl/cu121"]
    assert not [p for p in data["python_packages"] if p.startswith(("-", "git+"))]
    assert "torch==2.2.0" in data["python_packages"]
    assert _validate(text, path.parent) == []  # the spec itself is right ...
    [problem] = draft.problems  # ... but the git+ line cannot be said in it
    assert "cannot pin a URL" in problem.message
    assert problem.hint.endswith("pin it by version: whisperx==<version>")
    assert "wheelhouse" in problem.hint
    done = _cli(str(path))
    assert done.returncode == 1
    assert "Expected semicolon" not in done.stderr
    assert "installs from a URL" in done.stderr


def test_truss_accelerator_count_is_kept():
    path = FIXTURES / "truss/binocular/config.yaml"
    _, _, data = _draft(path)
    assert (data["gpus"], data["run"]["gpus"]) == (["A10G"], 2)


def test_cog_url_lines_are_refused_with_what_to_do():
    path = FIXTURES / "cog/cog-flux-nightly/cog.yaml.template"  # a Cog file by its keys
    draft, text, data = _draft(path)
    assert draft.peer == "Cog"
    assert not [p for p in data["python_packages"] if "://" in p]
    hints = [d.hint for d in draft.problems]
    assert len(hints) == 4
    assert any(h.endswith("torch==2.6.0.dev20240918+cu124") for h in hints), hints
    assert "#   build.python_packages: https://download.pytorch.org/whl/nightly/cu124/t" in text
    assert "package_indexes" not in data  # torch is not pinned by version: no index for it


def test_option_lines_and_inline_options_become_indexes():
    lines = sort_lines(
        [
            "--extra-index-url https://download.pytorch.org/whl/cu121",
            "torch==2.0.1 --extra-index-url https://download.pytorch.org/whl/cu118",
            "--pre",
            "numpy==1.26.4",
        ]
    )
    assert lines.pins == ["torch==2.0.1", "numpy==1.26.4"]
    assert lines.indexes == [
        "https://download.pytorch.org/whl/cu121",
        "https://download.pytorch.org/whl/cu118",
    ]
    assert lines.options == ["--pre"]
    assert url_requirement_problem("numpy==1.26.4") is None
    assert url_requirement_problem("pkg @ https://example.org/pkg-1.0.tar.gz")[1].endswith(
        "pkg==1.0"
    )


@pytest.mark.parametrize(
    ("pins", "cuda", "index"),
    [
        (["torch==2.1.0+cu118"], "12.1", "cu118"),  # the pin's own build
        (["torch==2.2.0"], "12.1", "cu121"),  # the CUDA's build, which torch 2.2 has
        (["torch==2.2.0"], "12.4", None),  # torch 2.2 has no cu124 build: no index
    ],
)
def test_cog_torch_index_only_when_the_build_exists(tmp_path, pins, cuda, index):
    build = {"gpu": True, "cuda": cuda, "python_version": "3.10", "python_packages": pins}
    (tmp_path / "cog.yaml").write_text(yaml.safe_dump({"build": build}), encoding="utf-8")
    _, text, data = _draft(tmp_path / "cog.yaml")
    expected = [f"https://download.pytorch.org/whl/{index}"] if index else None
    assert data.get("package_indexes") == expected
    if index is None:
        assert "no torch index added" in text


def test_bentoml_cuda_version_gives_gpus_cudnn_and_the_serving_package():
    path = FIXTURES / "bentoml/model_load_store_lora/bentofile.yaml"
    _, text, data = _draft(path)
    assert (data["cuda"], data["cudnn"], data["cuda_flavor"]) == ("11.7.1", "8", "runtime")
    assert (data["run"]["gpus"], data["gpus"]) == (1, ["T4"])  # from service.py, not run
    assert data["run"]["command"] == ["bentoml", "serve", "service.py:StableDiffusion"]
    assert "bentoml" in data["python_packages"]
    errors = _validate(text, path.parent)
    assert "'bentoml' is not pinned to one exact version" in errors


def test_bentoml_multi_gpu_service_null_envs_and_env_list(tmp_path):
    (tmp_path / "bentofile.yaml").write_text(
        'service: "service:Svc"\n'
        "python:\n  packages: [bentoml==1.4.11]\n"
        'docker:\n  cuda_version: "12.1"\n  python_version: "3.11"\n'
        "  env: [LOG_LEVEL=info, HF_HUB_CACHE]\n"
        "envs:\n  - name: HF_TOKEN\n    value: null\n  - name: WORKERS\n    value: 2\n",
        encoding="utf-8",
    )
    (tmp_path / "service.py").write_text(
        "import bentoml\n\n"
        '@bentoml.service(resources={"gpu": 2, "gpu_type": "nvidia-a100-80gb"})\n'
        "class Svc:\n    pass\n",
        encoding="utf-8",
    )
    _, text, data = _draft(tmp_path / "bentofile.yaml")
    assert (data["run"]["gpus"], data["gpus"]) == (2, ["A100-80GB"])
    assert data["env"] == {"LOG_LEVEL": "info", "WORKERS": "2"}
    assert "None" not in str(data["env"])
    assert data["stages"]["production"]["secrets"] == ["HF_HUB_CACHE", "HF_TOKEN"]
    assert _validate(text, tmp_path) == []


def test_bentoml_dotenv_path(tmp_path):
    real = FIXTURES / "bentoml/quickstart/bentofile.yaml"  # docker.env: ./.env, not in the repo
    _, text, _ = _draft(real)
    assert "#   docker.env: ./.env (a dotenv file that is not beside bentofile.yaml" in text
    shutil.copy(real, tmp_path / "bentofile.yaml")
    (tmp_path / ".env").write_text('# settings\nexport MODE="demo"\nEMPTY=\n', encoding="utf-8")
    _, _, data = _draft(tmp_path / "bentofile.yaml")
    assert data["env"] == {"MODE": "demo", "EMPTY": ""}


def test_import_a_folder(tmp_path):
    done = _cli(str(FIXTURES / "cog/blur"))
    assert done.returncode == 0, done.stderr
    assert "from the Cog file" in done.stdout
    assert "python_requirements: requirements.txt" in done.stdout
    with pytest.raises(PeerFileError, match=r"holds no cog\.yaml"):
        import_file(tmp_path)
    (tmp_path / "cog.yaml").write_text("build: {}\n", encoding="utf-8")
    (tmp_path / "bentofile.yaml").write_text("service: a:b\n", encoding="utf-8")
    with pytest.raises(PeerFileError, match="which one"):
        import_file(tmp_path)
