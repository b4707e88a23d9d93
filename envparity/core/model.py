"""The spec and the resolved stage, as immutable data.

A `Spec` is what a file says once it has passed the schema and the compatibility rules,
with defaults filled in. A `ResolvedStage` is the spec with one stage's fields applied:
everything downstream (renderers, stacks, drift) reads only resolved stages. Both carry
the knowledge snapshot they were checked against and a `Completed` record: the facts
derived from the fields and that snapshot, filled in once by `complete.py` so that no rule,
renderer or drift check derives them again (docs/architecture.md: data flows one way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from packaging.version import Version

from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge import Instance
from envparity.core.requirements_file import RequirementsFile
from envparity.core.yamlsource import SourceMap

if TYPE_CHECKING:
    from envparity.core.knowledge.tables import Tables

STAGES = ("local", "testing", "staging", "production")

EMPTY: Mapping[str, str] = MappingProxyType({})


def frozen_map(items: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only mapping with keys in sorted order (so output built from it is stable)."""
    return MappingProxyType(dict(sorted((items or {}).items())))


@dataclass(frozen=True)
class NodeRange:
    min: int
    max: int


@dataclass(frozen=True)
class Run:
    command: tuple[str, ...] = ()
    port: int | None = None
    gpus: int = 0
    cpu: str | None = None
    memory: str | None = None
    health_path: str | None = None
    backoff_limit: int = 3


@dataclass(frozen=True)
class Stage:
    """A stage's own fields as written; None means "not set, use the top level"."""

    replicas: int | None = None
    gpus: int | None = None
    cpu: str | None = None
    memory: str | None = None
    instance_type: str | None = None
    nodes: NodeRange | None = None
    region: str | None = None
    cluster: str | None = None
    registry: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    secrets: tuple[str, ...] = ()
    extra_python_packages: tuple[str, ...] = ()
    schedule: str | None = None


@dataclass(frozen=True)
class Software:
    """The software environment: identical in every stage, and what the fingerprint covers."""

    envparity: int
    name: str
    version: str
    python: str
    cuda: str | None
    cudnn: str | None
    cuda_flavor: str | None  # base/runtime/devel for a CUDA environment, None for CPU-only
    driver: str | None
    gpus: tuple[str, ...]
    os: str
    base_image: str | None
    system_packages: tuple[str, ...]
    python_packages: tuple[str, ...]  # the inline pins and those of python_requirements
    python_requirements: RequirementsFile | None
    package_indexes: tuple[str, ...]  # the inline ones, then the file's --extra-index-url
    env: Mapping[str, str]


@dataclass(frozen=True)
class CudaRuntime:
    """The CUDA a GPU environment runs: from `cuda`, or from a pinned wheel's build."""

    version: str  # "12.4.1" from `cuda`, "12.6" from a wheel build
    origin: str  # "cuda" or e.g. "torch 2.7.1 (PyPI default build cu126)"
    build: str | None = None  # the wheel build ("cu126") when a wheel brings it


@dataclass(frozen=True)
class TorchPin:
    """The exact torch pin of python_packages and the build it installs."""

    index: int  # its place in Software.python_packages
    version: Version
    build: str | None  # "cu126", "cpu"; None when envparity does not know it
    how: str  # "local version label", "from <index URL>" or "PyPI default build cu126"


@dataclass(frozen=True)
class WrittenGpu:
    """A name of the spec's `gpus` as written, with the products it stands for."""

    index: int  # its place in the file's list (the model sorts and expands the list)
    name: str
    products: tuple[str, ...]  # empty when it names no product envparity knows


@dataclass(frozen=True)
class InstanceFacts:
    """A stage's instance type as the knowledge snapshot has it."""

    info: Instance
    allocatable: tuple[float, float]  # (CPU cores, memory bytes) EKS offers to pods


@dataclass(frozen=True)
class Completed:
    """Every fact derived from the spec and the knowledge snapshot (see complete.py)."""

    cuda: CudaRuntime | None  # None: a CPU-only environment
    driver_floor: str | None  # the Linux driver the CUDA runtime needs; None when not known
    torch: TorchPin | None
    instances: Mapping[str, InstanceFacts | None]  # stage -> its known instance type
    gpus: tuple[WrittenGpu, ...] = ()  # the spec's `gpus` as written (loaded specs only)


