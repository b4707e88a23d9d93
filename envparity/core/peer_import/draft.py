"""The spec being drafted from a peer file, and the error a peer file can cause."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from envparity.core.diagnostics import Diagnostic, UserError

DEFAULT_PYTHON = "3.11"  # when the peer file names none (BentoML: the Python of `bentoml build`)
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a spec's stage secrets accept


class PeerFileError(UserError):
    """A peer file envparity cannot read: one line plus a hint."""


@dataclass
class Draft:
    """The spec being written: fields in spec order, and comments for what was not carried."""

    peer: str
    source: str
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # resolved implicitly: said at the top
    lost: list[str] = field(default_factory=list)  # not carried over: said at the end
    problems: list[Diagnostic] = field(default_factory=list)  # what makes the import fail

    def refuse(self, message: str, hint: str) -> None:
        """An error about the peer file itself (the drafted spec cannot say what it means)."""
        self.problems.append(Diagnostic(message, (), hint, file=self.source))

    def to_yaml(self) -> str:
        # Comment text is folded to one line: a value with a line break cannot add a field.
        head = [f"# Imported by `envparity import` from the {self.peer} file {fold(self.source)}."]
        head += [f"# {fold(line)}" for line in self.notes]
        body = [dump({key: value}) for key, value in self.fields.items()]
        tail = ["", "# Not carried over from the peer file:"] if self.lost else []
        tail += [f"#   {fold(line)}" for line in self.lost]
        return "\n".join(head) + "\n" + "".join(body) + "\n".join(tail) + ("\n" if tail else "")


def fold(text: str) -> str:
    return " ".join(text.split())


def dump(value: dict) -> str:
    return yaml.safe_dump(
        value, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
