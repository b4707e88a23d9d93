"""`envparity lock`: uv resolves the pins against loopback indexes, never pypi.org."""

from __future__ import annotations

from pathlib import Path

import pytest
from envparity.cli.main import app
from typer.testing import CliRunner

from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import LockError, is_fresh, lock_files, write_locks
from envparity.core.render.artifacts import render_env
from envparity.core.spec import load_spec
from tests.render.conftest import CASES

runner = CliRunner()


def copy_case(case: str, tmp_path: Path, edit=None) -> Path:
    target = tmp_path / f"{case}.yaml"
    text = (CASES / case / "envspec.yaml").read_text()
    target.write_text(edit(text) if edit else text)
    return target


def requirement_lines(lock: str) -> list[str]:
    return [
        line.split(" ")[0]
        for line in lock.splitlines()
        if line and not line[0].isspace() and not line.startswith(("#", "--"))
    ]


def test_lock_resolves_the_closure_with_hashes(tmp_path, wheelhouse):
    spec = load_spec(copy_case("gpu-train", tmp_path))
    locks = compile_locks(spec, find_links=wheelhouse, no_index=True)
    # demo-util comes in through demo-core and demo-web, at the newest version they allow.
    assert requirement_lines(locks[""]) == [
        "demo-core==1.0.0",
        "demo-util==1.2.0",
        "demo-web==2.0.1",
    ]
    assert locks[""].count("--hash=sha256:") == 3
    # The testing lock holds only what testing adds: demo-util stays in the shared lock.
    assert requirement_lines(locks["testing"]) == ["demo-plugin==3.1.0", "demo-testtool==0.5.0"]
    assert "--extra-index-url https://download.example.org/whl/cu124" in locks[""].splitlines()


def test_lock_uses_the_default_and_extra_indexes_on_loopback(tmp_path, package_index, monkeypatch):
    monkeypatch.setenv("UV_DEFAULT_INDEX", f"{package_index}/simple")
    extra = f"{package_index}/extra/simple"

    def edit(text: str) -> str:
        return text.replace(
            "python_packages: [demo-web==2.0.1]",
            f"python_packages: [demo-web==2.0.1, demo-private==0.1.0]\npackage_indexes: [{extra}]",
        )

    path = copy_case("cpu-service", tmp_path, edit)
    result = runner.invoke(app, ["lock", str(path)])
    assert result.exit_code == 0, result.output
    lock = path.with_suffix(".lock").read_text()
    # demo-private exists only on the extra index: the resolver was given it.
    assert "demo-private==0.1.0" in requirement_lines(lock)
    assert f"--extra-index-url {extra}" in lock.splitlines()
    assert path.with_suffix(".testing.lock").exists()
    assert f"wrote {path.with_suffix('.lock')}" in result.stdout


def test_lock_failure_is_one_line_with_a_hint(tmp_path, wheelhouse):
    path = copy_case(
        "cpu-service", tmp_path, lambda t: t.replace("demo-web==2.0.1", "demo-web==9.9.9")
    )
    result = runner.invoke(app, ["lock", str(path), "--find-links", str(wheelhouse), "--no-index"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: uv could not lock the pins")
    assert "demo-web" in lines[0] and "(hint: " in lines[0]
    assert not path.with_suffix(".lock").exists()


def test_a_pin_change_makes_the_lock_stale_and_render_refuses_it(tmp_path, wheelhouse):
    path = copy_case("cpu-service", tmp_path)
    spec = load_spec(path)
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    assert is_fresh(spec, "", path.with_suffix(".lock").read_text())
    path.write_text(path.read_text().replace("demo-web==2.0.1", "demo-core==1.0.0"))
    changed = load_spec(path)
    assert not is_fresh(changed, "", path.with_suffix(".lock").read_text())
    with pytest.raises(LockError, match="stale"):
        render_env(changed)


def test_changes_that_do_not_affect_resolution_keep_the_lock_fresh(tmp_path, wheelhouse):
    path = copy_case("cpu-service", tmp_path)
    spec = load_spec(path)
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    path.write_text(
        path.read_text()
        .replace('PYTHONDONTWRITEBYTECODE: "1"', 'PYTHONDONTWRITEBYTECODE: "0"')
        .replace("version: 0.3.0", "version: 0.4.0")
    )
    changed = load_spec(path)
    assert changed.fingerprint != spec.fingerprint
    assert all(is_fresh(changed, lock.key, lock.path.read_text()) for lock in lock_files(changed))


def test_render_requires_locks_by_default(tmp_path):
    spec = load_spec(copy_case("cpu-service", tmp_path))
    with pytest.raises(LockError, match="no lock file"):
        render_env(spec)
    files = render_env(spec, require_locks=False)
    assert "requirements.lock" not in files and "Dockerfile" in files
