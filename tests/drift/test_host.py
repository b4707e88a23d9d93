"""The host target: the real interpreter and environment; NVML simulated at its boundary only."""

from __future__ import annotations

from envparity.adapters.collectors import host
from envparity.core.drift import engine
from envparity.core.drift.engine import Expectations
from envparity.core.knowledge import tables as compat_tables
from tests.drift.conftest import base_spec, fake_nvml, gpu_spec, installed


def fields(result) -> set[tuple[str, str]]:
    return {(f.object, f.field) for f in result.drift}


def test_host_in_sync_through_the_cli(cli, write_spec, monkeypatch):
    monkeypatch.setenv("DEMO_MODE", "strict")
    run = cli(write_spec(base_spec()), "--stage", "local", "--target", "host", "--json")
    assert run.code == 0, run.stdout
    result = run.json()["results"][0]
    assert result["status"] == "in_sync" and result["findings"] == []
    checked = {(c["object"], c["field"]) for c in result["checks"]}
    assert {
        ("python", "version"),
        ("distribution pyyaml", "version"),
        ("env DEMO_MODE", "value"),
    } <= checked


def test_host_drift_names_each_difference(cli, write_spec, monkeypatch):
    monkeypatch.setenv("DEMO_MODE", "lenient")
    data = base_spec(
        python="3.10.0",
        python_packages=[
            "packaging==1.0",
            "no-such-dist==0.1",
            "pywin32==306; sys_platform == 'win32'",  # not for this platform: not expected here
        ],
    )
    run = cli(write_spec(data), "--stage", "local", "--target", "host", "--json")
    assert run.code == 2
    found = {(f["object"], f["field"]): f for f in run.json()["results"][0]["findings"]}
    assert found[("python", "version")]["actual"] == host.platform.python_version()
    assert found[("distribution packaging", "version")]["actual"] == installed("packaging")
    assert found[("distribution no-such-dist", "version")]["actual"] is None
    assert ("distribution pywin32", "version") not in found
    assert found[("env DEMO_MODE", "value")] == {
        "target": "host",
        "object": "env DEMO_MODE",
        "field": "value",
        "expected": "strict",
        "actual": "lenient",
        "severity": "drift",
        "hint": "export DEMO_MODE as the spec sets it",
    }


def test_secret_values_are_never_reported(resolved):
    data = gpu_spec()
    data["stages"]["production"]["secrets"] = ["API_TOKEN"]
    _, env = resolved(data, "production")
    observation = host.collect({"API_TOKEN": "s3cr3t-value"}, nvml=fake_nvml())
    result = engine.compare("host", env, observation)
    assert "s3cr3t-value" not in repr(result)
    assert ("secret API_TOKEN", "present") not in fields(result)


def test_lock_pins_are_checked_when_a_lock_exists(resolved):
    _, env = resolved(base_spec(), "local")
    observation = host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml(None))
    lock = {"pyyaml": installed("PyYAML"), "idna": "0.0.1"}
    result = engine.compare("host", env, observation, Expectations(lock=lock))
    assert fields(result) == {("distribution idna", "version")}


def test_cpu_only_env_on_a_host_without_gpu_is_in_sync(resolved):
    _, env = resolved(base_spec(), "local")
    result = engine.compare(
        "host", env, host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml(None))
    )
    assert result.status == "in_sync"


def test_gpu_stage_on_a_host_without_gpu_says_so_plainly(resolved):
    _, env = resolved(gpu_spec(), "production")
    observation = host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml(None))
    result = engine.compare("host", env, observation)
    [finding] = [f for f in result.drift if f.object == "gpu"]
    assert finding.field == "present"
    assert (
        finding.actual
        == "none (no NVIDIA driver on this host: NVML says NVML Shared Library Not Found)"
    )
    assert "needs 1 GPU(s) per replica" in finding.hint


def test_real_nvml_facts_of_this_machine():
    """The real nvidia-ml-py, nothing faked: either the driver and its GPUs, or why there are none
    (CI machines have no NVIDIA driver; a GPU host reports its own)."""
    driver, devices, reason = host.gpu_facts()
    if driver is None:
        assert devices == ()
        assert reason.startswith(("no NVIDIA driver", "nvidia-ml-py is not installed"))
    else:
        assert reason is None
        assert compat_tables.driver_at_least(driver, "0")  # a readable version
        assert devices and all(device.name for device in devices)


def test_gpu_host_matching_the_spec(resolved):
    _, env = resolved(gpu_spec(), "production")
    for as_bytes in (False, True):  # older nvidia-ml-py returns bytes
        observation = host.collect({"DEMO_MODE": "strict"}, nvml=fake_nvml(as_bytes=as_bytes))
        result = engine.compare("host", env, observation)
        assert result.status == "in_sync", result.findings
        assert {(c.object, c.field) for c in result.checks} >= {
            ("gpu driver", "driver"),
            ("gpu 0", "gpu"),
            ("gpu 0", "compute capability"),
        }


def test_gpu_host_with_old_driver_and_wrong_product(resolved):
    _, env = resolved(gpu_spec(), "production")
    nvml = fake_nvml(driver="535.104.05", devices=(("NVIDIA A10", (8, 6)),))
    result = engine.compare("host", env, host.collect({"DEMO_MODE": "strict"}, nvml=nvml))
    by_field = {(f.object, f.field): f for f in result.drift}
    assert by_field[("gpu driver", "driver")].expected == ">= 550.54.15"
    assert by_field[("gpu driver", "driver")].actual == "535.104.05"
    assert by_field[("gpu 0", "gpu")].actual == "A10"


def test_unknown_gpu_name_is_not_guessed(resolved):
    _, env = resolved(gpu_spec(), "production")
    nvml = fake_nvml(devices=(("NVIDIA Mystery 9000", (9, 0)),))
    result = engine.compare("host", env, host.collect({"DEMO_MODE": "strict"}, nvml=nvml))
    [finding] = [f for f in result.findings if f.field == "gpu"]
    assert "not known to envparity" in finding.hint and finding.actual == "NVIDIA Mystery 9000"


def test_lock_files_beside_the_spec_are_read(write_spec, monkeypatch, cli):
    monkeypatch.setenv("DEMO_MODE", "strict")
    path = write_spec(base_spec())
    path.with_suffix(".lock").write_text(
        "# envparity-lock-inputs: 00\n"
        f"pyyaml=={installed('PyYAML')} \\\n    --hash=sha256:{'a' * 64}\n"
        "idna[all]==0.0.1 ; python_version >= '3.8' \\\n    --hash=sha256:" + "b" * 64 + "\n"
    )
    run = cli(path, "--stage", "local", "--target", "host", "--json")
    assert run.code == 2
    [finding] = run.json()["results"][0]["findings"]
    assert (finding["object"], finding["expected"]) == ("distribution idna", "0.0.1")
    assert finding["hint"] == "install what the lock pins: idna==0.0.1"
