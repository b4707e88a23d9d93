"""Observed facts: what a collector saw, as plain frozen data (no SDK objects).

Collectors build these; the engine compares them with a resolved stage. Anything a
collector could not see is an `Unchecked` entry, never a guessed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from envparity.core.drift.findings import Unchecked
from envparity.core.model import EMPTY
from envparity.core.provenance import Provenance


@dataclass(frozen=True)
class GpuDevice:
    name: str  # as NVML names it, e.g. "NVIDIA H100 80GB HBM3"
    capability: tuple[int, int] | None


@dataclass(frozen=True)
class HostFacts:
    python: str  # exact X.Y.Z of the running interpreter
    distributions: Mapping[str, str]  # normalised project name -> installed version
    env: Mapping[str, str]
    driver: str | None = None  # NVIDIA driver version; None when NVML found no driver
    devices: tuple[GpuDevice, ...] = ()
    no_gpu_reason: str | None = None  # why NVML gave no facts, in the user's words


@dataclass(frozen=True)
class ImageFacts:
    id: str
    tags: tuple[str, ...]
    created: str  # ISO 8601, as the engine reports it (sorts in time order)
    labels: Mapping[str, str]
    python: str | None = None  # seen by running the image once; None when not probed
    distributions: Mapping[str, str] | None = None
    provenance: Provenance | None = None  # its /etc/envparity/provenance.json, when it has one


@dataclass(frozen=True)
class ContainerFacts:
    name: str
    image_id: str
    image: str  # the reference it was started from
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class DockerFacts:
    images: tuple[ImageFacts, ...]
    containers: tuple[ContainerFacts, ...]


@dataclass(frozen=True)
class WorkloadContainer:
    name: str
    image: str
    gpu_limit: str | None  # resources.limits["nvidia.com/gpu"]
    provenance: Provenance | None = None  # read from the image's registry, when it can be


@dataclass(frozen=True)
class DeploymentFacts:
    namespace: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    replicas: int | None
    containers: tuple[WorkloadContainer, ...]
    node_selector: Mapping[str, str]
    kind: str = "Deployment"  # or Job, CronJob: the object the workload's kind is deployed as


@dataclass(frozen=True)
class NodeFacts:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class KubernetesFacts:
    deployments: tuple[DeploymentFacts, ...] | None  # None: could not be listed (see unchecked)
    nodes: tuple[NodeFacts, ...] | None


@dataclass(frozen=True)
class NodeGroupFacts:
    cluster: str
    name: str
    tags: Mapping[str, str]
    instance_types: tuple[str, ...]
    ami_type: str | None
    min_size: int | None
    max_size: int | None
    labels: Mapping[str, str]


@dataclass(frozen=True)
class EcrImageFacts:
    repository: str
    tag: str
    digest: str | None  # None: the repository has no image with this tag
    repository_exists: bool = True


@dataclass(frozen=True)
class AwsFacts:
    clusters: tuple[str, ...] | None  # clusters seen; None: could not be listed
    node_groups: tuple[NodeGroupFacts, ...] | None  # tagged for the env and stage
    images: tuple[EcrImageFacts, ...] | None


@dataclass(frozen=True)
class StateResource:
    type: str
    name: str
    inputs: Mapping


@dataclass(frozen=True)
class PulumiFacts:
    resources: tuple[StateResource, ...]  # from `pulumi stack export`
    planned: tuple[StateResource, ...]  # what the program would create (the offline plan)


@dataclass(frozen=True)
class SignatureFacts:
    """Whether the image one object runs carries a signature the stage's trust policy accepts."""

    object: str  # what runs it, e.g. "deployment default/train" or "image REPO:TAG"
    image: str  # repository@sha256:... as verified
    policy: str  # the trust policy, in words
    problem: str | None  # None: signed and attested for this digest and the spec's software


@dataclass(frozen=True)
class Observation:
    """A collector's answer: its facts (None when nothing could be seen) and its gaps."""

    facts: object | None
    unchecked: tuple[Unchecked, ...] = ()
    # Checked only for a stage whose trust policy requires signed images (targets with `signed`).
    signatures: tuple[SignatureFacts, ...] | None = None
