"""The settings of a Pulumi stack (`stacks/Pulumi.<stage>.yaml`), as the stack program reads them.

`envparity:specs` (which specs the stage deploys) is rendered from the specs
(`envparity.core.render.stack_config`); the recorded images are the image ledger
(`envparity.core.ledger`). Region, cluster, registry and sizing are not copied here: the
program reads them from the resolved stages, so they cannot go stale. The other
`envparity:` keys are stack settings a user may change with `pulumi config set`. Only
strings and arrays of strings are used, the types a Pulumi.yaml `config:` block can declare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from envparity.core.ledger import (
    HISTORY,
    IMAGES,
    PROJECT,
    ImageRef,
    StackConfigError,
    recorded_image,
    strings,
)
from envparity.core.model import ResolvedStage

LOCAL = "local"
SPECS = f"{PROJECT}:specs"
CLUSTER_MODE = f"{PROJECT}:clusterMode"
CLUSTER_NAME = f"{PROJECT}:clusterName"
SUBNET_IDS = f"{PROJECT}:subnetIds"
KUBE_CONTEXT = f"{PROJECT}:kubeContext"
DRIFT_SCHEDULE = f"{PROJECT}:driftSchedule"
DRIFT_IMAGE = f"{PROJECT}:driftImage"
# The stage's trust policy (docs/promotion.md, "Signing and verification").
REQUIRE_SIGNED = f"{PROJECT}:requireSigned"
COSIGN_KEY = f"{PROJECT}:cosignKey"
COSIGN_IDENTITY = f"{PROJECT}:cosignIdentity"
COSIGN_ISSUER = f"{PROJECT}:cosignIssuer"
ARRAYS = (SPECS, IMAGES, HISTORY, SUBNET_IDS)  # Pulumi config arrays; every other key is a string
CLUSTER_MODES = ("create", "existing")
DEFAULT_SCHEDULE = "0 * * * *"  # hourly
DEFAULT_KUBE_CONTEXT = "kind-envparity"  # what `kind create cluster --name envparity` names it
DRIFT_IMAGE_NAME = "envparity-drift"  # the drift job's image: drift/envparity-drift.yaml


@dataclass(frozen=True)
class StackSettings:
    """Everything the stack program reads from its config, checked."""

    stage: str
    specs: tuple[str, ...]  # spec paths, relative to the project root (where Pulumi.yaml is)
    images: tuple[ImageRef, ...]
    cluster_mode: str
    cluster_name: str
    subnet_ids: tuple[str, ...]
    kube_context: str
    drift_schedule: str  # empty: no drift job
    drift_image: str  # empty: the recorded envparity-drift image (see `drift_image_ref`)

    @property
    def on_aws(self) -> bool:
        return self.stage != LOCAL

    def image_for(self, env: ResolvedStage) -> ImageRef | None:
        return recorded_image(self.images, env)

    def drift_image_ref(self) -> ImageRef | None:
        """The drift job's image, always by digest: `driftImage`, else the recorded push of
        envparity-drift; None when there is neither (the stack then has no drift job)."""
        if self.drift_image:
            if "@" not in self.drift_image:
                raise StackConfigError(
                    f"{DRIFT_IMAGE} {self.drift_image!r} is not pinned by digest",
                    f"pulumi config set --stack {self.stage} {DRIFT_IMAGE} "
                    "'REPOSITORY:TAG@sha256:...', or unset it to use the recorded build",
                )
            return ImageRef.parse(self.drift_image)
        return next((i for i in self.images if i.name == DRIFT_IMAGE_NAME), None)


def default_settings(stage: str) -> dict[str, Any]:
    """The settings a new stack config starts with."""
    common = {DRIFT_SCHEDULE: DEFAULT_SCHEDULE, IMAGES: []}
    if stage == LOCAL:
        return {KUBE_CONTEXT: DEFAULT_KUBE_CONTEXT, **common}
    return {CLUSTER_MODE: "create", CLUSTER_NAME: f"envparity-{stage}", **common}


def settings(stage: str, get: Callable[[str], Any]) -> StackSettings:
    """Checked settings from a config reader `get(key) -> value or None` (Config or dict.get)."""
    defaults = default_settings(stage)

    def value(key: str) -> Any:
        found = get(key)
        return defaults.get(key) if found is None else found

    specs = strings(value(SPECS))
    if not specs:
        raise StackConfigError(
            f"stack '{stage}' lists no specs ({SPECS} is empty)",
            "run `envparity render envspecs/*.yaml`, then retry",
        )
    mode = value(CLUSTER_MODE) or "create"
    if mode not in CLUSTER_MODES:
        raise StackConfigError(
            f"{CLUSTER_MODE} is {mode!r}; expected one of {', '.join(CLUSTER_MODES)}",
            f"pulumi config set --stack {stage} {CLUSTER_MODE} create",
        )
    return StackSettings(
        stage=stage,
        specs=tuple(specs),
        images=tuple(ImageRef.parse(text) for text in strings(value(IMAGES))),
        cluster_mode=mode,
        cluster_name=str(value(CLUSTER_NAME) or f"envparity-{stage}"),
        subnet_ids=tuple(strings(value(SUBNET_IDS))),
        kube_context=str(value(KUBE_CONTEXT) or DEFAULT_KUBE_CONTEXT),
        drift_schedule=str(value(DRIFT_SCHEDULE) or ""),
        drift_image=str(value(DRIFT_IMAGE) or ""),
    )


@dataclass(frozen=True)
class TrustPolicy:
    """Which images a stage accepts: with `required`, only those whose digest carries a
    cosign signature and provenance attestation that `key` (a public key file relative to
    the project root, or a KMS URI) or the keyless `identity` from `issuer` verifies."""

    stage: str
    required: bool = False
    key: str = ""
    identity: str = ""
    issuer: str = ""

    def __str__(self) -> str:
        who = f"key {self.key}" if self.key else f"identity {self.identity} from {self.issuer}"
        return f"stage {self.stage}'s trust policy ({REQUIRE_SIGNED}, {who})"


def trust_policy(stage: str, get: Callable[[str], Any]) -> TrustPolicy:
    """The checked trust policy from a config reader `get(key) -> value or None`."""
    required = str(get(REQUIRE_SIGNED) or "false").lower()
    if required not in ("true", "false"):
        raise StackConfigError(
            f"{REQUIRE_SIGNED} of stage {stage} is {required!r}; expected true or false",
            f"pulumi config set --stack {stage} {REQUIRE_SIGNED} true",
        )
    key, identity, issuer = (
        str(get(k) or "") for k in (COSIGN_KEY, COSIGN_IDENTITY, COSIGN_ISSUER)
    )
    policy = TrustPolicy(stage, required == "true", key, identity, issuer)
    if key and (identity or issuer):
        raise StackConfigError(
            f"stage {stage} sets both {COSIGN_KEY} and a keyless {COSIGN_IDENTITY}/{COSIGN_ISSUER}",
            f"keep one: pulumi config rm --stack {stage} {COSIGN_IDENTITY}",
        )
    if policy.required and not key and not (identity and issuer):
        raise StackConfigError(
            f"stage {stage} requires signed images but names no key or identity to verify with",
            f"pulumi config set --stack {stage} {COSIGN_KEY} cosign.pub (or set "
            f"{COSIGN_IDENTITY} and {COSIGN_ISSUER} for keyless signing)",
        )
    return policy
