"""What a verified attestation must say about an image: its digest and the spec's software.

cosign checks that a statement was signed by the trusted key or identity; this module checks
what the statement claims: its subject is the image's digest (cosign's own subject, so a
record copied into another image does not carry over) and its SLSA predicate is an envparity
build of the spec's fingerprint. Pure: the cosign process is `envparity.adapters.cosign`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from envparity.core.provenance import PREDICATE_TYPE

ATTESTATION_TYPE = "slsaprovenance1"  # cosign's --type for PREDICATE_TYPE


def attestation_problem(
    statements: Iterable[Mapping[str, Any]], digest: str, fingerprint: str
) -> str | None:
    """None when one statement names `digest` as its subject and carries `fingerprint`;
    otherwise what the closest one says instead."""
    want = digest.removeprefix("sha256:")
    problem = "no SLSA provenance attestation"
    for statement in statements:
        if statement.get("predicateType") != PREDICATE_TYPE:
            continue
        subjects = [
            (s.get("digest") or {}).get("sha256")
            for s in statement.get("subject") or ()
            if isinstance(s, Mapping)
        ]
        if want not in subjects:
            problem = f"the attestation's subject is sha256:{', sha256:'.join(map(str, subjects))}"
            continue
        found = _fingerprint(statement)
        if found == fingerprint:
            return None
        problem = f"the attestation is of fingerprint {found or '(none)'}, not {fingerprint[:12]}"
    return problem


def _fingerprint(statement: Mapping[str, Any]) -> str | None:
    try:
        return statement["predicate"]["buildDefinition"]["externalParameters"]["fingerprint"]
    except (KeyError, TypeError):
        return None
