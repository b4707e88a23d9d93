"""One valid and at least one invalid spec per rule of the loader, schema and structure.

Each invalid case asserts the message and the line it points at. Compatibility
rules (CUDA, GPUs, instances, torch) are tested in tests/compat/.
"""

from __future__ import annotations

import pytest

from tests.spec.conftest import CPU_SPEC, GPU_SPEC, edit, problems

G = GPU_SPEC

CASES = [
    # (id, spec text, message part, regex of the line it must point at)
    (
        "unknown field, did you mean",
        edit(G, "python:", "pyton:"),
        "unknown field 'pyton'",
        r"^pyton:",
    ),
    (
        "unknown run field",
        edit(G, "  port: 8080", "  prot: 8080"),
        "unknown field 'prot'",
        r"^  prot:",
    ),
    ("unknown stage", edit(G, "  production:", "  prod:"), "unknown stage 'prod'", r"^  prod:"),
    (
        "missing required",
        edit(G, 'python: "3.11.9"\n', ""),
        "missing required field 'python'",
        r"^envparity:",
    ),
    (
        "unquoted python",
        edit(G, 'python: "3.11.9"', "python: 3.10"),
        "expected a string, got a number",
        r"^python:",
    ),
    (
        "python not X.Y.Z",
        edit(G, 'python: "3.11.9"', 'python: "3.11"'),
        "'3.11' is not an exact Python release X.Y.Z",
        r"^python:",
    ),
    (
        "cuda not X.Y.Z",
        edit(G, 'cuda: "12.4.1"', 'cuda: "12.4"'),
        "is not a valid CUDA version",
        r"^cuda:",
    ),
    (
        "driver malformed",
        edit(G, 'driver: "550.54.15"', 'driver: "550"'),
        "is not a valid NVIDIA driver",
        r"^driver:",
    ),
    (
        "bad name",
        edit(G, "name: serve", "name: Serve_1"),
        "is not a valid environment name",
        r"^name:",
    ),
    (
        "bad version",
        edit(G, "version: 1.0.0", "version: v1"),
        "is not a valid environment version",
        r"^version:",
    ),
    (
        "format 2",
        edit(G, "envparity: 1", "envparity: 2"),
        "spec format 2 is not known",
        r"^envparity:",
    ),
    ("wrong type list", edit(G, "gpus: [A10G, L4]", "gpus: A10G"), "expected a list", r"^gpus:"),
    (
        "replicas not int",
        edit(G, "replicas: 3", "replicas: three"),
        "expected an integer",
        r"replicas: three",
    ),
    ("bad os", edit(G, "os: ubuntu22.04", "os: ubuntu22"), "is not a known base OS", r"^os:"),
    (
        "stage sets python",
        edit(G, "    replicas: 3", '    replicas: 3\n    python: "3.12.1"'),
        "a stage cannot set 'python'",
        r"^    python:",
    ),
    (
        "stage sets python_packages",
        edit(G, "    replicas: 3", "    replicas: 3\n    python_packages: []"),
        "a stage cannot set 'python_packages'",
        r"^    python_packages:",
    ),
    (
        "unpinned requirement",
        edit(G, "  - numpy==1.26.4", "  - numpy>=1.26"),
        "is not pinned to one exact",
        r"numpy>=1.26",
    ),
    (
        "bare requirement",
        edit(G, "  - numpy==1.26.4", "  - numpy"),
        "is not pinned",
        r"^  - numpy$",
    ),
    (
        "wildcard pin",
        edit(G, "  - numpy==1.26.4", "  - numpy==1.26.*"),
        "is not pinned",
        r"numpy==1.26",
    ),
    (
        "malformed requirement",
        edit(G, "  - numpy==1.26.4", "  - numpy=1.26.4"),
        "not a valid PEP 508",
        r"numpy=1.26.4",
    ),
    (
        "URL requirement",
        edit(G, "  - numpy==1.26.4", "  - numpy @ https://example.invalid/numpy.whl"),
        "installs from a URL",
        r"numpy @",
    ),
    (
        "duplicate requirement",
        edit(G, "  - fastapi==0.115.0", "  - NumPy==1.26.3"),
        "'numpy' is listed twice",
        r"NumPy",
    ),
    (
        "pip option as requirement",
        edit(G, "  - numpy==1.26.4", "  - --index-url=https://evil.invalid"),
        "is not a valid Python requirement",
        r"index-url",
    ),
    (
        "extra re-pins shared package",
        edit(G, "[pytest==8.3.3]", "[pytest==8.3.3, numpy==2.0.0]"),
        "'numpy' is already pinned",
        r"extra_python_packages",
    ),
    (
        "extra unpinned",
        edit(G, "[pytest==8.3.3]", "[pytest]"),
        "is not pinned",
        r"extra_python_packages",
    ),
    (
        "malformed OS package",
        edit(G, "[git, libgl1]", "[Git, libgl1]"),
        "is not a valid OS package",
        r"^system_packages:",
    ),
    (
        "OS package with shell",
        edit(G, "[git, libgl1]", '[git, "libgl1; rm -rf /"]'),
        "is not a valid OS package",
        r"^system_packages:",
    ),
    (
        "duplicate OS package",
        edit(G, "[git, libgl1]", "[git, git=1:2.34.1-1ubuntu1]"),
        "'git' is listed twice",
        r"^system_packages:",
    ),
    (
        "env name starting with a digit",
        edit(G, '  PYTHONHASHSEED: "0"', '  1PYTHONHASHSEED: "0"'),
        "'1PYTHONHASHSEED' is not a valid environment variable name",
        r"1PYTHONHASHSEED",
    ),
    (
        "env value newline",
        edit(G, '  PYTHONHASHSEED: "0"', '  PYTHONHASHSEED: "0\\nRUN id"'),
        "is not a valid environment variable value",
        r"PYTHONHASHSEED",
    ),
    (
        "env value line separator",
        edit(G, '  PYTHONHASHSEED: "0"', '  PYTHONHASHSEED: "0\\u2028x"'),
        "is not a valid environment variable value",
        r"PYTHONHASHSEED",
    ),
    (
        "stage env redefines baked env",
        edit(G, "{LOG_LEVEL: info}", "{PYTHONHASHSEED: '1'}"),
        "env var PYTHONHASHSEED is baked",
        r"env: \{PYTHONHASHSEED",
    ),
    (
        "command with newline",
        edit(G, "[python, -m, app]", '[python, "-m\\nRUN id", app]'),
        "is not a valid command argument",
        r"^  command:",
    ),
    (
        "package index with shell",
        edit(
            G, "system_packages:", "package_indexes: ['https://x.invalid/$(id)']\nsystem_packages:"
        ),
        "is not a valid package index URL",
        r"^package_indexes:",
    ),
    (
        "base image with space",
        edit(G, "os: ubuntu22.04", "os: ubuntu22.04\nbase_image: 'ubuntu:22.04 AS x'"),
        "is not a valid image reference",
        r"^base_image:",
    ),
    (
        "description with NUL",
        edit(G, "description: test service", 'description: "a\\0b"'),
        "is not a valid description",
        r"^description:",
    ),
    (
        "secret name",
        edit(G, "[API_TOKEN]", "[api-token]"),
        "is not a valid secret name",
        r"secrets:",
    ),
    (
        "nodes min > max",
        edit(G, "{min: 3, max: 6}", "{min: 7, max: 6}"),
        "nodes.min (7) is larger",
        r"nodes:",
    ),
    (
        "cudnn without cuda",
        edit(CPU_SPEC, 'python: "3.12.7"', 'python: "3.12.7"\ncudnn: "9"'),
        "cudnn is set but cuda is not",
        r"^cudnn:",
    ),
    (
        "duplicate key",
        edit(G, "port: 8080", "port: 8080\n  port: 8081"),
        "duplicate key 'port'",
        r"port: 8081",
    ),
    (
        "schedule on a service",
        edit(
            G, "    env: {LOG_LEVEL: info}", "    env: {LOG_LEVEL: info}\n    schedule: 0 3 * * *"
        ),
        "run.port makes this a service",
        r"schedule:",
    ),
    (
        "health path of a batch command",
        edit(CPU_SPEC, "  command: [flask, run]", "  command: [flask, run]\n  health_path: /h"),
        "run.health_path is set but run.port is not",
        r"health_path:",
    ),
    (
        "schedule not cron",
        edit(CPU_SPEC, "    replicas: 2", "    schedule: daily"),
        "is not a valid schedule",
        r"schedule:",
    ),
    (
        "reserved env var",
        edit(G, "    env: {LOG_LEVEL: info}", "    env: {ENVPARITY_STAGE: prod}"),
        "ENVPARITY_STAGE is reserved",
        r"env: \{ENVPARITY",
    ),
    ("YAML syntax", edit(G, "gpus: [A10G, L4]", "gpus: [A10G, L4"), "YAML syntax error", r"^os:"),
    (
        "YAML merge key",
        edit(G, "  local:\n    gpus: 0", "  local:\n    <<: {gpus: 0}"),
        "merge keys",
        r"<<:",
    ),
    (
        "YAML tag",
        edit(G, "name: serve", "name: !!python/name:os.system serve"),
        "unsupported YAML tag",
        r"^name:",
    ),
]


