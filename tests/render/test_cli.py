"""`envparity render` writes --out/<name>/ atomically; --check writes nothing, names stale files."""

from __future__ import annotations

from pathlib import Path

import pytest
from envparity.cli.main import app
from typer.testing import CliRunner

from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import write_locks
from envparity.core.render.files import write_atomic
from envparity.core.spec import load_spec
from tests.render.conftest import CASES

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    # render writes into ./stacks/ and ./.github/workflows/ when they exist: not the repo's.
    monkeypatch.chdir(tmp_path)


def locked_case(case: str, tmp_path: Path, wheelhouse: Path) -> Path:
    path = tmp_path / f"{case}.yaml"
    path.write_text((CASES / case / "envspec.yaml").read_text())
    spec = load_spec(path)
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    return path


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_render_then_check_is_clean(tmp_path, wheelhouse):
    spec = locked_case("cpu-service", tmp_path, wheelhouse)
    out = tmp_path / "build"
    first = runner.invoke(app, ["render", str(spec), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in (out / "cpu-service").iterdir()) == [
        ".dockerignore",
        "Dockerfile",
        "devcontainer.json",
        "requirements.1-heavy.lock",  # the dependency layers' slices of requirements.lock
        "requirements.2-light.lock",
        "requirements.lock",
        "requirements.testing.lock",
    ]
    assert "cpu-service: 7 written, 0 unchanged" in first.stdout
    again = runner.invoke(app, ["render", str(spec), "--out", str(out)])
    assert "cpu-service: 0 written, 7 unchanged" in again.stdout
    check = runner.invoke(app, ["render", str(spec), "--out", str(out), "--check"])
    assert check.exit_code == 0 and check.stdout.startswith("ok:")


def test_check_names_each_stale_file_and_writes_nothing(tmp_path, wheelhouse):
    spec = locked_case("cpu-service", tmp_path, wheelhouse)
    out = tmp_path / "build"
    runner.invoke(app, ["render", str(spec), "--out", str(out)])
    (out / "cpu-service" / "Dockerfile").write_text("FROM scratch\n")
    (out / "cpu-service" / ".dockerignore").unlink()
    before = snapshot(out)
    result = runner.invoke(app, ["render", str(spec), "--out", str(out), "--check"])
    assert result.exit_code == 1
    stale = [line for line in result.stderr.splitlines() if line.startswith("stale: ")]
    assert stale == [
        f"stale: {out / 'cpu-service' / '.dockerignore'}",
        f"stale: {out / 'cpu-service' / 'Dockerfile'}",
    ]
    assert "error: 2 generated file(s) are stale" in result.stderr
    assert snapshot(out) == before


def test_check_fails_when_the_spec_changed(tmp_path, wheelhouse):
    spec = locked_case("cpu-service", tmp_path, wheelhouse)
    out = tmp_path / "build"
    runner.invoke(app, ["render", str(spec), "--out", str(out)])
    spec.write_text(
        spec.read_text().replace('PYTHONDONTWRITEBYTECODE: "1"', 'PYTHONDONTWRITEBYTECODE: "0"')
    )
    result = runner.invoke(app, ["render", str(spec), "--out", str(out), "--check"])
    assert result.exit_code == 1
    assert f"stale: {out / 'cpu-service' / 'Dockerfile'}" in result.stderr


def test_missing_lock_is_a_warning_and_no_lock_is_written(tmp_path):
    spec = tmp_path / "cpu-service.yaml"
    spec.write_text((CASES / "cpu-service" / "envspec.yaml").read_text())
    out = tmp_path / "build"
    result = runner.invoke(app, ["render", str(spec), "--out", str(out)])
    assert result.exit_code == 0
    [warning] = result.stderr.strip().splitlines()
    assert warning.startswith(f"warning: {spec}: no lock file {spec.with_suffix('.lock')}")
    assert "hint: run `envparity lock" in warning
    assert not (out / "cpu-service" / "requirements.lock").exists()


def test_stale_lock_fails_render_in_one_line(tmp_path, wheelhouse):
    spec = locked_case("cpu-service", tmp_path, wheelhouse)
    spec.write_text(spec.read_text().replace("demo-web==2.0.1", "demo-core==1.0.0"))
    result = runner.invoke(app, ["render", str(spec), "--out", str(tmp_path / "build")])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "lock is stale" in line and "(hint: run `envparity lock" in line
    assert not (tmp_path / "build").exists()


def test_invalid_spec_exits_1_with_located_diagnostics(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        (CASES / "cpu-service" / "envspec.yaml")
        .read_text()
        .replace('python: "3.11.2"', 'python: "3.11"')
    )
    result = runner.invoke(app, ["render", str(spec), "--out", str(tmp_path / "build")])
    assert result.exit_code == 1
    assert f"{spec}:" in result.stderr and "Traceback" not in result.output


def test_write_atomic_replaces_the_file_instead_of_rewriting_it(tmp_path):
    target = tmp_path / "Dockerfile"
    target.write_bytes(b"old\n")
    with target.open("rb") as reader:  # a reader (e.g. a running build) keeps the old file whole
        write_atomic(target, b"new\n")
        assert reader.read() == b"old\n"
    assert target.read_bytes() == b"new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temp file left behind
    assert (target.stat().st_mode & 0o777) == 0o644 & ~_umask()


def test_pre_commit_hooks_run_as_declared(tmp_path, wheelhouse):
    """Each hook's entry + args, run the way pre-commit runs it (from the repository root)."""
    import re
    import shlex
    import subprocess

    import yaml

    from tests.conftest import ROOT, SCRIPTS

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"envparity-validate", "envparity-render-check"}
    (tmp_path / "envspecs").mkdir()
    spec = locked_case("cpu-service", tmp_path / "envspecs", wheelhouse)
    envparity = str(SCRIPTS / "envparity")

    def run(hook_id: str, files: list[str]) -> subprocess.CompletedProcess:
        hook = hooks[hook_id]
        argv = [envparity, *shlex.split(hook["entry"])[1:], *hook.get("args", [])]
        if hook.get("pass_filenames", True):
            argv += files
        return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)

    assert run("envparity-validate", ["envspecs/cpu-service.yaml"]).returncode == 0
    assert run("envparity-render-check", []).returncode == 1  # nothing rendered yet
    subprocess.run([envparity, "render", "envspecs"], cwd=tmp_path, check=True, capture_output=True)
    assert run("envparity-render-check", []).returncode == 0
    # The example in the file's header (args replace the hook's own) works as written.
    header = (ROOT / ".pre-commit-hooks.yaml").read_text()
    example = yaml.safe_load(re.search(r"^#\s+args: (\[.*\])", header, re.M).group(1))
    hooks["envparity-render-check"] = {**hooks["envparity-render-check"], "args": example}
    assert run("envparity-render-check", []).returncode == 0
    spec.write_text(spec.read_text().replace("port: 8000", "port: 8001"))
    stale = run("envparity-render-check", [])
    assert stale.returncode == 1 and "stale: build/cpu-service/devcontainer.json" in stale.stderr


