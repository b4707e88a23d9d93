"""`envparity lock`'s resolver: uv (`uv pip compile --generate-hashes`), run as a process.

What comes back is written in the lock format of `envparity.core.lockfile`; this module
only runs uv and checks what goes into its requirements file (docs/architecture.md: running
processes is an adapter's work, the format is the core's).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement

from envparity.core.credentials import INDEX_CREDENTIALS_HINT, index_url_problem, redacted
from envparity.core.lockfile import (
    BASE,
    PLATFORM,
    LockError,
    blocks,
    header,
    lock_files,
    only_allowed_hashes,
    with_sizes,
)
from envparity.core.model import Spec
from envparity.core.requirements import name_of, normalise

INDEX_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!%+=,-]+")


def compile_locks(
    spec: Spec, *, find_links: Path | None = None, no_index: bool = False, uv: str | None = None
) -> dict[str, str]:
    """New lock texts for `spec` by key, resolved by uv for its Python on linux x86_64.

    The default index is whatever uv is configured with (PyPI, or UV_INDEX_URL /
    UV_DEFAULT_INDEX); the spec's `package_indexes` are added as extra indexes and
    written into the lock so pip in the image uses them too.
    """
    uv = uv or _uv_binary()
    sw = spec.software
    indexes = [_checked_index(url) for url in sw.package_indexes]
    from_file = sw.python_requirements
    if from_file is not None and from_file.index_url:
        # The file's --index-url replaces the default index, as it does for pip.
        indexes.insert(0, "--index-url " + _checked_index(from_file.index_url))
    packages = [_checked_requirement(r) for r in sw.python_packages]
    sizes: dict[str, int] = {}
    body = _compile(uv, packages, [], sw.python, indexes, find_links, no_index, sizes)
    if from_file is not None and from_file.hashes:
        body = only_allowed_hashes(body, dict(from_file.hashes))
    locks = {BASE: with_sizes(body, sizes)}
    shared = blocks(locks[BASE])
    constraints = [block.splitlines()[0].rstrip(" \\") for block in shared.values()]
    for lock in lock_files(spec)[1:]:
        extra = [_checked_requirement(r) for r in spec.stages[lock.key].extra_python_packages]
        body = _compile(uv, packages + extra, constraints, sw.python, indexes, find_links, no_index)
        added = {name: block for name, block in blocks(body).items() if name not in shared}
        locks[lock.key] = "".join(added.values())
    return {key: header(spec, key, indexes) + body for key, body in locks.items()}


def _compile(
    uv: str,
    requirements: list[str],
    constraints: list[str],
    python: str,
    indexes: list[str],
    find_links: Path | None,
    no_index: bool,
    sizes: dict[str, int] | None = None,
) -> str:
    """uv's hashed requirements text; with `sizes`, also fill it with each package's file size."""
    with tempfile.TemporaryDirectory(prefix="envparity-lock-") as tmp:
        # Relative names in a temp cwd keep uv's "# via -r requirements.in" free of paths.
        Path(tmp, "requirements.in").write_text(
            "".join(r + "\n" for r in requirements), encoding="utf-8"
        )
        args = [
            uv,
            "pip",
            "compile",
            "requirements.in",
            "--generate-hashes",
            "--no-header",
            "--python-version",
            python,
            "--python-platform",
            PLATFORM,
            "--quiet",
            # Resolving for a target version needs no interpreter of it: never download one.
            "--no-python-downloads",
        ]
        if constraints:
            Path(tmp, "constraints.txt").write_text(
                "".join(c + "\n" for c in constraints), encoding="utf-8"
            )
            args += ["--constraint", "constraints.txt"]
        if no_index:  # wheels from --find-links only: no index is asked, the spec's neither
            args.append("--no-index")
        else:
            for url in indexes:
                # uv's name for pip's --index-url; it also overrides UV_DEFAULT_INDEX
                if url.startswith("--index-url "):
                    args += ["--default-index", url.split(" ", 1)[1]]
                else:
                    args += ["--extra-index-url", url]
        if find_links is not None:
            args += ["--find-links", str(Path(find_links).resolve())]
        done = _run_uv(args, tmp)
        if sizes is not None:
            # The same resolution as PEP 751 pylock.toml, which carries each file's size.
            _run_uv([*args, "--output-file", "pylock.toml"], tmp)
            sizes.update(_pylock_sizes(Path(tmp, "pylock.toml")))
    # uv names the constraints file in annotations; it is ours, not the user's.
    return done.stdout.replace("    #   -c constraints.txt\n", "").replace(
        "    # via -c constraints.txt\n", ""
    )


def _run_uv(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LockError(
            f"uv could not lock the pins: {_one_line(done.stderr)}",
            "check the pins and package_indexes of the spec (is every version published?)",
        )
    return done


def _pylock_sizes(path: Path) -> dict[str, int]:
    """Normalised name -> bytes of the largest file of each package in a pylock.toml.

    An index gives `size`; a --find-links file (file:// URL) is measured on disk.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the `lock` extra brings it; render never needs it
        import tomli as tomllib

    out = {}
    for package in tomllib.loads(path.read_text(encoding="utf-8")).get("packages", []):
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        out[name_of(package["name"])] = max((_file_size(f) for f in files), default=0)
    return out


def _file_size(entry: dict) -> int:
    if "size" in entry:
        return int(entry["size"])
    url = urlparse(entry.get("url", ""))
    if url.scheme == "file":
        return Path(unquote(url.path)).stat().st_size
    return 0


def _checked_index(url: str) -> str:
    # A newline or space in a URL would add an option line to the requirements file.
    if not INDEX_URL.fullmatch(url):
        raise LockError(
            f"package_indexes: {redacted(url)!r} is not a plain http(s) URL",
            "use a URL without spaces, quotes or shell characters",
        )
    # The lock records the URL: uv finds the credentials itself (netrc, keyring, environment).
    problem = index_url_problem(url)
    if problem:
        raise LockError(f"package_indexes: {problem}", INDEX_CREDENTIALS_HINT)
    return url


def _checked_requirement(text: str) -> str:
    # A requirements file line can also be an option (--index-url ...): only a parsed, re-spelled
    # PEP 508 pin goes in, and it must spell the same as what the spec said.
    try:
        spelled = normalise(text)
    except InvalidRequirement:
        spelled = None
    if spelled != text or "\n" in text or text.startswith("-"):
        raise LockError(
            f"python_packages: {text!r} is not a plain name==version requirement",
            "write name==version, e.g. numpy==1.26.4",
        )
    return text


def _one_line(stderr: str) -> str:
    parts = [line.strip(" ×╰─▶│|") for line in stderr.splitlines()]
    return "; ".join(p for p in parts if p) or "no message"


def _uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise LockError(
            "`envparity lock` needs uv, which is not installed", "pip install 'envparity[lock]'"
        ) from None
    return find_uv_bin()
