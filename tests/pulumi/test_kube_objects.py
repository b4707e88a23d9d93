"""Objects registered by type token (components/kube_objects.py, the default VPC lookup in
components/cluster.py) send the engine exactly what the SDK's classes and functions send,
and `plan` never imports the SDK modules they replace (about 2 s of CPU)."""

from __future__ import annotations

import subprocess
import sys

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from envparity.components.cluster import default_subnet_ids
from envparity.components.kube_objects import RBAC, RELEASE, helm_release, kube_object, type_token
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import mocks, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from tests.pulumi.plan_helpers import copy_project

META = {"name": "obj", "namespace": "ns", "labels": {"app.kubernetes.io/name": "x"}}
TEMPLATE = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
REF = {"apiGroup": RBAC, "kind": "Role", "name": "r"}
SUBJECTS = [{"kind": "ServiceAccount", "name": "s", "namespace": "ns"}]
RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
# (apiVersion, kind) -> the fields the components pass, as the API spells them
FIELDS = {
    ("v1", "Namespace"): {"metadata": {"name": "ns", "labels": {"a": "b"}}},
    ("v1", "Service"): {"metadata": META, "spec": {"selector": {"a": "b"}, "ports": []}},
    ("v1", "ConfigMap"): {"metadata": META, "data": {"spec.yaml": "name: x\n"}},
    ("v1", "ServiceAccount"): {"metadata": META},
    ("apps/v1", "Deployment"): {
        "metadata": META,
        "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}, "template": TEMPLATE},
    },
    ("batch/v1", "Job"): {"metadata": META, "spec": {"backoffLimit": 3, "template": TEMPLATE}},
    ("batch/v1", "CronJob"): {
        "metadata": META,
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}},
    },
    ("policy/v1", "PodDisruptionBudget"): {
        "metadata": META,
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}},
    },
    (f"{RBAC}/v1", "Role"): {"metadata": META, "rules": RULES},
    (f"{RBAC}/v1", "ClusterRole"): {"metadata": META, "rules": RULES},
    (f"{RBAC}/v1", "RoleBinding"): {"metadata": META, "roleRef": REF, "subjects": SUBJECTS},
    (f"{RBAC}/v1", "ClusterRoleBinding"): {
        "metadata": META,
        "roleRef": {**REF, "kind": "ClusterRole"},
        "subjects": SUBJECTS,
    },
}
RELEASE_FIELDS = {
    "name": "chart",
    "chart": "chart",
    "version": "1.0.0",
    "namespace": "ns",
    "repositoryOpts": {"repo": "https://charts.example.invalid"},
    "values": {"gfd": {"enabled": True}, "someKey": [1, 2]},
}
SDK_NAMES = {"roleRef": "role_ref", "repositoryOpts": "repository_opts"}  # the SDK's Python names


class _Echo(mocks.Mocks):
    """Outputs are the inputs; the default VPC and its subnets are placeholders."""

    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        if args.token == "aws:ec2/getVpc:getVpc":
            return {"id": "vpc-1"}
        return {"id": "subnets", "ids": ["subnet-a", "subnet-b"]}


def requests(program) -> tuple[dict[str, dict], list[dict], list]:
    """The register requests by resource name, the invoke requests, and what `program`
    returned (outputs resolved), under Pulumi's mock runtime."""
    registered, invoked, returned = {}, [], []

    class Monitor(mocks.MockMonitor):
        def RegisterResource(self, request):
            found = MessageToDict(request)
            for position in ("sourcePosition", "stackTrace"):
                found.pop(position, None)
            registered[request.name] = found
            return super().RegisterResource(request)

        def Invoke(self, request):
            invoked.append(MessageToDict(request))
            return super().Invoke(request)

    echo = _Echo()
    settings.ROOT.set(None)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    mocks.set_mocks(echo, project="p", stack="s", preview=False, monitor=Monitor(echo))

    def run() -> None:
        pulumi.Output.from_input(program()).apply(returned.append)

    try:
        _sync_await(run_pulumi_func(run))
    finally:
        settings.ROOT.set(None)
    return registered, invoked, returned


def sdk_class(api_version: str, kind: str):
    group, _, version = api_version.rpartition("/")
    package = {"": "core", RBAC: "rbac"}.get(group, group)
    return getattr(getattr(getattr(k8s, package), version), kind)


