"""Host target: the running interpreter, installed packages, environment and GPUs."""

from __future__ import annotations

from envparity.core.drift.expectations import Expectations
from envparity.core.drift.observed import HostFacts
from envparity.core.drift.outcome import Outcome
from envparity.core.drift.rules.gpu import driver_ok, product_ok
from envparity.core.drift.rules.packages import compare_distributions, pins
from envparity.core.model import ResolvedStage


def compare_host(out: Outcome, env: ResolvedStage, facts: HostFacts, exp: Expectations) -> None:
    out.expect(
        "python",
        "version",
        env.software.python,
        facts.python,
        f"run with Python {env.software.python} (the image or a venv made from it)",
    )
    pinned = pins(env.software.python_packages + env.extra_python_packages)
    compare_distributions(out, pinned, facts.distributions, "pip install")
    if exp.lock is not None:
        locked = {name: version for name, version in exp.lock.items() if name not in pinned}
        compare_distributions(out, locked, facts.distributions, "install what the lock pins:")
    for key, value in {**env.software.env, **env.runtime_env}.items():
        out.expect(
            f"env {key}", "value", value, facts.env.get(key), f"export {key} as the spec sets it"
        )
    for key in env.secrets:  # names only: a secret's value is never printed
        out.expect(
            f"secret {key}",
            "present",
            "set",
            "set" if key in facts.env else "unset",
            f"provide {key} from the stage's secret store",
        )
    if env.needs_gpu:
        _compare_host_gpus(out, env, facts)


def _compare_host_gpus(out: Outcome, env: ResolvedStage, facts: HostFacts) -> None:
    if facts.driver is None:
        out.differ(
            "gpu",
            "present",
            f"{env.gpus_per_replica} NVIDIA GPU(s)",
            f"none ({facts.no_gpu_reason or 'NVML found no driver'})",
            f"stage {env.stage} needs {env.gpus_per_replica} GPU(s) per replica: run it on a "
            "GPU host, or check a CPU stage (gpus: 0)",
        )
        return
    driver_ok(out, "gpu driver", env, facts.driver)
    out.expect(
        "gpu",
        "count",
        f">= {env.gpus_per_replica}",
        len(facts.devices),
        f"stage {env.stage} needs {env.gpus_per_replica} GPU(s) per replica",
        same=len(facts.devices) >= env.gpus_per_replica,
    )
    for index, device in enumerate(facts.devices):
        product_ok(out, f"gpu {index}", env, device.name, device.capability)
