"""Pod Security "restricted": the security contexts every pod the stacks create carries.

The Pod Security Standards' restricted profile (kubernetes.io/docs/concepts/security/
pod-security-standards): non-root with a numeric user, no privilege escalation, the
runtime's default seccomp profile, every capability dropped, and only configMap, secret,
emptyDir, projected, downwardAPI, csi, ephemeral or persistentVolumeClaim volumes. The
namespaces the stacks create enforce the profile, so the API server rejects any pod that
breaks it. Pure data: no Pulumi import.
"""

from __future__ import annotations

from envparity.core.render.dockerfile import USER_ID

# The namespace labels of Pod Security admission: enforce, and warn/audit at the same level.
NAMESPACE_LABELS = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
}


def pod_security_context() -> dict:
    """The pod-level context: the image's numeric user (the Dockerfile's USER), RuntimeDefault."""
    return {
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "runAsGroup": USER_ID,
        "fsGroup": USER_ID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict:
    """The container-level context; repeated from the pod where the profile checks containers."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
