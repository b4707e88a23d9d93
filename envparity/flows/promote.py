"""Move the exact tested image to the next stage, and go back to an earlier one.

Promotion copies the digest recorded for the source stage into the target stage's
repository registry-to-registry (envparity/adapters/registry.py: no rebuild, no Docker engine),
checks the copy's digest and fingerprint label, and records it in the target's stack
config. Rollback puts an earlier recorded digest of the same software back. Both write the
stage's image history in the image ledger (envparity/core/ledger.py); `pulumi up` then
deploys the record.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from envparity.adapters import registry
from envparity.adapters.git import spec_commit
from envparity.core import ledger
from envparity.core.diagnostics import UserError
from envparity.core.drift import targets as drift_targets
from envparity.core.drift.findings import Result, exit_code
from envparity.core.model import ResolvedStage, Spec
from envparity.core.names import FINGERPRINT_LABEL
from envparity.core.resolve import require_stage, resolve
from envparity.flows import sign


class PromotionError(UserError):
    """A promotion or rollback that must not happen, or could not: one line and a hint."""


class NotInSync(PromotionError):
    """`--require-clean-drift` found the source stage drifted (exit 2) or could not check it
    (exit 3); `result` is the drift report to show before the error line."""

    def __init__(self, env: ResolvedStage, result: Result, code: int) -> None:
        super().__init__(
            f"not promoting: stage {env.stage} is not in sync on {result.target}",
            "fix the drift above, or promote without --require-clean-drift",
        )
        self.result, self.exit_code = result, code


@dataclass(frozen=True)
class Moved:
    """What a promotion or rollback recorded: the stage's image before and after."""

    stage: str
    before: ledger.ImageRef | None
    after: ledger.ImageRef
    config: Path


def promote_spec(
    spec: Spec,
    source: str,
    target_stage: str,
    stacks_dir: Path,
    *,
    drift_target: str | None = None,
) -> Moved:
    """Promote `spec`'s image from stage `source` to `target_stage`; with `drift_target`, only
    when a drift check of that target finds the source stage in sync."""
    for stage in (source, target_stage):
        require_stage(spec, stage)
    if source == target_stage:
        raise PromotionError(
            "--from and --to name the same stage", "promote to the next stage, e.g. --to staging"
        )
    source_env, target_env = resolve(spec, source), resolve(spec, target_stage)
    if drift_target is not None:
        require_clean_drift(spec, source_env, drift_target, stacks_dir)
    return promote(
        stacks_dir, source_env, target_env, commit=spec_commit(spec.source), spec=spec.source
    )


def require_clean_drift(spec: Spec, env: ResolvedStage, name: str, stacks_dir: Path) -> None:
    """NotInSync unless a drift check of target `name` finds stage `env` in sync."""
    from envparity.flows.drift_check import Options, check

    drift_targets.target(name, option="--drift-target", among=drift_targets.PROMOTION_GATES)
    result = check(spec, env, name, Options(stacks_dir=stacks_dir))
    code = exit_code([result])
    if code:
        raise NotInSync(env, result, code)


def promote(
    stacks_dir: Path,
    source: ResolvedStage,
    target: ResolvedStage,
    commit: str | None = None,
    spec: str | None = None,
) -> Moved:
    """Copy the image recorded for `source` to `target`'s repository and record it there.

    `spec` is the spec's path as the user gave it, for hints."""
    spec = shlex.quote(spec) if spec else "SPEC"
    spec_hint = f"envparity build {spec} --stage {source.stage} --push"
    found = ledger.recorded(stacks_dir, source)
    if found is None:
        raise PromotionError(
            f"stage {source.stage} has no recorded image of {source.name} "
            f"{source.image_tag} to promote",
            f"build, test and push it first: {spec_hint}",
        )
    if source.image_tag != target.image_tag:
        raise PromotionError(
            f"stage {source.stage} runs another image than {target.stage} would "
            f"({source.image_tag} vs {target.image_tag}): their extra_python_packages differ",
            f"promote between stages with the same extra_python_packages, or build "
            f"{target.stage}: envparity build {spec} --stage {target.stage} --push",
        )
    if not target.registry:
        raise PromotionError(
            f"stage {target.stage} names no registry to promote to",
            f"set stages.{target.stage}.registry in the spec",
        )
    source_repo = registry.Repository.parse(found.repository)
    target_repo = registry.Repository.parse(target.image_repository)
    manifest = registry.get_manifest(source_repo, found.digest)
    if manifest is None:
        raise PromotionError(
            f"{found} no longer exists in {source_repo}",
            f"rebuild and push it: {spec_hint}",
        )
    _check_fingerprint(source_repo, manifest, source)
    # The stage the image enters decides; the source stage signs it (signatures travel along).
    trust, source_trust = (
        sign.policy_of(stacks_dir, target.stage),
        sign.policy_of(stacks_dir, source.stage),
    )
    signed = f"{found.repository}@{found.digest}"
    sign.require_trusted(signed, target, trust, stacks_dir, sign.sign_hint(spec, source.stage))
    copied = registry.copy(source_repo, found.digest, target_repo, target.image_tag)
    again = registry.get_manifest(target_repo, target.image_tag)
    if again is None or again.digest != found.digest or copied.digest != found.digest:
        raise PromotionError(
            f"the copy in {target_repo}:{target.image_tag} has digest "
            f"{again.digest if again else 'none'}, not {found.digest}",
            "check the target registry (it must store manifests unchanged)",
        )
    _check_fingerprint(target_repo, again, target)
    sign.copy_signatures(signed, f"{target.image_ref}", trust, source_trust)
    copy = f"{target.image_repository}@{found.digest}"
    sign.require_trusted(copy, target, trust, stacks_dir, sign.sign_hint(spec, target.stage))
    before = ledger.recorded(stacks_dir, target)
    path = ledger.record_image(
        stacks_dir,
        target.stage,
        target.name,
        target.image_ref,
        found.digest,
        target.fingerprint,
        how="promote",
        commit=commit,
    )
    after = ledger.ImageRef(target.image_repository, target.image_tag, found.digest)
    return Moved(target.stage, before, after, path)


