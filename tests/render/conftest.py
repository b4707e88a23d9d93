"""Fixtures for the render tests: tiny real wheels, served as --find-links and as a PEP 503 index.

Lock tests must not reach pypi.org: uv resolves against these wheels, on disk or on a
loopback HTTP index. The wheels are built byte-for-byte reproducibly (fixed zip dates),
so their hashes, and the golden lock files made from them, are stable.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

CASES = ROOT / "tests" / "cases"
GOLDEN = ROOT / "tests" / "golden"

# name, version, requirements: the little world the case specs pin from.
WHEELS = [
    ("demo-core", "1.0.0", ["demo-util>=1.1"]),
    ("demo-util", "1.1.0", []),
    ("demo-util", "1.2.0", []),
    ("demo-web", "2.0.1", ["demo-util"]),
    ("demo-testtool", "0.5.0", ["demo-util>=1", "demo-plugin==3.1"]),
    ("demo-plugin", "3.1.0", []),
]
# Only on the loopback index, to prove package_indexes reach the resolver.
EXTRA_INDEX_WHEELS = [("demo-private", "0.1.0", ["demo-util"])]


# Stored (uncompressed) padding, so the wheels differ in size by orders of magnitude as real
# ones do and the cases show the dependency layers: demo-web ~1 MB (heavy), demo-core ~9 kB
# (over 10x smaller: medium), demo-util under 1 kB (over 1000x smaller: light).
PADDING = {"demo-web": 1024 * 1024, "demo-core": 8 * 1024}


def build_wheel(directory: Path, name: str, version: str, requires: list[str]) -> Path:
    """A minimal valid py3-none-any wheel with METADATA, WHEEL and RECORD."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n',
        **({f"{module}/data.txt": "x" * PADDING[name]} if name in PADDING else {}),
        f"{dist_info}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: envparity-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        )
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    target = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as whl:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = (
                zipfile.ZIP_STORED if path.endswith("data.txt") else whl.compression
            )
            whl.writestr(info, text)
    return target


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("wheelhouse")
    for name, version, requires in WHEELS:
        build_wheel(directory, name, version, requires)
    return directory


@pytest.fixture(scope="session")
def package_index(tmp_path_factory):
    """PEP 503 simple indexes on 127.0.0.1 (python's http.server listing is a valid one).

    `<url>/simple` holds the demo wheels (a stand-in for PyPI), `<url>/extra/simple` holds
    the ones only an extra index has.
    """
    root = tmp_path_factory.mktemp("index")
    for where, wheels in (("simple", WHEELS), ("extra/simple", EXTRA_INDEX_WHEELS)):
        for name, version, requires in wheels:
            project = root / where / name
            project.mkdir(parents=True, exist_ok=True)
            build_wheel(project, name, version, requires)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # uv's requests are not test output
        pass


@pytest.fixture(autouse=True)
def _uv_offline(monkeypatch, tmp_path_factory):
    # uv must never fall back to pypi.org in these tests, and its cache stays in tmp.
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "uv-cache"))
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://127.0.0.1:9/simple")  # nothing listens on port 9
    monkeypatch.delenv("UV_INDEX_URL", raising=False)
    monkeypatch.delenv("UV_EXTRA_INDEX_URL", raising=False)
