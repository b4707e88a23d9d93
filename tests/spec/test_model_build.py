"""What the loader builds: every field of the file lands in the model as written (normalised),
defaults fill what is absent, and file-level errors say exactly what is wrong."""

from __future__ import annotations

import pytest

from envparity.core.diagnostics import Diagnostic, SpecError
from envparity.core.fingerprint import fingerprint
from envparity.core.model import NodeRange, Run, Software, Spec, Stage
from envparity.core.spec import (
    check_unique_names,
    load_spec,
    load_specs,
    parse_spec,
    parse_spec_unchecked,
)

FULL = """\
envparity: 1
name: full
version: 2.3.4
description: "all fields"
python: "3.11.9"
cuda: "12.4.1"
cudnn: 9
driver: "550.54.15"
gpus: [H100-80GB, A100-80GB]
os: ubuntu20.04
system_packages: [libgl1, curl]
python_packages: [Numpy==1.26.4, torch==2.4.1+cu124]
package_indexes: [https://download.pytorch.org/whl/cu124]
env: {B: "2", A: 1}
run: {command: [python, -m, app, 8], port: 8080, gpus: 1, cpu: 4, memory: 16Gi}
stages:
  testing:
    extra_python_packages: [PyTest==8.3.3]
  production:
    replicas: 3
    gpus: 2
    cpu: 8
    memory: 32Gi
    instance_type: p5.48xlarge
    nodes: {min: 1, max: 3}
    region: us-west-2
    cluster: gpu-prod
    registry: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    env: {LOG: 1}
    secrets: [TOKEN, API_KEY]
  local: {}
"""
MINIMAL = """\
envparity: 1
name: tiny
version: 0.1.0
python: "3.12.7"
base_image: registry.example.com/ml/python:3.12.7
python_packages: []
stages:
  local:
"""


def test_every_field_lands_in_the_model():
    spec = parse_spec(FULL, "full.yaml")
    software = Software(
        envparity=1,
        name="full",
        version="2.3.4",
        python="3.11.9",
        cuda="12.4.1",
        cuda_flavor="runtime",
        cudnn="9",
        driver="550.54.15",
        gpus=("A100-80GB", "H100-80GB"),
        os="ubuntu20.04",
        base_image=None,
        system_packages=("curl", "libgl1"),
        python_packages=("numpy==1.26.4", "torch==2.4.1+cu124"),
        python_requirements=None,
        package_indexes=("https://download.pytorch.org/whl/cu124",),
        env={"A": "1", "B": "2"},
    )
    assert spec == Spec(
        "full.yaml",
        software,
        "all fields",
        Run(("python", "-m", "app", "8"), 8080, 1, "4", "16Gi"),
        {
            "local": Stage(),
            "testing": Stage(extra_python_packages=("pytest==8.3.3",)),
            "production": Stage(
                replicas=3,
                gpus=2,
                cpu="8",
                memory="32Gi",
                instance_type="p5.48xlarge",
                nodes=NodeRange(1, 3),
                region="us-west-2",
                cluster="gpu-prod",
                registry="123456789012.dkr.ecr.us-west-2.amazonaws.com",
                env={"LOG": "1"},
                secrets=("TOKEN", "API_KEY"),
            ),
        },
        fingerprint(software),
    )
    assert spec.software == software and spec.stages["production"].env == {"LOG": "1"}
    located = spec.locate(Diagnostic("x", ("stages", "production", "region")))
    assert (located.file, located.line, located.column) == ("full.yaml", 26, 13)


def test_absent_fields_get_their_defaults():
    spec = parse_spec(MINIMAL, "tiny.yaml")
    assert spec.software == Software(
        envparity=1,
        name="tiny",
        version="0.1.0",
        python="3.12.7",
        cuda=None,
        cuda_flavor=None,
        cudnn=None,
        driver=None,
        gpus=(),
        os="debian12",
        base_image="registry.example.com/ml/python:3.12.7",
        system_packages=(),
        python_packages=(),
        python_requirements=None,
        package_indexes=(),
        env={},
    )
    assert (
        spec.description is None and spec.run == Run() and dict(spec.stages) == {"local": Stage()}
    )
    assert spec.warnings == ()


def test_unchecked_parsing_builds_the_same_model():
    assert parse_spec_unchecked(FULL, "full.yaml") == parse_spec(FULL, "full.yaml")
    with pytest.raises(SpecError) as refused:
        parse_spec_unchecked("- a list\n", "list.yaml")
    assert [d.message for d in refused.value.diagnostics] == ["not a spec mapping"]


def one_error(exc: SpecError) -> tuple:
    [problem] = exc.diagnostics
    return problem.file, problem.line, problem.column, problem.message, problem.hint


