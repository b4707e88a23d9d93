"""What real users write: requirements files, POSIX names, GPU short names, Python "X.Y",
every problem in one round, CUDA image flavours and nvidia/cuda base images."""

from __future__ import annotations

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.render.dockerfile import render_dockerfile
from envparity.core.spec import load_spec
from tests.spec.conftest import CPU_SPEC, GPU_SPEC, edit, problems, write

HASH = "a" * 64
REQS = f"""\
# pinned, as pip reads it
numpy==1.26.4 \\
    --hash=sha256:{HASH}
--extra-index-url https://download.pytorch.org/whl/cu124
Pillow==11.2.1 --hash=sha256:{"b" * 64}  # a comment
"""


def with_requirements(tmp_path, text: str, spec: str = CPU_SPEC):
    (tmp_path / "requirements.txt").write_text(text, encoding="utf-8")
    return (
        edit(
            spec,
            "python_packages: [flask==3.0.3]",
            "python_packages: [flask==3.0.3]\npython_requirements: requirements.txt",
        )
        if spec is CPU_SPEC
        else spec
    )


def errors(tmp_path, text):
    return [d for d in problems(tmp_path, text) if d.severity == "error"]


# --- python_requirements --------------------------------------------------------------------
def test_requirements_file_pins_join_python_packages(tmp_path):
    spec = load_spec(write(tmp_path, with_requirements(tmp_path, REQS)))
    sw = spec.software
    assert sw.python_packages == ("flask==3.0.3", "numpy==1.26.4", "pillow==11.2.1")
    assert sw.package_indexes == ("https://download.pytorch.org/whl/cu124",)
    assert dict(sw.python_requirements.hashes)["numpy==1.26.4"] == (f"sha256:{HASH}",)


def test_requirements_file_content_not_path_is_fingerprinted(tmp_path):
    one = load_spec(write(tmp_path, with_requirements(tmp_path, REQS))).fingerprint
    (tmp_path / "other.txt").write_text(REQS, encoding="utf-8")
    moved = CPU_SPEC.replace(
        "python_packages: [flask==3.0.3]",
        "python_packages: [flask==3.0.3]\npython_requirements: other.txt",
    )
    assert load_spec(write(tmp_path, moved)).fingerprint == one
    changed = with_requirements(tmp_path, REQS.replace("sha256:" + HASH, "sha256:" + "c" * 64))
    assert load_spec(write(tmp_path, changed)).fingerprint != one


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("numpy>=1.26\n", "'numpy>=1.26' is not pinned to one exact version", 1, 1),
        ("\n  six==1.16.0\nflask==3.0.3\n", "'flask' is also pinned in python_packages[0]", 3, 1),
        ("six==1.16.0\nsix==1.16.0\n", "'six' is listed twice (first at line 1)", 2, 1),
        ("-r other.txt\n", "the option -r is not supported", 1, 1),
        ("six==1.16.0 --hash=md5:abc\n", "is not a sha256 --hash", 1, 13),
        (f"six==1.16.0 --hash=sha256:{HASH}\nidna==3.10\n", "idna==3.10 has no --hash", 2, 1),
        ("--index-url\n", "--index-url needs one plain http(s) URL", 1, 1),
        ("git+https://github.com/x/y.git\n", "installs from a URL: a spec pins each", 1, 1),
    ],
)
def test_requirements_file_errors_point_into_it(tmp_path, text, message, line, column):
    found = errors(tmp_path, with_requirements(tmp_path, text))
    match = [d for d in found if message in d.message]
    assert match, [d.format() for d in found]
    assert (match[0].file, match[0].line, match[0].column) == (
        str(tmp_path / "requirements.txt"),
        line,
        column,
    )


def test_missing_requirements_file_is_one_located_error(tmp_path):
    text = CPU_SPEC.replace(
        "python_packages: [flask==3.0.3]",
        "python_packages: [flask==3.0.3]\npython_requirements: nope.txt",
    )
    [problem] = errors(tmp_path, text)
    assert "nope.txt does not exist" in problem.message
    assert problem.line == 6


