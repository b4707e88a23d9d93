"""Fingerprint invariance, resolution, and the model agreeing with the schema."""

from __future__ import annotations

import dataclasses

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.model import Run, Software, Stage
from envparity.core.resolve import resolve, resolve_all
from envparity.core.schema import fields_with_role, schema, stage_fields
from envparity.core.spec import parse_spec
from tests.spec.conftest import CPU_SPEC, GPU_SPEC, edit


def fp(text: str) -> str:
    return parse_spec(text, "f.yaml").fingerprint


SAME_SOFTWARE = [
    ("comments", "# a comment\n" + GPU_SPEC.replace("gpus: [A10G, L4]", "gpus: [A10G, L4]  # why")),
    ("quoting", edit(GPU_SPEC, 'cudnn: "9"', "cudnn: 9").replace("name: serve", "name: 'serve'")),
    ("description", edit(GPU_SPEC, "description: test service", "description: another text")),
    ("no description", edit(GPU_SPEC, "description: test service\n", "")),
    (
        "key order",
        edit(GPU_SPEC, 'python: "3.11.9"\ncuda: "12.4.1"\n', 'cuda: "12.4.1"\npython: "3.11.9"\n'),
    ),
    (
        "list order",
        edit(
            GPU_SPEC,
            "  - numpy==1.26.4\n  - fastapi==0.115.0",
            "  - fastapi==0.115.0\n  - numpy==1.26.4",
        ),
    ),
    ("name spelling", edit(GPU_SPEC, "  - numpy==1.26.4", "  - NumPy == 1.26.4")),
    ("stage change", edit(GPU_SPEC, "replicas: 3", "replicas: 5")),
    ("run change", edit(GPU_SPEC, "memory: 12Gi", "memory: 8Gi")),
    ("flow vs block style", edit(GPU_SPEC, "gpus: [A10G, L4]", "gpus:\n  - L4\n  - A10G")),
]

OTHER_SOFTWARE = [
    ("python", edit(GPU_SPEC, '"3.11.9"', '"3.11.8"')),
    ("a pin", edit(GPU_SPEC, "numpy==1.26.4", "numpy==1.26.3")),
    ("an OS package", edit(GPU_SPEC, "[git, libgl1]", "[git]")),
    ("baked env", edit(GPU_SPEC, 'PYTHONHASHSEED: "0"', 'PYTHONHASHSEED: "1"')),
    ("version", edit(GPU_SPEC, "version: 1.0.0", "version: 1.0.1")),
]


@pytest.mark.parametrize("text", [t for _, t in SAME_SOFTWARE], ids=[i for i, _ in SAME_SOFTWARE])
def test_same_software_same_fingerprint(text):
    assert fp(text) == fp(GPU_SPEC)


@pytest.mark.parametrize("text", [t for _, t in OTHER_SOFTWARE], ids=[i for i, _ in OTHER_SOFTWARE])
def test_other_software_other_fingerprint(text):
    assert fp(text) != fp(GPU_SPEC)


def test_fingerprint_is_sha256_hex():
    value = fp(GPU_SPEC)
    assert len(value) == 64 and int(value, 16) >= 0


def test_resolve_applies_stage_overrides_only():
    spec = parse_spec(GPU_SPEC, "f.yaml")
    local, prod = resolve(spec, "local"), resolve(spec, "production")
    assert (local.gpus_per_replica, local.replicas, local.instance_type) == (0, 1, None)
    assert (prod.gpus_per_replica, prod.replicas, prod.instance_type) == (1, 3, "g6.xlarge")
    assert (prod.cpu, prod.memory, prod.nodes.min, prod.nodes.max) == ("3", "12Gi", 3, 6)
    assert dict(prod.runtime_env) == {"LOG_LEVEL": "info"} and prod.secrets == ("API_TOKEN",)
    assert local.software is prod.software and local.fingerprint == prod.fingerprint
    assert prod.image_ref == f"serve:1.0.0-{spec.fingerprint[:12]}"
    assert resolve(spec, "testing").extra_python_packages == ("pytest==8.3.3",)


def test_resolved_stage_is_immutable():
    prod = resolve(parse_spec(GPU_SPEC, "f.yaml"), "production")
    with pytest.raises(dataclasses.FrozenInstanceError):
        prod.replicas = 9
    with pytest.raises(TypeError):
        prod.runtime_env["X"] = "1"


def test_unknown_stage_is_a_clean_error():
    spec = parse_spec(CPU_SPEC, "f.yaml")
    with pytest.raises(
        SpecError, match=r"features has no stage 'staging' \(declared: production\)"
    ):
        resolve(spec, "staging")
    assert list(resolve_all(spec)) == ["production"]


def test_model_fields_agree_with_the_schema():
    """The schema names the fields; the typed model must hold exactly those."""
    software = [f.name for f in dataclasses.fields(Software)]
    assert software == list(fields_with_role("software"))
    assert [f.name for f in dataclasses.fields(Stage)] == list(stage_fields())
    assert [f.name for f in dataclasses.fields(Run)] == list(
        schema()["properties"]["run"]["properties"]
    )
    roles = {v.get("x-envparity-role") for v in schema()["properties"].values()}
    assert roles == {"software", "metadata", "runtime", "stages"}
