"""The pulumi target's key inputs: a Deployment scheduled onto other nodes is drift."""

from __future__ import annotations

from tests.drift.test_pulumi import export, planned, run

__all__ = ["planned"]  # the module-scoped plan shared with test_pulumi.py


def test_a_changed_node_selector_is_drift(cli, planned, tmp_path):
    state = export(planned[2].resources)
    [deployment] = [
        i for i in state["deployment"]["resources"] if i["type"] == "kubernetes:apps/v1:Deployment"
    ]
    pod = deployment["inputs"]["spec"]["template"]["spec"]
    want = dict(pod["nodeSelector"])
    assert want, "the plan schedules the GPU Deployment onto its node pool"
    pod["nodeSelector"] = {"kubernetes.io/os": "linux"}
    result = run(cli, planned, state, tmp_path)
    assert result.code == 2, result.stdout
    [finding] = result.json()["results"][0]["findings"]
    name = deployment["urn"].rsplit("::", 1)[-1]
    assert (finding["object"], finding["field"], finding["expected"], finding["actual"]) == (
        f"kubernetes:apps/v1:Deployment {name}",
        "spec.template.spec.nodeSelector",
        want,
        {"kubernetes.io/os": "linux"},
    )