# --- every problem in one round ---------------------------------------------------------------
def test_range_and_duplicate_are_reported_together(tmp_path):
    text = edit(GPU_SPEC, "  - numpy==1.26.4", "  - pillow>=10.2\n  - Pillow==11.2.1")
    messages = [d.message for d in errors(tmp_path, text)]
    assert any("'pillow>=10.2' is not pinned" in m for m in messages), messages
    assert any("'pillow' is listed twice" in m for m in messages), messages


def test_meaning_rules_do_not_wait_for_schema_errors(tmp_path):
    text = edit(GPU_SPEC, "version: 1.0.0", "version: one")
    text = edit(text, "  - numpy==1.26.4", "  - numpy>=1.26")
    messages = [d.message for d in errors(tmp_path, text)]
    assert any("'one' is not a valid environment version" in m for m in messages), messages
    assert any("'numpy>=1.26' is not pinned" in m for m in messages), messages


# --- names people use ------------------------------------------------------------------------
def test_posix_env_and_secret_names_are_accepted(tmp_path):
    text = edit(GPU_SPEC, "secrets: [API_TOKEN]", "secrets: [hf_access_token]")
    text = edit(text, '  PYTHONHASHSEED: "0"', '  PYTHONHASHSEED: "0"\n  hf_home: /cache')
    spec = load_spec(write(tmp_path, text))
    assert spec.stages["production"].secrets == ("hf_access_token",)
    assert "hf_home=/cache" in render_dockerfile(spec)


def test_secret_name_with_a_dash_is_refused(tmp_path):
    text = edit(GPU_SPEC, "secrets: [API_TOKEN]", "secrets: [hf-token]")
    assert any("'hf-token' is not a valid secret name" in d.message for d in errors(tmp_path, text))


def test_gpu_short_name_stands_for_every_memory_size(tmp_path):
    text = edit(GPU_SPEC, "gpus: [A10G, L4]", "gpus: [A10G, L4, V100, a100]")
    spec = load_spec(write(tmp_path, text))
    assert spec.software.gpus == ("A100-40GB", "A100-80GB", "A10G", "L4", "V100-16GB", "V100-32GB")


def test_unknown_gpu_names_the_short_names(tmp_path):
    [problem] = errors(tmp_path, edit(GPU_SPEC, "gpus: [A10G, L4]", "gpus: [A10G, K80]"))
    assert problem.message == "GPU 'K80' is not known to envparity"
    assert "V100 (V100-16GB or V100-32GB)" in problem.hint


@pytest.mark.parametrize("written", ['"3.12"', "3.12"])
def test_python_minor_gets_the_newest_patch_as_hint(tmp_path, written):
    [problem] = errors(tmp_path, edit(CPU_SPEC, 'python: "3.12.7"', f"python: {written}"))
    assert 'python: "3.12.16"' in problem.hint, problem.format()
    assert problem.line == 4


# --- CUDA flavour and nvidia/cuda base images -----------------------------------------------------
def test_cuda_flavor_picks_the_image(tmp_path):
    spec = load_spec(
        write(tmp_path, edit(GPU_SPEC, 'cudnn: "9"', 'cudnn: "9"\ncuda_flavor: devel'))
    )
    assert "ARG BASE_IMAGE=nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04" in render_dockerfile(spec)
    default = load_spec(write(tmp_path, GPU_SPEC))
    assert "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04" in render_dockerfile(default)
    assert default.software.cuda_flavor == "runtime"


def test_base_flavor_has_no_cudnn(tmp_path):
    text = edit(GPU_SPEC, 'cudnn: "9"', 'cudnn: "9"\ncuda_flavor: base')
    [problem] = errors(tmp_path, text)
    assert problem.message == "nvidia/cuda base images have no cuDNN, but cudnn is set"


def test_cuda_flavor_needs_cuda(tmp_path):
    text = edit(CPU_SPEC, 'python: "3.12.7"', 'python: "3.12.7"\ncuda_flavor: devel')
    assert any("cuda_flavor is set but cuda is not" in d.message for d in errors(tmp_path, text))


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04",
            "base_image has CUDA 12.1.1 but cuda is 12.4.1",
        ),
        ("nvidia/cuda:12.4.1-runtime-ubuntu22.04", "base_image has no cuDNN but cudnn is 9"),
        (
            "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu24.04",
            "base_image is built on ubuntu24.04 but os is ubuntu22.04",
        ),
    ],
)
def test_nvidia_base_image_must_agree(tmp_path, image, message):
    text = edit(GPU_SPEC, "os: ubuntu22.04", f"os: ubuntu22.04\nbase_image: {image}")
    assert any(message == d.message for d in errors(tmp_path, text)), [
        d.format() for d in errors(tmp_path, text)
    ]


