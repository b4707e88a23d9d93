"""The host collector: the running interpreter, its installed distributions, env vars, NVML.

NVML comes from nvidia-ml-py (`import pynvml`); tests pass a fake module as `nvml`,
which is the only thing they simulate.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from importlib import metadata
from types import ModuleType

from packaging.utils import canonicalize_name

from envparity.core.drift.observed import GpuDevice, HostFacts, Observation


def installed_distributions() -> dict[str, str]:
    """Normalised project name -> version of what this interpreter can import."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist.version)  # first on sys.path wins
    return found


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value  # older nvidia-ml-py gives bytes


def gpu_facts(
    nvml: ModuleType | None = None,
) -> tuple[str | None, tuple[GpuDevice, ...], str | None]:
    """(driver version, devices, why there are none) from NVML."""
    if nvml is None:
        try:
            import pynvml as nvml
        except ImportError:
            return None, (), "nvidia-ml-py is not installed, so NVML cannot be read"
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:  # LibraryNotFound / DriverNotLoaded: no usable GPU here
        return None, (), f"no NVIDIA driver on this host: NVML says {_text(str(exc))}"
    try:
        driver = _text(nvml.nvmlSystemGetDriverVersion())
        devices = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = _text(nvml.nvmlDeviceGetName(handle))
            try:
                capability = tuple(nvml.nvmlDeviceGetCudaComputeCapability(handle))
            except nvml.NVMLError:
                capability = None
            devices.append(GpuDevice(name, capability))
        return driver, tuple(devices), None
    finally:
        nvml.nvmlShutdown()


def collect(
    env_vars: Mapping[str, str] | None = None, nvml: ModuleType | None = None
) -> Observation:
    driver, devices, reason = gpu_facts(nvml)
    facts = HostFacts(
        python=platform.python_version(),
        distributions=installed_distributions(),
        env=dict(os.environ if env_vars is None else env_vars),
        driver=driver,
        devices=devices,
        no_gpu_reason=reason,
    )
    return Observation(facts)
