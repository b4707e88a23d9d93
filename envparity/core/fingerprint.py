"""The fingerprint: sha256 of the canonical JSON of the software fields."""

from __future__ import annotations

import hashlib
import json

from envparity.core.model import Software
from envparity.core.schema import fields_with_role

# Fields added to format 1 after its first release, with the value that means "not used":
# left out of the fingerprint at that value, so specs that do not use them keep theirs.
ADDED_LATER = {"cuda_flavor": "runtime", "python_requirements": None}


def software_fields(software: Software) -> dict:
    """The software fields (as the schema names them) with their normalised values."""
    out = {}
    for field in fields_with_role("software"):
        value = getattr(software, field)
        if hasattr(value, "to_json"):
            value = value.to_json()
        out[field] = (
            dict(value) if field == "env" else (list(value) if isinstance(value, tuple) else value)
        )
    return out


def fingerprinted_fields(software: Software) -> dict:
    """`software_fields` without the later fields at their "not used" value."""
    fields = software_fields(software)
    for field, unused in ADDED_LATER.items():
        if fields[field] in (unused, None):
            del fields[field]
    return fields


def canonical_json(data: dict) -> str:
    """Sorted keys, no spaces, UTF-8: the same data always gives the same text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(software: Software) -> str:
    return hashlib.sha256(canonical_json(fingerprinted_fields(software)).encode()).hexdigest()
