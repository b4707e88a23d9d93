"""git, run as a process: the commit a spec was built from, a spec's text at an earlier ref.

The core reads neither (docs/architecture.md): the provenance record takes a `GitState`,
versioning takes the old spec's text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from envparity.core.diagnostics import Diagnostic, SpecError
from envparity.core.provenance import GitState


def git_state(path: Path) -> GitState | None:
    """The commit of the repository holding spec `path`, and whether the spec or its locks
    differ from it (uncommitted or untracked). Other files, such as the stack configs that
    build, promote and rollback write, do not make it dirty: the image is made from these."""
    where = path.resolve().parent
    stem = path.name.rsplit(".", 1)[0]
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            [
                "git",
                "-C",
                str(where),
                "status",
                "--porcelain",
                "--untracked-files=all",
                "--",
                path.name,
                f"{stem}.lock",
                f"{stem}.*.lock",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a git repository, or git is not installed
    return GitState(commit, bool(status.strip()))


def spec_commit(spec_path: str) -> str | None:
    """`str(GitState)` of the spec's repository, None outside git (for the image history)."""
    state = git_state(Path(spec_path))
    return None if state is None else str(state)


def show(path: Path, ref: str) -> str | None:
    """The file's text at `ref`, None when it did not exist there; SpecError when git cannot say."""
    where = path.resolve().parent
    try:
        verify = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpecError(
            [
                Diagnostic(
                    f"cannot run git: {exc}", file=str(path), hint="install git, or drop --against"
                )
            ]
        ) from None
    if verify.returncode != 0:
        raise SpecError(
            [
                Diagnostic(
                    f"'{ref}' is not a git commit, branch or tag here",
                    file=str(path),
                    hint="pass a ref that `git rev-parse` knows, e.g. origin/main",
                )
            ]
        )
    shown = subprocess.run(
        ["git", "-C", str(where), "show", f"{ref}:./{path.name}"], capture_output=True, timeout=30
    )
    if shown.returncode != 0:
        return None
    return shown.stdout.decode("utf-8", errors="replace")