def test_render_check_hook_runs_when_a_requirements_file_changes(tmp_path, wheelhouse):
    import re
    import subprocess

    import yaml

    from tests.conftest import ROOT

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert re.search(hooks["envparity-render-check"]["files"], "envspecs/requirements.txt")
    (tmp_path / "envspecs").mkdir()
    reqs = tmp_path / "envspecs" / "requirements.txt"
    reqs.write_text("demo-core==1.0.0\n")
    spec = tmp_path / "envspecs" / "svc.yaml"
    spec.write_text(
        (CASES / "cpu-service" / "envspec.yaml")
        .read_text()
        .replace(
            "python_packages: [demo-web==2.0.1]",
            "python_packages: []\npython_requirements: requirements.txt",
        )
    )
    loaded = load_spec(spec)
    write_locks(loaded, compile_locks(loaded, find_links=wheelhouse, no_index=True))
    envparity = str(ROOT / ".venv" / "bin" / "envparity")
    subprocess.run([envparity, "render", "envspecs"], cwd=tmp_path, check=True, capture_output=True)
    check = [envparity, "render", "--check", "envspecs"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 0
    reqs.write_text("demo-core==1.0.0\ndemo-util==1.1.0\n")
    stale = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True)
    assert stale.returncode == 1 and "the shared lock is stale" in stale.stderr, stale.stderr


def test_render_never_imports_heavy_sdks(tmp_path):
    """`render` must start fast: no docker, pulumi, boto3, kubernetes (nor uv) in the process."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    argv = ["envparity", "render", str(ROOT / "envspecs"), "--out", str(tmp_path)]
    code = (
        "import sys\n"
        f"sys.argv = {argv!r}\n"
        "from envparity.cli import main\n"
        "try:\n    main.main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('docker', 'pulumi', 'boto3', 'botocore', 'kubernetes', 'uv')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "train" / "Dockerfile").exists()  # it did render


def test_project_files_are_rendered_only_where_their_folders_exist(tmp_path, wheelhouse):
    (tmp_path / "envspecs").mkdir()  # the environment set: the project's specs folder
    spec = locked_case("cpu-service", tmp_path / "envspecs", wheelhouse)
    out = tmp_path / "build"
    runner.invoke(app, ["render", str(spec), "--out", str(out)])
    assert not (tmp_path / "stacks").exists() and not (tmp_path / ".github").exists()
    (tmp_path / "stacks").mkdir()
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    result = runner.invoke(app, ["render", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # One stack config per stage the spec declares, and the drift workflow.
    assert sorted(p.name for p in (tmp_path / "stacks").iterdir()) == [
        "Pulumi.local.yaml",
        "Pulumi.production.yaml",
        "Pulumi.testing.yaml",
    ]
    workflow = tmp_path / ".github" / "workflows" / "envparity-drift.yml"
    assert workflow.is_file()
    assert runner.invoke(app, ["render", str(spec), "--out", str(out), "--check"]).exit_code == 0
    workflow.unlink()
    check = runner.invoke(app, ["render", str(spec), "--out", str(out), "--check"])
    assert check.exit_code == 1 and "stale: .github/workflows/envparity-drift.yml" in check.stderr
    assert not workflow.exists()


def _umask() -> int:
    import os

    current = os.umask(0)
    os.umask(current)
    return current
