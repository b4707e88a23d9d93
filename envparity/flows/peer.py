"""`envparity import`: a spec drafted from a Cog, Truss or BentoML file, and validated."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from envparity.core.diagnostics import Diagnostic, SpecError


@dataclass(frozen=True)
class Draft:
    """The drafted spec's text and the problems validating it found (warnings included)."""

    text: str
    problems: list[Diagnostic]

    @property
    def valid(self) -> bool:
        return not any(d.severity == "error" for d in self.problems)


def draft_spec(path: Path, output: Path | None = None) -> Draft:
    """Draft a spec from the peer file `path`, to be saved as `output` (None: printed)."""
    from envparity.core.peer_import import import_file
    from envparity.core.spec import parse_spec

    draft = import_file(path)
    path = Path(draft.source)  # the peer file, also when a folder was given
    # python_requirements is relative to the folder the spec will be in: the output's, else
    # the peer file's (print it, save it beside the peer file).
    folder = output.parent if output else path.parent
    if "python_requirements" in draft.fields:
        peer_relative = path.parent / draft.fields["python_requirements"]
        draft.fields["python_requirements"] = os.path.relpath(peer_relative, folder)
    text = draft.to_yaml()
    shown = str(output) if output else str(folder / f"{draft.fields['name']}.envspec.yaml")
    try:
        problems = list(parse_spec(text, shown).warnings)  # python_requirements beside `shown`
    except SpecError as exc:
        problems = exc.diagnostics
    return Draft(text, [*draft.problems, *problems])  # what the spec could not say, first
