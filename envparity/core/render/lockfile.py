"""Hashed lock files, made by uv (`uv pip compile --generate-hashes`): never a resolver of ours.

Where they live: beside the spec, committed with it. `envspecs/train.yaml` has
`envspecs/train.lock` (the shared image's closure) and, for each stage that adds
packages, `envspecs/train.<stage>.lock` (only what that stage adds, resolved together
with the shared pins so the two agree). `render` copies them into the build context as
`requirements.lock` and `requirements.<stage>.lock`.

Freshness: each lock's header carries `envparity-lock-inputs: <sha256>`, a digest of
exactly what the resolution depends on (Python version, platform, pins, indexes, and
for a stage lock its extra packages). A lock whose digest differs from the spec's is
stale. Changes that do not affect resolution (env, OS packages, version) keep it fresh.

Sizes: each package of the shared lock carries `# envparity-wheel-bytes: <n>`, the size of
the largest file the index (or --find-links folder) offers for the pinned version, as uv's
pylock.toml output reports it. The Dockerfile's dependency layers are grouped by it
(`envparity.core.render.layers`).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement

from envparity.core.model import Spec
from envparity.core.render.dockerfile import RenderError
from envparity.core.requirements import name_of, normalise

# The images are linux/amd64 with glibc >= 2.31 (Debian 12, Ubuntu 20.04+); manylinux_2_28
# wheels run on all of them.
PLATFORM = "x86_64-manylinux_2_28"
INPUTS_KEY = "# envparity-lock-inputs: "
INDEX_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!%+=,-]+")
BASE = ""  # the key of the shared lock in the maps below; stage locks use the stage name
SIZE_KEY = "    # envparity-wheel-bytes: "


class LockError(RenderError):
    """uv could not make the lock, or a lock is missing or stale."""


@dataclass(frozen=True)
class LockFile:
    key: str  # BASE or a stage name
    path: Path  # beside the spec
    context_name: str  # its name in the build context

    @property
    def label(self) -> str:
        return "shared" if self.key == BASE else self.key


def lock_files(spec: Spec) -> list[LockFile]:
    """The lock files `spec` needs: the shared one, then one per stage that adds packages."""
    source = Path(spec.source)
    out = [LockFile(BASE, source.with_suffix(".lock"), "requirements.lock")]
    for stage, own in spec.stages.items():
        if own.extra_python_packages:
            out.append(
                LockFile(stage, source.with_suffix(f".{stage}.lock"), f"requirements.{stage}.lock")
            )
    return out


def inputs_digest(spec: Spec, key: str = BASE) -> str:
    """sha256 of what the resolution of lock `key` depends on."""
    sw = spec.software
    data = {
        "python": sw.python,
        "platform": PLATFORM,
        "packages": list(sw.python_packages),
        "indexes": list(sw.package_indexes),
    }
    if key != BASE:
        data["extra"] = list(spec.stages[key].extra_python_packages)
    if sw.python_requirements is not None:  # only then, so existing locks stay fresh
        data["index_url"] = sw.python_requirements.index_url
        data["hashes"] = dict(sw.python_requirements.hashes)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def recorded_digest(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(INPUTS_KEY):
            return line[len(INPUTS_KEY) :].strip()
    return None


def is_fresh(spec: Spec, key: str, text: str) -> bool:
    return recorded_digest(text) == inputs_digest(spec, key)


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
        body = _only_allowed_hashes(body, dict(from_file.hashes))
    locks = {BASE: _with_sizes(body, sizes)}
    shared = blocks(locks[BASE])
    constraints = [block.splitlines()[0].rstrip(" \\") for block in shared.values()]
    for lock in lock_files(spec)[1:]:
        extra = [_checked_requirement(r) for r in spec.stages[lock.key].extra_python_packages]
        body = _compile(uv, packages + extra, constraints, sw.python, indexes, find_links, no_index)
        added = {name: block for name, block in blocks(body).items() if name not in shared}
        locks[lock.key] = "".join(added.values())
    return {key: _header(spec, key, indexes) + body for key, body in locks.items()}


def write_locks(spec: Spec, texts: dict[str, str]) -> list[Path]:
    """Write the lock texts beside the spec (atomically); return the paths written."""
    from envparity.core.render.files import write_atomic

    paths = []
    for lock in lock_files(spec):
        write_atomic(lock.path, texts[lock.key].encode())
        paths.append(lock.path)
    return paths


# --- helpers -----------------------------------------------------------------------------


def _header(spec: Spec, key: str, indexes: list[str]) -> str:
    what = "the shared image" if key == BASE else f"what the {key} stage adds"
    lines = [
        f"# Lock for {what}, made by `envparity lock` with uv for Python "
        f"{spec.software.python} on {PLATFORM}: do not edit.",
        f"{INPUTS_KEY}{inputs_digest(spec, key)}",
    ]
    lines += [url if url.startswith("--") else f"--extra-index-url {url}" for url in indexes]
    return "\n".join(lines) + "\n"


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


def _with_sizes(lock_body: str, sizes: dict[str, int]) -> str:
    """`lock_body` with each package's size as the last line of its block."""
    return "".join(
        block + f"{SIZE_KEY}{sizes.get(name, 0)}\n" for name, block in blocks(lock_body).items()
    )


def wheel_bytes(block: str) -> int:
    """The size recorded in one package's lock block (0 in a lock made before sizes were)."""
    for line in block.splitlines():
        if line.startswith(SIZE_KEY):
            return int(line[len(SIZE_KEY) :])
    return 0


def _only_allowed_hashes(body: str, allowed: dict[str, tuple[str, ...]]) -> str:
    """Keep only the file hashes the requirements file lists for a pin, as pip accepts only those.

    A pin none of whose locked files has a listed hash is a LockError: pip would refuse it.
    """
    by_name = {name_of(pin): set(hashes) for pin, hashes in allowed.items()}
    out = []
    for name, block in blocks(body).items():
        if name not in by_name:
            out.append(block)
            continue
        lines = block.splitlines()
        pin = lines[0].rstrip(" \\")
        kept = [h for h in (ln.strip(" \\") for ln in lines[1:]) if h.startswith("--hash=")]
        kept = [h for h in kept if h.removeprefix("--hash=") in by_name[name]]
        if not kept:
            raise LockError(
                f"python_requirements: no file of {pin} has one of the "
                "--hash values the requirements file lists",
                "update the hashes (`pip hash FILE`), or the pin",
            )
        notes = [ln for ln in lines[1:] if ln.strip().startswith("#")]
        hashes = [f"    {h} \\" for h in kept[:-1]] + [f"    {kept[-1]}"]
        out.append("\n".join([pin + " \\", *hashes, *notes]) + "\n")
    return "".join(out)


def blocks(lock_body: str) -> dict[str, str]:
    """A uv lock body split into one text block per package, keyed by its normalised name."""
    out: dict[str, str] = {}
    current = None
    for line in lock_body.splitlines(keepends=True):
        if line.strip() and not line[0].isspace() and not line.startswith(("#", "-")):
            current = name_of(line.split(" ")[0].split(";")[0].strip())
            out[current] = ""
        if current is not None:
            out[current] += line
    return out


def _checked_index(url: str) -> str:
    # A newline or space in a URL would add an option line to the requirements file.
    if not INDEX_URL.fullmatch(url):
        raise LockError(
            f"package_indexes: {url!r} is not a plain http(s) URL",
            "use a URL without spaces, quotes or shell characters",
        )
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
