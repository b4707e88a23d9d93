"""The pure parts: result status and exit codes, GFD label reading, and the three reporters."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

from rich.console import Console

from envparity.core.drift import engine
from envparity.core.drift.engine import Expectations, node_driver
from envparity.core.drift.findings import WARNING, Check, Finding, Result, Unchecked, exit_code
from envparity.core.drift.observed import (
    DeploymentFacts,
    KubernetesFacts,
    Observation,
    WorkloadContainer,
)
from envparity.core.drift.report import print_human, to_json, to_junit
from tests.drift.conftest import gpu_spec

DRIFT = Finding("kubernetes", "deployment a/b", "replicas", 2, 5, "scale back")
WARN = Finding("aws", "nodegroup c/n", "amiType support", "supported", "eol", "move", WARNING)
GAP = Unchecked("aws", "ECR x", "cannot reach AWS", "check the network")
CHECK = Check("host", "python", "version")


def result(**kw) -> Result:
    return Result("demo", "production", "kubernetes", "f" * 64, **kw)


def test_exit_codes_follow_the_contract():
    assert exit_code([result(checks=(CHECK,))]) == 0
    assert exit_code([result(findings=(WARN,))]) == 0  # a warning alone is not drift
    assert exit_code([result(findings=(DRIFT,))]) == 2
    assert exit_code([result(unchecked=(GAP,))]) == 3
    assert exit_code([result(checks=(CHECK,)), result(unchecked=(GAP,))]) == 3  # never 0 if partial
    assert exit_code([result(findings=(DRIFT,), unchecked=(GAP,))]) == 2  # drift found wins


def test_nothing_observed_is_unchecked_not_in_sync(resolved):
    _, env = resolved(gpu_spec(), "production")
    assert engine.compare("kubernetes", env, Observation(None, (GAP,))).status == "unchecked"


def test_unlistable_deployments_are_not_reported_missing(resolved):
    _, env = resolved(gpu_spec(), "production")
    facts = KubernetesFacts(deployments=None, nodes=())
    out = engine.compare("kubernetes", env, Observation(facts, (GAP,)))
    assert [f.object for f in out.findings] == ["nodes"]


def test_missing_promoted_digest_is_a_warning(resolved):
    _, env = resolved(gpu_spec(), "production")
    dep = DeploymentFacts(
        "demo",
        "demo",
        {},
        {"envparity.io/fingerprint": env.fingerprint},
        2,
        (WorkloadContainer("demo", "r/demo:t", "1"),),
        {
            "envparity.io/environment": "demo",
            "envparity.io/gpu-product": "H100-80GB",
            "envparity.io/stage": "production",
        },
    )
    from envparity.flows.drift_check import expected_node_pool

    out = engine.compare(
        "kubernetes",
        env,
        Observation(KubernetesFacts((dep,), None)),
        Expectations(node_pool=expected_node_pool(env)),
    )
    assert [(f.field, f.severity) for f in out.findings] == [("image digest", "warning")]
    assert out.status == "in_sync"


def test_gfd_driver_labels_current_then_deprecated():
    assert (
        node_driver(
            {
                "nvidia.com/cuda.driver-version.major": "550",
                "nvidia.com/cuda.driver-version.minor": "54",
                "nvidia.com/cuda.driver-version.revision": "15",
                "nvidia.com/cuda.driver.major": "1",
            }
        )
        == "550.54.15"
    )
    assert (
        node_driver(
            {
                "nvidia.com/cuda.driver.major": "570",
                "nvidia.com/cuda.driver.minor": "26",
                "nvidia.com/cuda.driver.rev": "",
            }
        )
        == "570.26"
    )
    assert node_driver({"nvidia.com/cuda.driver-version.full": "545.23.08"}) == "545.23.08"
    assert node_driver({}) is None


def test_json_is_stable():
    data = to_json([result(findings=(DRIFT,), checks=(CHECK,), unchecked=(GAP,))])
    assert list(data) == ["format", "status", "exit_code", "results"]
    assert data["format"] == 1 and data["status"] == "drift" and data["exit_code"] == 2
    [entry] = data["results"]
    assert list(entry) == [
        "name",
        "stage",
        "target",
        "fingerprint",
        "status",
        "findings",
        "unchecked",
        "checks",
    ]
    assert entry["findings"][0] == {
        "target": "kubernetes",
        "object": "deployment a/b",
        "field": "replicas",
        "expected": 2,
        "actual": 5,
        "severity": "drift",
        "hint": "scale back",
    }
    json.dumps(data)  # plain data only


def test_junit_has_one_testcase_per_check():
    xml = to_junit([result(findings=(DRIFT, WARN), checks=(CHECK,), unchecked=(GAP,))])
    suite = ET.fromstring(xml).find("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("errors") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["deployment a/b replicas"].find("failure").get("message") == (
        "expected 2, actual 5 (hint: scale back)"
    )
    assert cases["ECR x reachable"].find("error") is not None
    assert cases["python version"].find("failure") is None


def human(results) -> str:
    buffer = io.StringIO()
    print_human(results, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def test_human_output_says_no_drift_explicitly():
    assert "No drift." in human([result(checks=(CHECK,))])


def test_human_output_shows_values_verbatim_not_as_markup():
    nasty = Finding("docker", "container [bold]x[/bold]", "image", "a", "[red]b", "restart it")
    text = human([result(findings=(nasty,))])
    assert "container [bold]x[/bold]" in text and "→ [red]b" in text
    assert "1 difference(s)" in text
