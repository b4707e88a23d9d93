"""`envparity import` on real Cog, Truss and BentoML files (sources: tests/fixtures/README.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envparity.core.diagnostics import SpecError
from envparity.core.peer_import import import_file
from envparity.core.spec import parse_spec

FIXTURES = Path(__file__).parents[1] / "fixtures"
CLI = [sys.executable, "-m", "envparity.cli.main"]

# peer file -> what the drafted spec must say (a subset of its fields)
VALID = {
    "cog/blur/cog.yaml": {"python": "3.12.16", "python_requirements": "requirements.txt"},
    "cog/notebook/cog.yaml": {"python_packages": ["jupyterlab==3.2.4"]},
    # gpu: true, torch 2.12 (builds cu126, cu130, cu132): Cog's rule, the newest CUDA of that
    # torch, gives 13.2 (13.2.1, its newest release with images), devel image
    "cog/resnet/cog.yaml": {"cuda": "13.2.1", "cudnn": "9", "cuda_flavor": "devel"},
    "cog/streaming-text/cog.yaml": {"python_requirements": "requirements.txt"},
    "cog/z-image-turbo/cog.yaml": {"python": "3.13.18", "cuda_flavor": "devel"},
    "truss/01-getting-started-bert/config.yaml": {"name": "bert", "python": "3.10.22"},
    "truss/05-speech-to-text/config.yaml": {
        "cuda": "12.2.2",
        "cudnn": "8",
        "os": "ubuntu20.04",
        "gpus": ["A10G"],
    },
    "truss/10-using-system-packages/config.yaml": {"system_packages": ["tesseract-ocr"]},
    "bentoml/sd3-medium/bentofile.yaml": {"python": "3.11.18"},
    "bentoml/sdxl-lightning/bentofile.yaml": {"python_requirements": "requirements.txt"},
}
# peer file -> a message the (correct) refusal must contain
INVALID = {
    "cog/hello-replicate/cog.yaml": "'replicate>=1.0.7' is not pinned to one exact version",
    "truss/04-image-generation/config.yaml": "'invisible-watermark>=0.2.0' is not pinned",
}


def _read_beside(folder: Path):
    return lambda relative: (folder / relative).read_text(encoding="utf-8")


def _draft(peer_file: str):
    path = FIXTURES / peer_file
    text = import_file(path).to_yaml()
    return path, text


@pytest.mark.parametrize("peer_file", sorted(VALID))
def test_imported_spec_validates(peer_file):
    path, text = _draft(peer_file)
    spec = parse_spec(text, str(path.parent / "imported.yaml"), read=_read_beside(path.parent))
    data = yaml.safe_load(text)
    for key, value in VALID[peer_file].items():
        assert data[key] == value, (key, text)
    assert spec.name == data["name"]


@pytest.mark.parametrize("peer_file", sorted(INVALID))
def test_unpinned_peer_files_are_refused_with_the_reason(peer_file):
    path, text = _draft(peer_file)
    with pytest.raises(SpecError) as caught:
        parse_spec(text, str(path.parent / "imported.yaml"), read=_read_beside(path.parent))
    assert any(INVALID[peer_file] in d.message for d in caught.value.diagnostics), str(caught.value)


def test_cog_gpu_cuda_follows_the_torch_version(tmp_path):
    # Cog's rule: the newest CUDA torch 2.4 is built for (cu124), newest cuDNN, devel image
    (tmp_path / "cog.yaml").write_text(
        'build:\n  gpu: true\n  python_version: "3.11"\n  python_packages: [torch==2.4.1]\n'
        'predict: "predict.py:Predictor"\n',
        encoding="utf-8",
    )
    text = import_file(tmp_path / "cog.yaml").to_yaml()
    data = yaml.safe_load(text)
    assert (data["cuda"], data["cudnn"], data["cuda_flavor"]) == ("12.4.1", "9", "devel")
    assert data["package_indexes"] == ["https://download.pytorch.org/whl/cu124"]
    assert "predict: predict.py:Predictor" in text  # kept as a comment
    parse_spec(text, str(tmp_path / "x.yaml"))


def test_lost_fields_become_comments():
    _, text = _draft("truss/05-speech-to-text/config.yaml")
    assert "#   external_data:" in text
    assert '#   model_metadata: {"example_model_input":' in text
    _, text = _draft("bentoml/sd3-medium/bentofile.yaml")
    assert '#   labels: {"owner": "bentoml-team", "project": "gallery"}' in text
    assert yaml.safe_load(text)["run"]["command"] == ["bentoml", "serve", "service:SD3Medium"]


def test_cli_exit_codes():
    ok = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "import", str(FIXTURES / "cog/blur/cog.yaml")],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("# Imported by `envparity import` from the Cog file")
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "envparity.cli.main",
            "import",
            str(FIXTURES / "cog/hello-replicate/cog.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "requirements.txt:8:1: error:" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "import", "nope/cog.yaml"],
        capture_output=True,
        text=True,
    )
    assert (missing.returncode, missing.stderr.count("\n")) == (1, 1)


def test_cog_written_cuda_is_kept(tmp_path):
    (tmp_path / "cog.yaml").write_text(
        'build:\n  gpu: true\n  cuda: "12.1"\n  python_version: "3.10"\n'
        "  python_packages: [torch==2.1.2]\n",
        encoding="utf-8",
    )
    data = yaml.safe_load(import_file(tmp_path / "cog.yaml").to_yaml())
    assert (data["cuda"], data["cudnn"], data["os"]) == ("12.1.1", "8", "ubuntu22.04")
    assert data["package_indexes"] == ["https://download.pytorch.org/whl/cu121"]


def test_bentoml_cuda_version(tmp_path):
    (tmp_path / "bentofile.yaml").write_text(
        'service: "service:Svc"\ndocker:\n  cuda_version: "12.4.1"\n  python_version: "3.12"\n'
        "python:\n  packages: [numpy==1.26.4, bentoml==1.4.11]\n",
        encoding="utf-8",
    )
    text = import_file(tmp_path / "bentofile.yaml").to_yaml()
    data = yaml.safe_load(text)
    assert (data["cuda"], data["python"]) == ("12.4.1", "3.12.16")
    assert "cudnn" not in data  # nvidia/cuda has no cuDNN 8 image of CUDA 12.4.1: said
    assert "no cuDNN 8 runtime image" in text
    assert data["run"]["gpus"] == 1  # no service.py beside it: one GPU, said in a comment
    assert "no @bentoml.service(resources=" in text
    parse_spec(text, str(tmp_path / "x.yaml"))


def test_output_elsewhere_points_at_the_requirements_file(tmp_path):
    """In another folder of the same project (a spec names no file outside its project)."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(FIXTURES / "cog/blur", tmp_path / "models" / "blur")
    out = tmp_path / "envspecs" / "blur.yaml"
    out.parent.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "envparity.cli.main",
            "import",
            str(tmp_path / "models/blur/cog.yaml"),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    relative = yaml.safe_load(out.read_text())["python_requirements"]
    assert relative == "../models/blur/requirements.txt"
    assert (out.parent / relative).resolve() == (
        tmp_path / "models/blur/requirements.txt"
    ).resolve()


def test_output_outside_the_peer_files_project_is_refused_in_one_line(tmp_path):
    out = tmp_path / "envspecs" / "blur.yaml"
    out.parent.mkdir()
    done = subprocess.run(
        [*CLI, "import", str(FIXTURES / "cog/blur/cog.yaml"), "--output", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "requirements.txt is outside the project" in done.stderr


def test_a_line_break_in_a_peer_value_cannot_add_a_field(tmp_path):
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.12\\nbase_image: evil"\n', encoding="utf-8"
    )
    data = yaml.safe_load(import_file(tmp_path / "cog.yaml").to_yaml())
    assert "base_image" not in data


@pytest.mark.parametrize(
    "text", ["build:\n  python_packages: 3\n", "service: x\npython: [1]\n", "resources: [1]\n"]
)
def test_wrong_shapes_are_one_line(tmp_path, text):
    name = "bentofile.yaml" if text.startswith("service") else "cog.yaml"
    if text.startswith("resources"):
        name = "config.yaml"
    (tmp_path / name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", "import", str(tmp_path / name)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
