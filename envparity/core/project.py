"""The project: its root directory and its environment set, the specs folder.

The project root of a spec (or of the working folder) is the nearest folder at or above it
holding `.git` or `pyproject.toml`; without one, the folder itself. Files a spec names stay
inside it, and the team knowledge snapshot is looked for no higher.

The set is every `*.yaml`/`*.yml` file in the specs folder: `envspecs/` by default, or
`specs-dir` under `[tool.envparity]` in the root's pyproject.toml (the one place to change
it). Repo-level files (stack configs, the drift workflow) are rendered from the whole set,
and name specs by their path relative to the root, never an absolute one.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

from envparity.core.diagnostics import UserError

DEFAULT_SPECS_DIR = "envspecs"
ROOT_MARKERS = (".git", "pyproject.toml")
SETTING = "[tool.envparity] specs-dir"


class ProjectError(UserError):
    """The project's settings or set cannot be used: one line, with what to do."""


def project_root(folder: str | Path) -> Path:
    """The resolved root of the project `folder` is in (see the module's docstring)."""
    here = Path(folder).resolve()
    for directory in (here, *here.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return here


def specs_dir(root: Path) -> Path:
    """The specs folder of the project at `root` (it need not exist)."""
    pyproject = root / "pyproject.toml"
    configured = DEFAULT_SPECS_DIR
    if pyproject.is_file():
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ProjectError(f"{pyproject}: {exc}", "fix the TOML syntax") from None
        configured = data.get("tool", {}).get("envparity", {}).get("specs-dir", configured)
    folder = (root / str(configured)).resolve()
    if not folder.is_relative_to(root.resolve()):
        raise ProjectError(
            f"{pyproject}: {SETTING} = {configured!r} is outside the project",
            "keep the specs in a folder of the repository, e.g. envspecs",
        )
    return folder


def environment_set(root: Path) -> list[Path]:
    """The spec files of the set, sorted; [] when the folder does not exist."""
    folder = specs_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def relative(path: str | Path, root: Path) -> str:
    """`path` relative to the project root, with forward slashes; ProjectError when outside."""
    resolved = Path(path).resolve()
    try:
        return str(PurePosixPath(*resolved.relative_to(root.resolve()).parts))
    except ValueError:
        raise ProjectError(
            f"{path} is outside the project {root.resolve()}",
            f"move it into {DEFAULT_SPECS_DIR}/ (or the folder {SETTING} names)",
        ) from None
