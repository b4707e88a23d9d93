"""Move the exact tested image to the next stage, and go back to an earlier one.

Promotion copies the digest recorded for the source stage into the target stage's
repository registry-to-registry (envparity/adapters/registry.py: no rebuild, no Docker engine),
checks the copy's digest and fingerprint label, and records it in the target's stack
config. Rollback puts an earlier recorded digest of the same software back. Both write the
stage's image history (`envparity:imageHistory`); `pulumi up` then deploys the record.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from envparity.adapters import registry
from envparity.core.diagnostics import UserError
from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_LABEL
from envparity.core.render import stack_config as sc


class PromotionError(UserError):
    """A promotion or rollback that must not happen, or could not: one line and a hint."""


@dataclass(frozen=True)
class Moved:
    """What a promotion or rollback recorded: the stage's image before and after."""

    stage: str
    before: sc.ImageRef | None
    after: sc.ImageRef
    config: Path


def recorded(stacks_dir: Path, env: ResolvedStage) -> sc.ImageRef | None:
    """The image recorded for exactly `env`'s software in its stage's stack config."""
    return sc.recorded_image(_images(_config(stacks_dir, env.stage)), env)


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
    found = recorded(stacks_dir, source)
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
    copied = registry.copy(source_repo, found.digest, target_repo, target.image_tag)
    again = registry.get_manifest(target_repo, target.image_tag)
    if again is None or again.digest != found.digest or copied.digest != found.digest:
        raise PromotionError(
            f"the copy in {target_repo}:{target.image_tag} has digest "
            f"{again.digest if again else 'none'}, not {found.digest}",
            "check the target registry (it must store manifests unchanged)",
        )
    _check_fingerprint(target_repo, again, target)
    before = recorded(stacks_dir, target)
    path = sc.record_image(
        stacks_dir,
        target.stage,
        target.name,
        target.image_ref,
        found.digest,
        target.fingerprint,
        how="promote",
        commit=commit,
    )
    after = sc.ImageRef(target.image_repository, target.image_tag, found.digest)
    return Moved(target.stage, before, after, path)


def _check_fingerprint(
    repo: registry.Repository, manifest: registry.Manifest, env: ResolvedStage
) -> None:
    if manifest.media_type in registry.INDEXES:
        return  # an index has no config; its children were built by envparity with the label
    labels = (registry.image_config(repo, manifest).get("config") or {}).get("Labels") or {}
    found = labels.get(FINGERPRINT_LABEL)
    if found != env.fingerprint:
        raise PromotionError(
            f"{repo}@{manifest.digest} carries fingerprint {found or '(none)'}, but the spec's "
            f"software is {env.fingerprint[:12]}",
            "the spec changed since the image was built: build and test it again, then promote",
        )


def history(stacks_dir: Path, stage: str, name: str) -> list[sc.HistoryEntry]:
    """The images recorded for environment `name` in `stage`, newest first."""
    try:
        return sc.history(_config(stacks_dir, stage), name)
    except sc.StackConfigError as exc:
        raise PromotionError(exc.message, exc.hint) from None


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
    current = recorded(stacks_dir, env)
    entries = history(stacks_dir, env.stage, env.name)
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
    path = sc.record_image(
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


def _config(stacks_dir: Path, stage: str) -> dict:
    path = sc.stack_config_path(stacks_dir, stage)
    if not path.exists():
        raise PromotionError(
            f"{path} does not exist", "run `envparity render SPEC` from the project root first"
        )
    try:
        return sc.read_stack_config(path)
    except sc.StackConfigError as exc:
        raise PromotionError(exc.message, exc.hint) from None


def _images(config: dict) -> list[sc.ImageRef]:
    try:
        return [sc.ImageRef.parse(str(text)) for text in config.get(sc.IMAGES) or ()]
    except sc.StackConfigError as exc:
        raise PromotionError(exc.message, exc.hint) from None
