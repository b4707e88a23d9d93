"""Signatures (docker, kubernetes): with a stage's trust policy on, each digest that runs must
carry a cosign signature and a provenance attestation of that digest and the spec's software.

The flow verifies them with cosign (`envparity.flows.sign.observe`); a digest it could not
check is a gap there (exit 3), never a finding here.
"""

from __future__ import annotations

from envparity.core.drift.expectations import Expectations, spec_file
from envparity.core.drift.observed import SignatureFacts
from envparity.core.drift.outcome import Outcome
from envparity.core.model import ResolvedStage

VALID = "a valid signature and provenance attestation"


def compare_signatures(
    out: Outcome, env: ResolvedStage, found: tuple[SignatureFacts, ...], exp: Expectations
) -> None:
    """One check or finding per object that runs an image."""
    sign = f"envparity sign {spec_file(env, exp)} --stage {env.stage} --key cosign.key"
    for facts in found:
        out.expect(
            facts.object,
            "signature",
            f"{VALID} under {facts.policy}",
            f"{facts.image}: {facts.problem}",
            f"deploy a signed image, or sign this one if you built it: {sign}",
            same=facts.problem is None,
        )