def test_file_level_errors_say_what_and_how(tmp_path):
    with pytest.raises(SpecError) as missing:
        load_spec(tmp_path / "absent.yaml")
    assert one_error(missing.value) == (
        str(tmp_path / "absent.yaml"),
        None,
        None,
        "no such file",
        "give a spec file such as envspecs/train.yaml",
    )
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(SpecError) as undecodable:
        load_spec(latin1)
    assert one_error(undecodable.value) == (
        str(latin1),
        None,
        None,
        "not UTF-8 text (invalid continuation byte at byte 9)",
        "save the spec as UTF-8",
    )
    with pytest.raises(SpecError) as directory:
        load_spec(tmp_path)
    assert one_error(directory.value) == (
        str(tmp_path),
        None,
        None,
        "the spec file is a directory, not a regular file",
        "give a regular file (not a directory, device or FIFO)",
    )
    with pytest.raises(SpecError) as not_mapping:
        parse_spec("- a\n- b\n", "list.yaml")
    assert one_error(not_mapping.value) == (
        "list.yaml",
        1,
        1,
        "a spec must be a YAML mapping of fields (envparity: 1, name: ...)",
        "see envspecs/ for examples, or run `envparity schema`",
    )


def test_unique_names_across_files(tmp_path):
    first, second, same = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "sub" / ".."
    (tmp_path / "sub").mkdir()
    first.write_text(MINIMAL)
    second.write_text(MINIMAL)
    assert len(load_specs([first, str(same / "a.yaml")])) == 2  # one file named twice
    with pytest.raises(SpecError, match="environment name 'tiny' is also used by"):
        load_specs([first, second])
    problems = check_unique_names([load_spec(first), load_spec(second)])
    assert [(p.file, p.line, p.column, p.message, p.hint) for p in problems] == [
        (
            str(second),
            2,
            7,
            f"environment name 'tiny' is also used by {first}",
            "give each environment a unique name",
        )
    ]
    assert check_unique_names([load_spec(first), load_spec(tmp_path / "sub/../a.yaml")]) == []


BASE = """\
envparity: 1
name: rules
version: 1.0.0
python: "3.11.9"
env: {MODE: strict}
system_packages: [git, curl, git=1:2.39.5-0+deb12u2]
python_packages: [numpy==1.26.4]
stages:
  local: {env: {MODE: loose, OTHER: x}}
  testing: {extra_python_packages: [pytest==8.3.3, NumPy==2.0.0]}
  staging: {extra_python_packages: [pytest==8.3.3]}
  production: {nodes: {min: 3, max: 2}}
"""


def diagnostics(text: str) -> list[tuple]:
    try:
        found = parse_spec(text, "rules.yaml").warnings
    except SpecError as exc:
        found = exc.diagnostics
    return [(d.line, d.column, d.severity, d.message, d.hint) for d in found]


def test_rules_of_meaning_exact():
    assert diagnostics(BASE) == [
        (
            6,
            30,
            "error",
            "OS package 'git' is listed twice (first at system_packages[0])",
            "keep one entry",
        ),
        (
            9,
            17,  # the key itself
            "error",
            "env var MODE is baked into the image by the top-level env; a stage cannot redefine it",
            "rename the runtime variable, or change the top-level env",
        ),
        (
            10,
            52,
            "error",
            "'numpy' is already pinned in python_packages; a stage may add packages but not "
            "change the software every stage shares",
            "remove it here, or change the pin in python_packages for every stage",
        ),
        (
            11,
            36,
            "warning",
            "staging adds extra_python_packages: it can then not run the image promoted by "
            "digest from testing",
            "put packages every stage needs in python_packages, and test tools in testing",
        ),
        (
            12,
            23,
            "error",
            "nodes.min (3) is larger than nodes.max (2)",
            "make min <= max",
        ),
    ]


def test_cudnn_needs_cuda():
    text = MINIMAL.replace('python: "3.12.7"\n', 'python: "3.12.7"\ncudnn: 9\n')
    assert diagnostics(text) == [
        (
            5,
            8,
            "error",
            "cudnn is set but cuda is not: cuDNN needs CUDA",
            'set cuda (e.g. cuda: "12.4.1"), or remove cudnn for a CPU-only environment',
        )
    ]


def test_a_gpu_spec_without_os_gets_the_cuda_default():
    spec = parse_spec(FULL.replace("os: ubuntu20.04\n", ""), "full.yaml")
    assert spec.software.os == "ubuntu22.04"


def test_a_warning_alone_does_not_refuse_the_spec():
    text = MINIMAL.replace("  local:\n", "  staging: {extra_python_packages: [pytest==8.3.3]}\n")
    spec = parse_spec(text, "tiny.yaml")
    assert [(w.severity, w.line) for w in spec.warnings] == [("warning", 8)]


def test_a_compatibility_error_refuses_the_spec():
    assert diagnostics(FULL.replace('driver: "550.54.15"', 'driver: "470.57.02"'))[0] == (
        8,
        9,
        "error",
        "driver 470.57.02 is below the minimum 550.54.14 that CUDA 12.4.1 needs (its nvidia/cuda "
        "image requires a driver for CUDA 12.4: NVIDIA_REQUIRE_CUDA cuda>=12.4)",
        'use driver: "550.54.14" or newer',
    )


def test_several_files_report_every_problem(tmp_path):
    broken, first, second = (tmp_path / f"{n}.yaml" for n in ("broken", "a", "b"))
    broken.write_text(MINIMAL.replace("version: 0.1.0", 'version: "one"'))
    first.write_text(MINIMAL)
    second.write_text(MINIMAL)
    with pytest.raises(SpecError) as refused:
        load_specs([broken, first, second])
    assert [(d.file, d.line) for d in refused.value.diagnostics] == [
        (str(broken), 3),
        (str(second), 2),
    ]
