"""Every Kubernetes object the program creates validates against the Kubernetes OpenAPI schema."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

KUBERNETES_VERSION = "1.30"  # oldest EKS standard-support version the manifests must fit
NEWEST = "1.37"  # the newest schema kubernetes-validate ships


def manifests(plans):
    for (name, stage), p in sorted(plans.items()):
        for r in p.resources:
            if r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:helm"):
                yield f"{name}/{stage}/{r.name}", r.inputs


def test_every_manifest_validates(plans):
    checked = 0
    for where, manifest in manifests(plans):
        for version in (KUBERNETES_VERSION, NEWEST):
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where} ({version}): {exc.message}")
        checked += 1
    assert checked >= 60


def test_validation_would_catch_a_broken_manifest(plans):
    """The check above can fail: a Deployment with a misspelt field is rejected."""
    deployment = next(m for w, m in manifests(plans) if w.endswith("-deployment"))
    broken = copy.deepcopy(deployment)
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
