"""Locks of specs with python_requirements: the file's --hash and --index-url act as in pip."""

from __future__ import annotations

import hashlib

import pytest

from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import LockError
from envparity.core.spec import load_spec
from tests.render.test_lock import copy_case


def _with_file(tmp_path, lines: str):
    (tmp_path / "requirements.txt").write_text(lines, encoding="utf-8")
    return copy_case(
        "cpu-service",
        tmp_path,
        lambda t: t.replace(
            "python_packages: [demo-web==2.0.1]",
            "python_packages: [demo-web==2.0.1]\npython_requirements: requirements.txt",
        ),
    )


def _sha256(wheelhouse, name: str) -> str:
    [wheel] = wheelhouse.glob(f"{name.replace('-', '_')}-*.whl")
    return hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_listed_hash_is_kept(tmp_path, wheelhouse):
    digest = _sha256(wheelhouse, "demo-core")
    spec = load_spec(_with_file(tmp_path, f"demo-core==1.0.0 --hash=sha256:{digest}\n"))
    lock = compile_locks(spec, find_links=wheelhouse, no_index=True)[""]
    assert f"demo-core==1.0.0 \\\n    --hash=sha256:{digest}\n" in lock


def test_a_hash_no_file_has_is_a_lock_error(tmp_path, wheelhouse):
    spec = load_spec(_with_file(tmp_path, f"demo-core==1.0.0 --hash=sha256:{'0' * 64}\n"))
    with pytest.raises(LockError, match=r"no file of demo-core==1\.0\.0 has one of the --hash"):
        compile_locks(spec, find_links=wheelhouse, no_index=True)


def test_index_url_replaces_the_default_index(tmp_path, package_index):
    spec = load_spec(
        _with_file(tmp_path, f"--index-url {package_index}/simple\ndemo-core==1.0.0\n")
    )
    lock = compile_locks(spec)[""]
    assert f"--index-url {package_index}/simple" in lock.splitlines()
    assert "demo-core==1.0.0" in lock
