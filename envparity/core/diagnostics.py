"""Errors and warnings about a spec, as data: rendering them as text is a separate step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

Path = tuple  # a JSON path into the spec: ("stages", "production", "python")


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec: what, where, and how to fix it."""

    message: str
    path: Path = ()
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    at_key: bool = field(default=False, compare=False)  # point at the key of `path`, not its value

    @property
    def dotted_path(self) -> str:
        return dotted(self.path)

    def located(self, file: str, line: int | None, column: int | None) -> Diagnostic:
        return replace(self, file=file, line=line, column=column)

    def format(self) -> str:
        """`file:line:col: severity: path: message (hint: ...)` on one line."""
        where = ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)
        text = f"{self.dotted_path}: {self.message}" if self.path else self.message
        head = f"{where}: {self.severity}: {text}" if where else f"{self.severity}: {text}"
        return f"{head} (hint: {self.hint})" if self.hint else head

    def to_json(self) -> dict:
        data = asdict(self)
        data["path"] = self.dotted_path
        del data["at_key"]
        return data


def dotted(path: Iterable) -> str:
    """("stages", "prod", "gpus", 0) -> "stages.prod.gpus[0]"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class UserError(Exception):
    """A mistake the user can fix: one line, what to do about it, and the exit code it ends with.

    Every error a user can cause derives from this class. Raise it where the mistake is found;
    nothing re-wraps it, and the CLI prints `format()` once and exits with `exit_code`
    (docs/architecture.md, "One error path").
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return self.message + (f" (hint: {self.hint})" if self.hint else "")

    def format(self) -> str:
        """What the CLI prints on stderr."""
        return f"error: {self}"


class SpecError(UserError):
    """Raised when a spec cannot be used; carries every diagnostic found, warnings included."""

    def __init__(self, diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    def __str__(self) -> str:
        return self.message

    def format(self) -> str:
        return self.message

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]
