"""What went wrong in a build, a verification or a push, said in one line the user can act on.

The Docker SDK's exceptions are walls of text; these helpers keep the reason and drop the
noise. `BuildError` is raised by the engine (`docker_build`) and by the build context
(`build_context`: the wheelhouse), so it lives apart from both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from envparity.core.diagnostics import UserError

# Socket and network failures worth naming alone (the rest of the message is noise).
KNOWN_REASONS = (
    "connection refused",
    "no such file or directory",
    "permission denied",
    "timed out",
    "name or service not known",
)


class BuildError(UserError):
    """A build, verify or push that failed for a reason the user can act on: one line, a hint,
    and optionally the last lines of output that explain it."""

    def __init__(self, message: str, hint: str | None = None, output: Iterable[str] = ()) -> None:
        super().__init__(message, hint)
        self.output = tuple(output)

    def format(self) -> str:
        """The output lines that explain it (`  | line`), then the error line."""
        return "".join(f"  | {line}\n" for line in self.output) + super().format()


def push_error(ref: str, message: str) -> BuildError:
    """The error of a refused push: denied, registry unreachable, or else."""
    text = one_line(message)
    registry = ref.split("/", 1)[0]
    if re.search(
        r"denied|unauthorized|authentication required|no basic auth credentials|forbidden",
        text,
        re.I,
    ):
        return BuildError(
            f"push of {ref} denied by {registry}: {text}",
            f"log in with `docker login {registry}` as a user allowed to push there",
        )
    if re.search(r"connection refused|no such host|dial tcp|timeout|i/o timeout|EOF", text, re.I):
        return BuildError(
            f"registry {registry} unreachable while pushing {ref}: {text}",
            "check the stage's registry: address and that the registry runs",
        )
    return BuildError(f"push of {ref} failed: {text}", "check the registry's log")


def step_hint(step_text: str) -> str:
    """What to do about a build step that failed, by what the step runs."""
    if "pip install" in step_text:
        return (
            "a package could not be installed: is the lock fresh (`envparity lock`) and does "
            "--wheelhouse hold a wheel for every pin?"
        )
    if "python --version" in step_text:
        return "use a base image that provides the spec's Python, or change python: in the spec"
    return "see the step's output above"


def reason(exc: BaseException) -> str:
    """A one-line reason from a docker / requests exception (their str() is a wall of text)."""
    text = getattr(exc, "explanation", None) or str(exc)
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    lowered = text.lower()
    for known in KNOWN_REASONS:
        if known in lowered:
            return known
    return short(text, 300)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def short(text: str, width: int = 80) -> str:
    text = one_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"
