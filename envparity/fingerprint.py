"""The fingerprint: sha256 of the canonical JSON of the software fields."""

from __future__ import annotations

import hashlib
import json

from envparity.model import Software
from envparity.schema import fields_with_role


def software_fields(software: Software) -> dict:
    """The software fields (as the schema names them) with their normalised values."""
    out = {}
    for field in fields_with_role("software"):
        value = getattr(software, field)
        out[field] = (
            dict(value) if field == "env" else (list(value) if isinstance(value, tuple) else value)
        )
    return out


def canonical_json(data: dict) -> str:
    """Sorted keys, no spaces, UTF-8: the same data always gives the same text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(software: Software) -> str:
    return hashlib.sha256(canonical_json(software_fields(software)).encode()).hexdigest()
