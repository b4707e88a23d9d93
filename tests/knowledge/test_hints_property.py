"""Never suggest what would be rejected: a property test over the rejections.

Specs are drawn from values that exist and values that do not; whenever a spec is
rejected for exactly one reason and the hint proposes a value, the spec with that value
applied must validate.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from envparity.core.diagnostics import SpecError
from envparity.core.spec import parse_spec

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

CUDAS = ["11.7.1", "11.8.0", "12.3.2", "12.4.1", "12.4.2", "12.5.0", "12.7.0", "12.8.1", "13.0.3"]
TORCH = [None, "2.0.1", "2.0.1+cu118", "2.4.1+cu124", "2.4.1+cu126", "2.7.1+cu128", "2.10.0"]
INDEXES = [None, "cu118", "cu121", "cu126", "cu128"]


@st.composite
def specs(draw) -> dict:
    return {
        "python": draw(st.sampled_from(["3.10.14", "3.11.9", "3.12.7"])),
        "cuda": draw(st.sampled_from(CUDAS)),
        "cudnn": draw(st.sampled_from([None, "8", "9"])),
        "driver": draw(st.sampled_from([None, "525.60.13", "550.54.15", "570.124.06"])),
        "os": draw(st.sampled_from(["ubuntu20.04", "ubuntu22.04", "ubuntu24.04"])),
        "gpus": draw(st.sampled_from([[], ["A10G"], ["H100-80GB"], ["L4"]])),
        "torch": draw(st.sampled_from(TORCH)),
        "index": draw(st.sampled_from(INDEXES)),
        "instance": draw(st.sampled_from([None, "g5.xlarge", "g5.12xlarge", "p5.48xlarge"])),
        "gpus_per_replica": draw(st.sampled_from([0, 1, 4])),
        "cpu": draw(st.sampled_from([None, "2", "4", "16"])),
        "memory": draw(st.sampled_from([None, "8Gi", "16Gi", "64Gi"])),
    }


def text(s: dict) -> str:
    lines = ["envparity: 1", "name: probe", "version: 1.0.0", f'python: "{s["python"]}"']
    lines.append(f'cuda: "{s["cuda"]}"')
    for key in ("cudnn", "driver"):
        if s[key]:
            lines.append(f'{key}: "{s[key]}"')
    lines.append(f"os: {s['os']}")
    if s["gpus"]:
        lines.append(f"gpus: [{', '.join(s['gpus'])}]")
    lines.append(f"python_packages: [{'torch==' + s['torch'] if s['torch'] else 'numpy==1.26.4'}]")
    if s["index"]:
        lines.append(f"package_indexes: [https://download.pytorch.org/whl/{s['index']}]")
    lines.append("run: {command: [python, -m, app]}")
    production = [f"gpus: {s['gpus_per_replica']}"]
    for key in ("instance", "cpu", "memory"):
        if s[key]:
            field = "instance_type" if key == "instance" else key
            production.append(f'{field}: "{s[key]}"')
    lines.append(f"stages: {{local: {{}}, production: {{{', '.join(production)}}}}}")
    return "\n".join(lines) + "\n"


def apply(hint: str, s: dict) -> dict | None:
    """The spec with the first value the hint proposes, or None when it proposes none."""
    first = hint.split(", or ")[0]
    rules = [
        (r'cuda: "([^"]+)"', lambda m: {"cuda": m[1]}),
        (r'cudnn: "([^"]+)"', lambda m: {"cudnn": m[1]}),
        (r"use os: (ubuntu[\d.]+\d)", lambda m: {"os": m[1]}),
        (r'driver: "([^"]+)"', lambda m: {"driver": m[1]}),
        (r"use torch==(\S+)", lambda m: {"torch": m[1].rstrip(",")}),
        (r"whl/(\w+) in package_indexes", lambda m: {"index": m[1]}),
        (r'cpu: "([^"]+)" and memory: "([^"]+)"', lambda m: {"cpu": m[1], "memory": m[2]}),
        (r"use gpus: (\d+) or fewer", lambda m: {"gpus_per_replica": int(m[1])}),
        (r"add (\S+) to gpus", lambda m: {"gpus": [*s["gpus"], m[1]]}),
        (r"use instance_type: (\S+)", lambda m: {"instance": m[1]}),
    ]
    for pattern, change in rules:
        found = re.search(pattern, first)
        if found:
            return {**s, **change(found)}
    return None


def errors(s: dict) -> list:
    try:
        parse_spec(text(s), "probe.yaml")
    except SpecError as exc:
        return [d for d in exc.diagnostics if d.severity == "error"]
    return []


@SETTINGS
@given(specs())
def test_a_hint_that_proposes_a_value_leads_to_a_valid_spec(s):
    found = errors(s)
    assume(len(found) == 1)
    fixed = apply(found[0].hint or "", s)
    assume(fixed is not None)
    assert errors(fixed) == [], f"{found[0].format()}\nafter the hint:\n{text(fixed)}"