@pytest.mark.parametrize(("api_version", "kind"), list(FIELDS))
def test_kube_object_registers_as_the_sdk_class(api_version, kind):
    fields = FIELDS[(api_version, kind)]
    sdk_fields = {SDK_NAMES.get(k, k): v for k, v in fields.items()}

    def program():
        # Inputs as outputs of another resource: the dependencies must match too.
        parent = kube_object("v1", "Namespace", "parent", pulumi.ResourceOptions(), metadata={})
        meta = parent.metadata.apply(lambda _: fields["metadata"])
        ours = kube_object(
            api_version, kind, "ours", pulumi.ResourceOptions(), **{**fields, "metadata": meta}
        )
        theirs = sdk_class(api_version, kind)(
            "theirs", **{**sdk_fields, "metadata": meta}, opts=pulumi.ResourceOptions()
        )
        return [ours.metadata_name, theirs.metadata.name]

    registered, _, names = requests(program)
    ours, theirs = registered.pop("ours"), registered.pop("theirs")
    assert ours == {**theirs, "name": "ours"}
    assert ours["type"] == type_token(api_version, kind) == f"kubernetes:{theirs['type'][11:]}"
    assert names == [[fields["metadata"]["name"]] * 2]


def test_helm_release_registers_as_the_sdk_class():
    def program():
        helm_release("ours", pulumi.ResourceOptions(), **RELEASE_FIELDS)
        fields = {SDK_NAMES.get(k, k): v for k, v in RELEASE_FIELDS.items()}
        k8s.helm.v3.Release("theirs", **fields, opts=pulumi.ResourceOptions())

    registered, _, _ = requests(program)
    assert registered["ours"] == {**registered["theirs"], "name": "ours"}
    assert registered["ours"]["type"] == RELEASE
    assert registered["ours"]["version"] == k8s._utilities.get_version()


def test_default_subnets_invoke_as_the_sdk_functions():
    def program(ours: bool):
        def build():
            provider = aws.Provider("aws", region="eu-west-1")
            opts = pulumi.InvokeOptions(provider=provider)
            if ours:
                return default_subnet_ids(opts)
            vpc = aws.ec2.get_vpc_output(default=True, opts=opts)
            filters = [{"name": "vpc-id", "values": [vpc.id]}]
            return aws.ec2.get_subnets_output(filters=filters, opts=opts).ids

        return requests(build)

    _, ours, our_ids = program(True)
    _, theirs, their_ids = program(False)
    assert ours == theirs
    assert [r["tok"] for r in ours] == ["aws:ec2/getVpc:getVpc", "aws:ec2/getSubnets:getSubnets"]
    assert ours[1]["args"] == {"filters": [{"name": "vpc-id", "values": ["vpc-1"]}]}
    assert our_ids == their_ids == [["subnet-a", "subnet-b"]]


def test_every_kubernetes_kind_the_plans_register_is_compared_above(plans):
    tested = {type_token(*key) for key in FIELDS} | {RELEASE, "pulumi:providers:kubernetes"}
    registered = {
        r.type
        for p in plans.values()
        for r in p.resources
        if r.type.startswith(("kubernetes:", "pulumi:providers:kubernetes"))
    }
    assert registered <= tested, registered - tested


# Executed (not only lazily registered) SDK modules that cost CPU: their input types.
SLOW = (
    "pulumi_aws.ec2._inputs",
    "pulumi_kubernetes.core.v1._inputs",
    "pulumi_kubernetes.apps.v1._inputs",
    "pulumi_kubernetes.batch.v1._inputs",
    "pulumi_kubernetes.policy.v1._inputs",
    "pulumi_kubernetes.rbac.v1._inputs",
    "pulumi_kubernetes.helm.v3._inputs",
)
PROBE = """
import sys
from envparity.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print('SLOW=' + ','.join(sorted(set(sys.modules) & set(%r))))
"""


def test_plan_imports_none_of_the_slow_sdk_modules(tmp_path):
    copy_project(tmp_path)
    args = ["plan", "envspecs/train.yaml", "envspecs/serve.yaml", "--stage", "production"]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (SLOW,), *args, "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("SLOW=")]
    assert proc.returncode == 0 and line, proc.stderr
    assert '"kubernetes:apps/v1:Deployment"' in proc.stdout  # serve's workload was planned
    assert line[0] == "SLOW=", line[0]
