"""`envparity validate --against REF`: the spec against the same file at a git ref."""

from __future__ import annotations

from pathlib import Path

from envparity.adapters import git
from envparity.core.diagnostics import Diagnostic
from envparity.core.model import Spec
from envparity.core.versioning import check_bump


def check_against(new: Spec, ref: str) -> list[Diagnostic]:
    """Compare `new` with the same file at git `ref`; a missing file there is a new environment."""
    from envparity.core.spec import parse_spec_unchecked

    text = git.show(Path(new.source), ref)
    if text is None:
        return []
    beside = Path(new.source).parent
    old = parse_spec_unchecked(
        text,
        f"{ref}:{new.source}",
        read=lambda relative: git.show(beside / relative, ref),
        tables=new.tables,  # judged with the same knowledge as the spec it is compared with
    )
    return check_bump(new, old, ref)