@dataclass(frozen=True)
class Spec:
    source: str  # the file as the user named it
    software: Software
    description: str | None
    run: Run
    stages: Mapping[str, Stage]
    fingerprint: str
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)
    positions: SourceMap | None = field(default=None, compare=False, repr=False)
    # the snapshot the loader found for the spec's folder, and what completion derived
    tables: Tables | None = field(default=None, compare=False, repr=False)
    completed: Completed | None = field(default=None, compare=False, repr=False)

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        """`diagnostic` with file:line:col of its path in this spec's file."""
        if self.positions is None:
            return diagnostic.located(self.source, None, None)
        return self.positions.locate(diagnostic)

    @property
    def name(self) -> str:
        return self.software.name

    @property
    def version(self) -> str:
        return self.software.version


@dataclass(frozen=True)
class ResolvedStage:
    """One environment in one stage: software, fingerprint, and the stage's infrastructure."""

    name: str
    version: str
    stage: str
    fingerprint: str
    description: str | None
    software: Software
    tables: Tables = field(compare=False, repr=False)  # the spec's knowledge snapshot
    # how the workload runs, with the stage's sizing applied
    command: tuple[str, ...]
    port: int | None
    replicas: int
    gpus_per_replica: int
    cpu: str | None
    memory: str | None
    health_path: str | None  # services: the probes' HTTP path (TCP probes without it)
    backoff_limit: int  # batch commands: retries before the Job fails
    schedule: str | None  # batch commands: a CronJob's schedule (one Job without it)
    # infrastructure and configuration of this stage
    instance_type: str | None
    nodes: NodeRange | None
    region: str | None
    cluster: str | None
    registry: str | None
    runtime_env: Mapping[str, str]
    secrets: tuple[str, ...]
    extra_python_packages: tuple[str, ...]
    # Filled once by resolve (complete.py); `resolve.restage` changes fields and completes again.
    completed: Completed = field(compare=False, repr=False)

    @property
    def cuda_runtime(self) -> str | None:
        """ "12.4.1" from cuda, "12.6" from a wheel build; None: CPU-only."""
        return self.completed.cuda.version if self.completed.cuda else None

    @property
    def cuda_from(self) -> str | None:
        """ "cuda", or e.g. "torch 2.7.1 (PyPI default build cu126)"."""
        return self.completed.cuda.origin if self.completed.cuda else None

    @property
    def instance(self) -> InstanceFacts | None:
        """The stage's instance type, None without one or when the snapshot lacks it."""
        return self.completed.instances[self.stage]

    @property
    def instance_gpu(self) -> str | None:
        """GPU product of instance_type (None for CPU instances or no instance type)."""
        return self.instance.info.gpu if self.instance else None

    @property
    def instance_gpu_count(self) -> int:
        """GPUs on one instance (0 for CPU instances or no instance type)."""
        return self.instance.info.gpu_count if self.instance else 0

    @property
    def kind(self) -> str:
        """`service` (run.port: Deployment + Service), `cronjob` (a schedule) or `job`."""
        if self.port:
            return "service"
        return "cronjob" if self.schedule else "job"

    @property
    def needs_gpu(self) -> bool:
        return self.gpus_per_replica > 0

    @property
    def image_repository(self) -> str:
        """`<registry>/<name>`, or just `<name>` when the stage names no registry."""
        return f"{self.registry}/{self.name}" if self.registry else self.name

    @property
    def image_tag(self) -> str:
        """`<version>-<fingerprint[:12]>`, shared by the stages that run the promoted image.

        A stage that adds `extra_python_packages` runs another image (the shared one plus a
        layer), so its tag ends in `-<stage>` and never moves the promoted tag.
        """
        shared = f"{self.version}-{self.fingerprint[:12]}"
        return f"{shared}-{self.stage}" if self.extra_python_packages else shared

    @property
    def image_ref(self) -> str:
        return f"{self.image_repository}:{self.image_tag}"
