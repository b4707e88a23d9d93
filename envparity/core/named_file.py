"""Files a spec names (python_requirements): read inside the project only, bounded, never a device.

A spec is input from whoever can open a pull request, and `render`, `lock` and the hooks load
every spec of the set: a file one names must not make envparity read outside the repository
(/etc/shadow, /proc/self/environ), block on a FIFO or fill memory from /dev/zero. So a named
file is read only when its real path is inside the spec's project root (`project_root`), it
is a regular file (`lstat` before opening, `fstat` after, opened with O_NOFOLLOW and
O_NONBLOCK so a swapped-in link or FIFO cannot slip through) of at most MAX_BYTES, and UTF-8.
A refusal says which rule was broken; it never shows what the file holds.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from envparity.core.diagnostics import Diagnostic
from envparity.core.project import ROOT_MARKERS, project_root

MAX_BYTES = 1 << 20  # 1 MiB: pip requirements files of real projects are a few KiB
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
_KINDS = {
    stat.S_ISDIR: "a directory",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
    stat.S_ISLNK: "a symbolic link",
}
_INSIDE_HINT = (
    "name a regular file inside the project, relative to the spec's folder "
    f"(the project is the nearest folder above the spec holding {' or '.join(ROOT_MARKERS)})"
)

_MISSING_HINT = "give the path of a file relative to the spec's folder"
REGULAR_HINT = "give a regular file (not a directory, device or FIFO)"

Reader = Callable[[str], "str | None"]


def read(
    spec_file: str, relative: str, field: tuple, shown: str, reader: Reader | None = None
) -> tuple[str | None, Diagnostic | None]:
    """(text, None), or (None, the refusal at `field`) of the file `relative` to the spec's folder.

    `reader(relative)` stands in for the disk (a file at a git ref); only the rules on the
    path and the size then apply, as it reads no device.
    """
    folder = Path(spec_file).parent if spec_file != "<spec>" else Path.cwd()
    root = project_root(folder)

    def refused(message: str, hint: str = _INSIDE_HINT) -> tuple[None, Diagnostic]:
        return None, Diagnostic(f"{shown} {message}", field, hint)

    if "\0" in relative:
        return refused("holds a NUL character, which no file name can")
    written = Path(os.path.normpath(folder.resolve() / relative))
    if not written.is_relative_to(root):
        return refused(f"is outside the project {root}")
    if reader is not None:
        text = reader(relative)
        if text is None:
            return refused(
                "does not exist", "give the path of a file relative to the spec's folder"
            )
        size = len(text.encode("utf-8", "surrogatepass"))
        return refused(*_too_large(size, MAX_BYTES)) if size > MAX_BYTES else (text, None)
    try:
        real = (folder / relative).resolve(strict=True)
    except FileNotFoundError:
        return refused("does not exist", _MISSING_HINT)
    except (OSError, RuntimeError):  # a loop of symbolic links, or a name too long
        return refused("cannot be followed to a file (a loop of symbolic links?)")
    if not real.is_relative_to(root):
        return refused("is a symbolic link to a file outside the project")
    try:
        data = read_regular(real)
    except Unreadable as exc:
        return refused(exc.args[0], exc.args[1])
    except OSError as exc:
        return refused(f"cannot be read: {exc.strerror}", "check its permissions")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return refused(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start})", "save it as UTF-8 text"
        )


class Unreadable(Exception):
    """Not a file to read: Unreadable(what it is, what to do)."""


def read_regular(path: Path, limit: int = MAX_BYTES, *, follow: bool = False) -> bytes:
    """The bytes of the regular file `path` of at most `limit` bytes; Unreadable otherwise.

    `follow`: `path` may be a symbolic link (to a regular file); else it must be resolved.
    """
    before = path.stat() if follow else path.lstat()
    kind = _not_regular(before.st_mode)
    if kind is None and before.st_size > limit:
        raise Unreadable(*_too_large(before.st_size, limit))
    if kind is None:
        fd = os.open(path, _FLAGS & ~(_NOFOLLOW if follow else 0))
        try:
            kind = _not_regular(os.fstat(fd).st_mode)  # replaced since the stat
            chunks, size = [], 0
            while kind is None and size <= limit:
                chunk = os.read(fd, limit + 1 - size)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if kind is None:  # it grew past the limit since the stat
            raise Unreadable(*_too_large(size, limit))
    raise Unreadable(f"is {kind}, not a regular file", REGULAR_HINT)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS.items() if test(mode)), "of an unknown kind")


def _too_large(size: int, limit: int) -> tuple[str, str]:
    return (
        f"is {size} bytes, more than the {limit} bytes ({limit >> 20} MiB) envparity reads",
        "keep it to what this environment needs",
    )
