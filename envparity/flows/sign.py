"""Sign a stage's recorded image with cosign, and check images against a stage's trust policy.

`envparity sign` signs the digest `build --push` recorded and attaches the image's provenance
statement as a signed attestation whose subject is that digest. Promotion, rollback and the
docker and kubernetes drift targets check the stage's trust policy
(`envparity.core.stack_settings.TrustPolicy`) through `cosign verify` and
`cosign verify-attestation`, then what the attestation claims
(`envparity.core.signature`). docs/promotion.md, "Signing and verification".
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, replace
from pathlib import Path

from envparity.adapters import cosign
from envparity.core import ledger
from envparity.core.diagnostics import UserError
from envparity.core.drift.findings import Unchecked
from envparity.core.drift.observed import Observation, SignatureFacts
from envparity.core.model import ResolvedStage, Spec
from envparity.core.provenance import parse
from envparity.core.resolve import require_stage, resolve
from envparity.core.signature import attestation_problem
from envparity.core.stack_settings import COSIGN_KEY, TrustPolicy, trust_policy

DOCS = "docs/promotion.md, 'Signing and verification'"


class UntrustedImage(UserError):
    """An image the stage's trust policy does not accept: one line naming both, and a hint."""


class SignError(UserError):
    """`envparity sign` cannot sign: no recorded image, no key, a record of other software."""


@dataclass(frozen=True)
class Signed:
    image: str  # repository@sha256:...
    verified: TrustPolicy | None  # the stage's policy, when it verified the new signature


def policy_of(stacks_dir: Path, stage: str) -> TrustPolicy:
    """Stage `stage`'s trust policy from its stack config (off when the file does not exist)."""
    config = ledger.read_stack_config(ledger.stack_config_path(stacks_dir, stage))
    return trust_policy(stage, config.get)


def verifier(policy: TrustPolicy, stacks_dir: Path) -> cosign.Verifier:
    """The policy as cosign verifies it; a key file is relative to the project root (where
    Pulumi.yaml is, the stacks folder's parent), a KMS URI is passed on."""
    key = policy.key
    if key and "://" not in key:
        key = str((stacks_dir.parent / key).resolve())
    return cosign.Verifier(key, policy.identity, policy.issuer)


def problem(
    image: str, env: ResolvedStage, policy: TrustPolicy, stacks_dir: Path, timeout: float = 60
) -> str | None:
    """None when `image` (`repository@sha256:...`) is trusted by `policy` as a build of `env`'s
    software; otherwise why not. CosignError when it could not be checked."""
    digest = image.rpartition("@")[2]
    verified = cosign.verify(image, verifier(policy, stacks_dir), timeout)
    if verified.rejected is not None:
        return verified.rejected
    return attestation_problem(verified.statements, digest, env.fingerprint)


def require_trusted(
    image: str, env: ResolvedStage, policy: TrustPolicy, stacks_dir: Path, hint: str
) -> None:
    """UntrustedImage unless `policy` accepts `image` (nothing to check when it is off)."""
    if not policy.required:
        return
    why = problem(image, env, policy, stacks_dir)
    if why is not None:
        raise UntrustedImage(f"{image} is not trusted by {policy}: {why}", f"{hint} ({DOCS})")


def sign_hint(spec: str, stage: str) -> str:
    """How to sign stage `stage`'s recorded image (`spec` as the shell needs it)."""
    return f"sign it: envparity sign {spec} --stage {stage} --key cosign.key"


def copy_signatures(image: str, target: str, *policies: TrustPolicy) -> None:
    """Carry `image`'s signatures to its promoted copy `target` when a stage on the way
    checks them (without a policy envparity never needs cosign)."""
    if any(p.required for p in policies):
        cosign.copy_signatures(image, target)


