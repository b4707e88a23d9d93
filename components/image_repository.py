"""ImageRepository: where a stage pulls the environment's image from."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from envparity.core.model import ResolvedStage
from envparity.core.names import aws_tags
from envparity.core.placement import ecr_repository_name

# Keep the last 30 tagged images (a promoted digest stays referenced by its stage); drop
# untagged layers after 14 days. Rule order matters to ECR: lower priority is applied first.
LIFECYCLE_POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "expire untagged images after 14 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 14,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "keep the 30 most recent images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
            "action": {"type": "expire"},
        },
    ]
}


@dataclass(frozen=True)
class ImageRepositoryArgs:
    env: ResolvedStage  # an ECR repository is created when the stage has one (placement.py)
    aws_provider: pulumi.ProviderResource | None = None


class ImageRepository(pulumi.ComponentResource):
    """An ECR repository (scan on push, immutable tags, lifecycle policy), or an external one.

    `repository_url` is `<registry>/<repository>` without a tag.
    """

    repository_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: ImageRepositoryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:images:ImageRepository", name, None, opts)
        env = args.env
        repository_name = ecr_repository_name(env)
        if repository_name is not None:
            import pulumi_aws as aws

            child = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
            repository = aws.ecr.Repository(
                f"{name}-repository",
                name=repository_name,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                tags=aws_tags(env),
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-lifecycle",
                repository=repository.name,
                policy=json.dumps(LIFECYCLE_POLICY, sort_keys=True),
                opts=child,
            )
            self.repository_url = repository.repository_url
        else:
            self.repository_url = pulumi.Output.from_input(env.image_repository)
        self.register_outputs({"repository_url": self.repository_url})
