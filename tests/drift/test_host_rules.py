"""The host target's GPU rules, with NVML facts injected at the collector's `nvml` boundary."""

from __future__ import annotations

import dataclasses

from envparity.adapters.collectors import host
from envparity.core.drift import engine
from envparity.core.resolve import restage
from tests.drift.conftest import fake_nvml, gpu_spec


def exact(result) -> set[tuple]:
    return {(f.object, f.field, f.expected, f.actual) for f in result.drift}


def test_fewer_gpus_than_a_replica_needs_is_drift(resolved):
    data = gpu_spec()
    data["stages"]["production"]["gpus"] = 2
    _, env = resolved(data, "production")
    result = engine.compare("host", env, host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml()))
    assert exact(result) == {("gpu", "count", ">= 2", 1)}
    [finding] = result.drift
    assert finding.hint == "stage production needs 2 GPU(s) per replica"


def test_enough_gpus_is_a_check(resolved):
    data = gpu_spec()
    data["stages"]["production"]["gpus"] = 2
    _, env = resolved(data, "production")
    two = (("NVIDIA H100 80GB HBM3", (9, 0)), ("NVIDIA A100-SXM4-80GB", (8, 0)))
    result = engine.compare(
        "host", env, host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml(devices=two))
    )
    assert result.status == "in_sync", result.findings
    assert ("gpu", "count") in {(c.object, c.field) for c in result.checks}


def test_an_unreadable_driver_version_is_drift_not_a_crash(resolved):
    _, env = resolved(gpu_spec(), "production")
    nvml = fake_nvml(driver="N/A")
    result = engine.compare("host", env, host.collect({"DEMO_MODE": "strict"}, nvml=nvml))
    assert exact(result) == {("gpu driver", "driver", ">= 550.54.15", "N/A")}
    assert result.drift[0].hint == "the driver reports an unreadable version"


def test_a_cuda_release_without_a_known_driver_floor_is_unchecked(resolved):
    """Without `driver:` the floor comes from the CUDA table; a release it lacks is a gap."""
    _, env = resolved(gpu_spec(), "production")
    software = dataclasses.replace(env.software, driver=None, cuda="12.99.0")
    env = restage(env, software=software)
    assert engine.driver_floor(env) is None
    result = engine.compare("host", env, host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml()))
    assert [(u.object, u.reason, u.hint) for u in result.unchecked] == [
        (
            "gpu driver",
            "the driver floor of CUDA 12.99.0 is not known to envparity",
            "set `driver:` in the spec",
        )
    ]
    assert result.status == "unchecked"


def test_without_driver_the_floor_is_cudas(resolved):
    data = gpu_spec()
    del data["driver"]
    _, env = resolved(data, "production")
    floor = engine.driver_floor(env)
    assert floor == env.tables.image_driver_floor("12.4.1") == "550.54.14"  # cuda>=12.4
    result = engine.compare(
        "host",
        env,
        host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml(driver="418.39")),
    )
    assert ("gpu driver", "driver", f">= {floor}", "418.39") in exact(result)