def sign_spec(
    spec: Spec, stage: str, stacks_dir: Path, key: str | None, digest: str | None = None
) -> Signed:
    """Sign the image recorded for `spec`'s stage (or the one of `digest` in its history)."""
    require_stage(spec, stage)
    env = resolve(spec, stage)
    image = _image_to_sign(spec, env, stacks_dir, digest)
    record = _record(image)
    found = parse(record, image)
    if found.fingerprint != env.fingerprint:
        raise SignError(
            f"{image} was built from fingerprint {found.fingerprint[:12]}, not the spec's "
            f"{env.fingerprint[:12]}",
            "sign only images of the spec's software: build and push it again",
        )
    policy = policy_of(stacks_dir, stage)
    cosign.sign(image, _signing_key(key, policy), record["predicate"])
    if not policy.required:
        return Signed(image, None)
    who = f"the private key of {policy.key}" if policy.key else f"the identity {policy.identity}"
    require_trusted(image, env, policy, stacks_dir, f"sign with {who}")
    return Signed(image, policy)


def _image_to_sign(spec: Spec, env: ResolvedStage, stacks_dir: Path, digest: str | None) -> str:
    build = f"envparity build {shlex.quote(spec.source)} --stage {env.stage} --push"
    if digest is None:
        found = ledger.recorded(stacks_dir, env)
        if found is None:
            raise SignError(
                f"stage {env.stage} has no recorded image of {env.name} {env.image_tag} to sign",
                f"build and push it first: {build}",
            )
        return f"{found.repository}@{found.digest}"
    entry = next(
        (
            e
            for e in ledger.stage_history(stacks_dir, env.stage, env.name)
            if e.image.digest == digest
        ),
        None,
    )
    if entry is None:
        raise SignError(
            f"{digest} is not in the image history of {env.name} in stage {env.stage}",
            f"pick one from `envparity history {shlex.quote(spec.source)} --stage {env.stage}`",
        )
    return f"{entry.image.repository}@{entry.image.digest}"


def _record(image: str) -> dict:
    """The provenance record in `image`: from the local engine, else from its registry."""
    from envparity.adapters.docker_build import connect
    from envparity.adapters.provenance_image import read_from_image
    from envparity.adapters.registry import read_provenance
    from envparity.core.provenance import ImageMissing, ProvenanceError

    try:
        return read_from_image(connect(), image)
    except ImageMissing:
        record = read_provenance(image)  # not pulled: its last layer, from the registry
    if record is None:
        raise ProvenanceError(
            f"image {image} has no provenance record to attest",
            "rebuild it with `envparity build` (images built before provenance have none)",
        )
    return record


def _signing_key(key: str | None, policy: TrustPolicy) -> str | None:
    """--key, else the policy's KMS key (one URI signs and verifies), else keyless when the
    policy names an identity; SignError when there is nothing to sign with."""
    if key:
        return key
    if "://" in policy.key:
        return policy.key
    if policy.identity:
        return None
    raise SignError(
        f"no key to sign stage {policy.stage}'s image with",
        f"pass --key cosign.key (a private key file or KMS URI), or set {COSIGN_KEY} to a "
        "KMS URI, or a keyless identity in the stage's stack config",
    )


def observe(
    target: str,
    env: ResolvedStage,
    images: list[tuple[str, str | None]],
    policy: TrustPolicy,
    stacks_dir: Path,
    observation: Observation,
    timeout: float,
) -> Observation:
    """`observation` with the signature verdict of each (object, `repository@digest` or None
    when it runs by no registry digest); what cosign could not check is a gap (exit 3)."""
    deadline = time.monotonic() + timeout
    found: list[SignatureFacts] = []
    gaps: list[Unchecked] = []
    for obj, image in images:
        if image is None:
            found.append(
                SignatureFacts(
                    obj,
                    obj,
                    str(policy),
                    "runs by no registry digest (never pushed, or not pinned)",
                )
            )
            continue
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise cosign.CosignError(f"the {timeout:.0f} s were spent", None)
            why = problem(image, env, policy, stacks_dir, left)
        except cosign.CosignError as exc:
            gaps.append(
                Unchecked(
                    target,
                    f"{obj} signature",
                    f"could not verify {image}: {exc.message}",
                    f"install cosign and reach the registry, or raise --timeout ({DOCS})",
                )
            )
            continue
        found.append(SignatureFacts(obj, image, str(policy), why))
    return replace(
        observation, signatures=tuple(found), unchecked=observation.unchecked + tuple(gaps)
    )
