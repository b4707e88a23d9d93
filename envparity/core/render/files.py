"""Writing generated files: atomically, only when they changed, and checking for stale ones."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path


def write_atomic(path: Path, content: bytes) -> None:
    """Write `content` to `path` through a temp file in the same directory and os.replace.

    A reader (docker build, an editor, a concurrent render) sees the old file or the new
    one, never half of one. No fsync: these files are derived and cheap to render again
    after a power loss, and an fsync per file made rendering 500 specs 6x slower.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name opened with O_EXCL: cheaper than mkstemp + chmod, and the mode follows
    # the umask like any file the user creates.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def stale_files(directory: Path, files: Mapping[str, bytes]) -> list[str]:
    """Relative paths in `files` whose copy under `directory` is missing or different."""
    stale = []
    for relative, content in sorted(files.items()):
        try:
            current = (directory / relative).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            current = None
        if current != content:
            stale.append(relative)
    return stale


def write_files(directory: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write each changed file of `files` under `directory`; return the ones written."""
    written = stale_files(directory, files)
    for relative in written:
        write_atomic(directory / relative, files[relative])
    return written
