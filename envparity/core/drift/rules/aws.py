"""AWS target: the stage's EKS node groups and ECR images."""

from __future__ import annotations

from envparity.core.drift.expectations import Expectations, spec_file
from envparity.core.drift.findings import WARNING
from envparity.core.drift.observed import AwsFacts
from envparity.core.drift.outcome import Outcome
from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_KEY, NAME_KEY, STAGE_KEY


def compare_aws(out: Outcome, env: ResolvedStage, facts: AwsFacts, exp: Expectations) -> None:
    up = f"pulumi up --stack {env.stage}"
    pool = exp.node_pool
    if pool is not None and facts.node_groups is not None and not facts.node_groups:
        out.differ(
            "node groups",
            "present",
            f"a node group tagged {NAME_KEY}={env.name},{STAGE_KEY}={env.stage}",
            "none",
            f"create it: {up}",
        )
    for group in facts.node_groups or ():
        obj = f"nodegroup {group.cluster}/{group.name}"
        if pool is None:
            out.differ(
                obj,
                "present",
                "none (the stage names no instance_type)",
                group.name,
                f"delete it or set stages.{env.stage}.instance_type",
            )
            continue
        out.expect(
            obj,
            FINGERPRINT_KEY,
            env.fingerprint,
            group.tags.get(FINGERPRINT_KEY),
            f"created for other software: {up}",
        )
        out.expect(
            obj,
            "instanceTypes",
            [pool.instance_type],
            list(group.instance_types),
            f"restore it: {up}",
        )
        out.expect(obj, "amiType", pool.ami_type, group.ami_type, f"restore it: {up}")
        ami = env.tables.eks_gpu_ami_type(group.ami_type or "")
        if ami is not None and ami.end_of_support:
            out.differ(
                obj,
                "amiType support",
                "supported",
                f"end of support {ami.end_of_support}",
                f"move to {pool.ami_type}: {up}",
                severity=WARNING,
            )
        out.expect(obj, "scalingConfig.minSize", pool.min_size, group.min_size, f"restore it: {up}")
        out.expect(obj, "scalingConfig.maxSize", pool.max_size, group.max_size, f"restore it: {up}")
        want = dict(pool.labels)
        out.expect(obj, "labels", want, {k: group.labels.get(k) for k in want}, f"restore it: {up}")
    for image in facts.images or ():
        obj = f"ecr {image.repository}:{image.tag}"
        push = f"envparity build {spec_file(env, exp)} --stage {env.stage} --push"
        if not image.repository_exists:
            out.differ(obj, "repository", image.repository, "none", f"create it: {up}")
            continue
        out.expect(
            obj, "present", "pushed", "pushed" if image.digest else "none", f"push it: {push}"
        )
        if image.digest and exp.promoted_digest:
            out.expect(
                obj,
                "digest",
                exp.promoted_digest,
                image.digest,
                f"the tag points at another image than the promoted one: {push}",
            )
