"""Kubernetes objects registered by type token, as the SDK's classes register them.

`pulumi_kubernetes.core.v1` takes about a second of CPU to import (thousands of input types),
and every workload kind reaches it: serializing a Deployment's, Job's or CronJob's typed
inputs evaluates their pod template's core/v1 type hints. `helm.v3` pulls in the SDK's YAML
renderer and `requests`. That is more than the rest of `envparity plan`. The SDK's class of
each kind used here does no more than fix `apiVersion` and `kind`, set the package version,
declare the kind's earlier API versions as aliases, and register the fields it is given;
the components already spell those fields as on the wire (camelCase). So these register the
same requests without the SDK's typed modules: tests/pulumi/test_kube_objects.py compares
each kind with its SDK class. Only the root `pulumi_kubernetes` (the Provider) is imported.
"""

from __future__ import annotations

from typing import Any

import pulumi

RBAC = "rbac.authorization.k8s.io"
RELEASE = "kubernetes:helm.sh/v3:Release"
# Earlier API versions the SDK's class of a kind declares as aliases: a stack created with
# one of them is updated in place, not replaced.
EARLIER_VERSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps/v1", "Deployment"): ("apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"),
    ("batch/v1", "CronJob"): ("batch/v1beta1", "batch/v2alpha1"),
    ("policy/v1", "PodDisruptionBudget"): ("policy/v1beta1",),
    **{
        (f"{RBAC}/v1", kind): (f"{RBAC}/v1alpha1", f"{RBAC}/v1beta1")
        for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
    },
}


class KubeObject(pulumi.CustomResource):
    """One object registered under `type_` with `props` (None values are not sent)."""

    metadata: pulumi.Output[dict]

    def __init__(
        self,
        type_: str,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions,
        aliases: tuple[str, ...] = (),
    ) -> None:
        from pulumi_kubernetes import _utilities

        # The package version the SDK's classes set: the engine picks that provider plugin.
        opts = pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)
        if aliases:
            aliased = [pulumi.Alias(type_=alias) for alias in aliases]
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliased))
        super().__init__(type_, name, {k: v for k, v in props.items() if v is not None}, opts)

    @property
    def metadata_name(self) -> pulumi.Output[str]:
        """`metadata.name` once the object exists (the SDK's `obj.metadata.name`)."""
        return self.metadata.apply(lambda meta: meta.get("name"))


def type_token(api_version: str, kind: str) -> str:
    """`apps/v1`, `Deployment` -> `kubernetes:apps/v1:Deployment` (the core group is `core`)."""
    return f"kubernetes:{api_version if '/' in api_version else 'core/' + api_version}:{kind}"


def kube_object(
    api_version: str, kind: str, name: str, opts: pulumi.ResourceOptions, /, **fields: Any
) -> KubeObject:
    """The object `kind` of `api_version` named `name` in the stack, with `fields` (metadata,
    spec, data, rules, ...) as the API spells them."""
    aliases = tuple(
        type_token(earlier, kind) for earlier in EARLIER_VERSIONS.get((api_version, kind), ())
    )
    props = {"apiVersion": api_version, "kind": kind, **fields}
    return KubeObject(type_token(api_version, kind), name, props, opts, aliases)


def helm_release(name: str, opts: pulumi.ResourceOptions, /, **fields: Any) -> KubeObject:
    """A Helm release (the provider's helm.sh/v3 Release; `compat` as the SDK sets it).
    `name` names the resource in the stack; the release's own name is the field `name`."""
    return KubeObject(RELEASE, name, {"compat": "true", **fields}, opts)
