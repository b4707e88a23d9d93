"""Every pod the stacks create: Pod Security "restricted", resources, labels of its own."""

from __future__ import annotations

import copy

import pytest

from tests.pulumi.restricted_profile import pod_specs, violations

WORKLOAD_TYPES = ("Deployment", "Job", "CronJob", "DaemonSet", "StatefulSet", "Pod")


def pods(plans):
    """(where, manifest, pod spec) of every pod template in every plan."""
    for (name, stage), p in sorted(plans.items()):
        for r in p.resources:
            if r.type.startswith("kubernetes:") and r.type.rsplit(":", 1)[1] in WORKLOAD_TYPES:
                for spec in pod_specs(r.inputs):
                    yield f"{name}/{stage}/{r.name}", r.inputs, spec


def test_every_pod_passes_the_restricted_profile(plans):
    checked = [(where, violations(spec)) for where, _, spec in pods(plans)]
    assert len(checked) >= 24  # a workload and a drift job per spec and stage
    assert [(where, v) for where, v in checked if v] == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("securityContext", "runAsNonRoot"), None, "runAsNonRoot is not true"),
        (("containers", 0, "securityContext", "allowPrivilegeEscalation"), True, "allowPriv"),
        (("containers", 0, "securityContext", "capabilities"), {}, "do not drop ALL"),
        (("securityContext", "seccompProfile"), None, "seccompProfile is None"),
        (("securityContext", "runAsUser"), 0, "pod runAsUser is 0"),
        (("volumes",), [{"name": "h", "hostPath": {"path": "/"}}], "hostPath"),
    ],
)
def test_the_profile_check_catches_each_rule(plans, path, value, expected):
    """The check above can fail: undo one setting of a real pod and it is reported."""
    _, _, spec = next(pods(plans))
    broken = copy.deepcopy(spec)
    *parents, last = path
    target = broken
    for key in parents:
        target = target[key]
    if value is None:
        del target[last]
        # the container repeats what the pod sets; remove it there too
        target = broken["containers"][0]["securityContext"]
        target.pop(last, None)
    else:
        target[last] = value
    assert any(expected in v for v in violations(broken)), violations(broken)


def test_namespaces_enforce_the_restricted_profile(plans):
    """Every namespace but the device plugin's (hostPath to the kubelet: documented exception)."""
    for p in plans.values():
        for ns in p.of_type("kubernetes:core/v1:Namespace"):
            labels = ns.inputs["metadata"]["labels"]
            expected = "privileged" if ns.parent.endswith("-nvidia") else "restricted"
            assert labels["pod-security.kubernetes.io/enforce"] == expected


def test_every_container_has_requests_and_a_memory_limit(plans):
    for where, _, spec in pods(plans):
        for c in spec["containers"]:
            assert set(c["resources"]["requests"]) >= {"cpu", "memory"}, where
            assert c["resources"]["limits"]["memory"] == c["resources"]["requests"]["memory"]


def test_pods_carry_the_recommended_labels(plans):
    keys = {f"app.kubernetes.io/{k}" for k in ("name", "instance", "component", "part-of")}
    keys |= {"app.kubernetes.io/managed-by", "app.kubernetes.io/version"}
    for where, manifest, spec in pods(plans):
        template = manifest["spec"].get("jobTemplate", manifest)["spec"]["template"]
        assert keys <= set(template["metadata"]["labels"]), where
        assert spec["containers"]


def test_no_selector_matches_another_components_pods(plans):
    """The Service and the Deployment select the workload's pods, never the drift job's."""
    for (name, stage), p in plans.items():
        labels = {}
        for where, manifest, _ in pods({(name, stage): p}):
            template = manifest["spec"].get("jobTemplate", manifest)["spec"]["template"]
            labels[where] = template["metadata"]["labels"]
        selectors = [r.inputs["spec"]["selector"] for r in p.of_type("kubernetes:core/v1:Service")]
        selectors += [
            r.inputs["spec"]["selector"]["matchLabels"]
            for r in p.resources
            if r.type
            in ("kubernetes:apps/v1:Deployment", "kubernetes:policy/v1:PodDisruptionBudget")
        ]
        for selector in selectors:
            matched = [w for w, lab in labels.items() if selector.items() <= lab.items()]
            assert len(matched) == 1 and "drift" not in matched[0], (name, stage, matched)