def _check_fingerprint(
    repo: registry.Repository, manifest: registry.Manifest, env: ResolvedStage
) -> None:
    """The image's fingerprint label must be the spec's; for an index, every child's."""
    images = registry.children(repo, manifest) if manifest.is_index else [manifest]
    if not images:
        raise PromotionError(
            f"{repo}@{manifest.digest} is an index that lists no image",
            "push the image again",
        )
    for image in images:
        found = registry.labels(repo, image).get(FINGERPRINT_LABEL)
        if found != env.fingerprint:
            raise PromotionError(
                f"{repo}@{image.digest} carries fingerprint {found or '(none)'}, but the "
                f"spec's software is {env.fingerprint[:12]}",
                "the spec changed since the image was built: build and test it again, then promote",
            )


def history(spec: Spec, stage: str, stacks_dir: Path) -> list[ledger.HistoryEntry]:
    """The images recorded for `spec`'s environment in `stage`, newest first."""
    require_stage(spec, stage)
    return ledger.stage_history(stacks_dir, stage, spec.name)


def rollback_spec(spec: Spec, stage: str, stacks_dir: Path, to: str | None = None) -> Moved:
    """Roll stage `stage` of `spec` back (see `rollback`)."""
    require_stage(spec, stage)
    env = resolve(spec, stage)
    return rollback(stacks_dir, env, to, commit=spec_commit(spec.source), spec=spec.source)


def rollback(
    stacks_dir: Path,
    env: ResolvedStage,
    to: str | None = None,
    commit: str | None = None,
    spec: str | None = None,
) -> Moved:
    """Record the previous (or the named digest's) image of `env`'s software for its stage.

    Only images of the spec's current software (same tag, so same fingerprint) qualify:
    the stack deploys what the spec says, so rolling back to other software means checking
    out the spec it was built from (its commit is in the history).
    """
    spec = shlex.quote(spec) if spec else "SPEC"
    current = ledger.recorded(stacks_dir, env)
    entries = ledger.stage_history(stacks_dir, env.stage, env.name)
    if to is not None:
        chosen = next((e for e in entries if e.image.digest == to), None)
        if chosen is None:
            raise PromotionError(
                f"{to} is not in the image history of {env.name} in stage {env.stage}",
                f"pick one from `envparity history {spec} --stage {env.stage}`",
            )
    else:
        chosen = next(
            (e for e in entries if current is None or e.image.digest != current.digest), None
        )
        if chosen is None:
            raise PromotionError(
                f"stage {env.stage} has no earlier image of {env.name} to roll back to",
                f"see `envparity history {spec} --stage {env.stage}`",
            )
    if chosen.image.tag != env.image_tag:
        raise PromotionError(
            f"{chosen.image} was built from other software than the spec's "
            f"({chosen.image.tag}, the spec is {env.image_tag})",
            f"check out the spec of commit {chosen.commit} and roll back from there",
        )
    repo = registry.Repository.parse(chosen.image.repository)
    if not registry.manifest_exists(repo, chosen.image.digest):
        raise PromotionError(
            f"{chosen.image} no longer exists in {repo}",
            "pick another one from `envparity history`, or rebuild and push",
        )
    sign.require_trusted(
        f"{chosen.image.repository}@{chosen.image.digest}",
        env,
        sign.policy_of(stacks_dir, env.stage),
        stacks_dir,
        sign.sign_hint(spec, env.stage) + f" --digest {chosen.image.digest}",
    )
    path = ledger.record_image(
        stacks_dir,
        env.stage,
        env.name,
        f"{chosen.image.repository}:{chosen.image.tag}",
        chosen.image.digest,
        env.fingerprint,
        how="rollback",
        commit=commit,
    )
    return Moved(env.stage, current, chosen.image, path)