def test_nvidia_base_image_gets_python_from_uv(tmp_path):
    image = "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04"
    spec = load_spec(write(tmp_path, edit(GPU_SPEC, "os: ubuntu22.04", f"base_image: {image}")))
    assert (spec.software.os, spec.software.cuda_flavor) == ("ubuntu22.04", "devel")
    dockerfile = render_dockerfile(spec)
    assert "uv python install 3.11.9" in dockerfile
    assert "python3 -m venv" not in dockerfile


def test_nvidia_base_image_without_cuda_is_refused(tmp_path):
    text = edit(
        CPU_SPEC,
        'python: "3.12.7"',
        'python: "3.12.7"\nbase_image: nvidia/cuda:12.4.1-base-ubuntu22.04',
    )
    with pytest.raises(
        SpecError,
        match=r"base_image is an nvidia/cuda image with CUDA 12\.4\.1, but cuda is not set",
    ):
        load_spec(write(tmp_path, text))


def test_compatibility_problem_of_a_file_pin_points_into_the_file(tmp_path):
    # torch 2.4 has no cu126 build: the error belongs to the requirements file's line
    spec = edit(
        GPU_SPEC, "  - fastapi==0.115.0", "  - fastapi==0.115.0\npython_requirements: r.txt"
    )
    spec = edit(
        spec,
        "gpus: [A10G, L4]",
        "gpus: [A10G, L4]\npackage_indexes: [https://download.pytorch.org/whl/cu126]",
    )
    (tmp_path / "r.txt").write_text("six==1.16.0\n\ntorch==2.4.1\n", encoding="utf-8")
    found = [d for d in errors(tmp_path, spec) if "torch" in d.message]
    assert found, [d.format() for d in problems(tmp_path, spec)]
    assert (found[0].file, found[0].line, found[0].column) == (str(tmp_path / "r.txt"), 3, 1)


def test_newest_python_patches_are_what_the_pinned_uv_installs():
    """The table in envparity/core/facts.py is uv's download list (the uv the Dockerfile pins)."""
    import re
    import subprocess

    from uv import find_uv_bin

    from envparity.core import facts
    from envparity.core.render.dockerfile import UV_IMAGE

    uv = find_uv_bin()
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split()[1] == UV_IMAGE.rsplit(":", 1)[1]
    listed = subprocess.run(
        [uv, "python", "list", "--only-downloads", "--all-versions"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    newest: dict[str, tuple[int, ...]] = {}
    for found in re.findall(r"cpython-(3\.\d+\.\d+)-linux-x86_64-gnu", listed):
        release = tuple(map(int, found.split(".")))
        minor = found.rsplit(".", 1)[0]
        newest[minor] = max(newest.get(minor, release), release)
    for minor in facts.known_python_minors():
        assert facts.newest_python_patch(minor) == ".".join(map(str, newest[minor])), minor


@pytest.mark.parametrize("order", [("T4", "V100"), ("V100", "T4")])
def test_problem_of_a_short_gpu_name_points_at_it(tmp_path, order):
    listed = "".join(f"\n  - {name}" for name in order)
    text = edit(GPU_SPEC, 'cuda: "12.4.1"', 'cuda: "13.0.2"')
    text = edit(text, "gpus: [A10G, L4]", f"gpus:{listed}")
    text = edit(text, 'cudnn: "9"\n', "").replace('driver: "550.54.15"\n', "")
    text = text.replace("    instance_type: g5.xlarge\n", "").replace(
        "    instance_type: g6.xlarge\n", ""
    )
    found = [d for d in errors(tmp_path, text) if "sm_70" in d.message]
    assert len(found) == 2, [d.format() for d in problems(tmp_path, text)]
    v100_line = text.splitlines().index("  - V100") + 1
    assert {d.line for d in found} == {v100_line}