@pytest.mark.parametrize(
    ("text", "message", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_spec_is_rejected_at_its_line(check, text, message, line):
    diagnostic = check(text, message, line)
    assert diagnostic.column is not None and diagnostic.column >= 1
    assert "\n" not in diagnostic.format()


@pytest.mark.parametrize("text", [GPU_SPEC, CPU_SPEC], ids=["gpu", "cpu"])
def test_valid_specs_have_no_errors(tmp_path, text):
    assert [d for d in problems(tmp_path, text) if d.severity == "error"] == []


def test_every_error_carries_a_hint(tmp_path):
    for _, text, _, _ in CASES:
        for d in problems(tmp_path, text):
            if d.severity == "error":
                assert d.hint, d.format()


def test_promoted_stage_with_extra_packages_warns(check):
    text = edit(
        GPU_SPEC, "    replicas: 3", "    replicas: 3\n    extra_python_packages: [rich==13.8.0]"
    )
    check(text, "production adds extra_python_packages", r"rich==13.8.0", severity="warning")


def test_integers_where_text_is_meant_are_accepted(tmp_path):
    text = edit(GPU_SPEC, 'cudnn: "9"', "cudnn: 9")
    text = edit(text, 'cpu: "3"', "cpu: 3")
    assert [d for d in problems(tmp_path, text) if d.severity == "error"] == []
