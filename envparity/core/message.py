"""A problem is one line of text, whatever value it quotes."""

from __future__ import annotations

import re
from dataclasses import replace

from envparity.core.diagnostics import Diagnostic

# What ends a line for str.splitlines or a terminal: C0 controls, DEL, NEL, U+2028, U+2029.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def escaped(text: str) -> str:
    """`text` with each such character written as Python escapes it (\\r, \\x00)."""
    return _BREAKS.sub(lambda m: repr(m[0])[1:-1], text)


def one_line(d: Diagnostic) -> Diagnostic:
    """`d` with its message and hint escaped: a rule may quote a value as written."""
    if not _BREAKS.search(d.message + (d.hint or "")):
        return d
    return replace(d, message=escaped(d.message), hint=d.hint and escaped(d.hint))
