"""The AWS collector: EKS node groups and the ECR image tagged for the env and stage.

Endpoint, region and credentials come from the AWS SDK's own chain (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL, ...); the stage's `region` wins when set. Lists are paged;
the per-object describes that EKS requires (it has no batch describe) run on threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from envparity.core.drift.findings import Unchecked
from envparity.core.drift.observed import AwsFacts, EcrImageFacts, NodeGroupFacts, Observation
from envparity.core.model import ResolvedStage
from envparity.core.names import NAME_KEY, STAGE_KEY

TARGET = "aws"


class _Failed(Exception):
    def __init__(self, what: str, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.unchecked = Unchecked(TARGET, what, reason, hint)


def collect(
    env: ResolvedStage,
    repository: str | None,
    *,
    timeout: float = 10.0,
    workers: int = 8,
    page_size: int = 100,
) -> Observation:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=min(3.0, timeout),
        read_timeout=timeout,
        retries={"total_max_attempts": 3, "mode": "standard"},
    )  # bounded, with backoff
    session = (
        boto3.session.Session(region_name=env.region) if env.region else boto3.session.Session()
    )
    gaps: list[Unchecked] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            eks = session.client("eks", config=config)
            clusters, groups = _node_groups(eks, env, pool, {"PageSize": page_size})
        except _Failed as exc:
            clusters = groups = None
            gaps.append(exc.unchecked)
        except Exception as exc:  # botocore's own errors, translated once
            clusters = groups = None
            gaps.append(_unchecked("EKS node groups", exc))
        images: tuple[EcrImageFacts, ...] | None = ()
        if repository is not None:
            try:
                ecr = session.client("ecr", config=config)
                images = (_ecr_image(ecr, repository, env.image_tag),)
            except Exception as exc:
                images = None
                gaps.append(_unchecked(f"ECR {repository}", exc))
    return Observation(AwsFacts(clusters, groups, images), tuple(gaps))


def _node_groups(eks, env: ResolvedStage, pool: ThreadPoolExecutor, paging: dict):
    if env.cluster:
        clusters = [env.cluster]
    else:
        clusters = [
            name
            for page in eks.get_paginator("list_clusters").paginate(PaginationConfig=paging)
            for name in page.get("clusters", ())
        ]
    listed = pool.map(lambda c: (c, _list_nodegroups(eks, c, paging)), clusters)
    pairs = [(cluster, name) for cluster, names in listed for name in names]
    described = pool.map(
        lambda p: eks.describe_nodegroup(clusterName=p[0], nodegroupName=p[1]), pairs
    )
    groups = []
    for answer in described:
        group = answer["nodegroup"]
        tags = group.get("tags") or {}
        if tags.get(NAME_KEY) != env.name or tags.get(STAGE_KEY) != env.stage:
            continue
        scaling = group.get("scalingConfig") or {}
        groups.append(
            NodeGroupFacts(
                cluster=group.get("clusterName", ""),
                name=group.get("nodegroupName", ""),
                tags=tags,
                instance_types=tuple(group.get("instanceTypes") or ()),
                ami_type=group.get("amiType"),
                min_size=scaling.get("minSize"),
                max_size=scaling.get("maxSize"),
                labels=group.get("labels") or {},
            )
        )
    return tuple(clusters), tuple(sorted(groups, key=lambda g: (g.cluster, g.name)))


def _list_nodegroups(eks, cluster: str, paging: dict) -> list[str]:
    from botocore.exceptions import ClientError

    try:
        return [
            name
            for page in eks.get_paginator("list_nodegroups").paginate(
                clusterName=cluster, PaginationConfig=paging
            )
            for name in page.get("nodegroups", ())
        ]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise _Failed(
                f"cluster {cluster}",
                f"EKS cluster {cluster!r} does not exist",
                "set the stage's `cluster:` to an existing cluster, or run pulumi up",
            ) from None
        raise


def _ecr_image(ecr, repository: str, tag: str) -> EcrImageFacts:
    from botocore.exceptions import ClientError

    try:
        answer = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "RepositoryNotFoundException":
            return EcrImageFacts(repository, tag, None, repository_exists=False)
        if code == "ImageNotFoundException":
            return EcrImageFacts(repository, tag, None)
        raise
    details = answer.get("imageDetails") or [{}]
    return EcrImageFacts(repository, tag, details[0].get("imageDigest"))


def _unchecked(what: str, exc: Exception) -> Unchecked:
    """One line for what the SDK raised: unreachable, no credentials, denied, throttled."""
    from botocore import exceptions as e

    if isinstance(exc, e.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        reason = f"AWS answered {code}: {error.get('Message', '')}".strip()
        if "Throttl" in code or code == "TooManyRequestsException":
            return Unchecked(
                TARGET,
                what,
                reason + " (still throttled after retries)",
                "retry later or raise the account's API rate limits",
            )
        if "Denied" in code or "Unauthorized" in code:
            return Unchecked(
                TARGET,
                what,
                reason,
                "grant eks:List*/Describe* and ecr:DescribeImages to this identity",
            )
        return Unchecked(TARGET, what, reason, "check the AWS account and region of this stage")
    if isinstance(exc, e.NoCredentialsError | e.PartialCredentialsError):
        return Unchecked(
            TARGET,
            what,
            "no AWS credentials found",
            "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, e.NoRegionError):
        return Unchecked(TARGET, what, "no AWS region", "set the stage's `region:` or AWS_REGION")
    if isinstance(exc, e.EndpointConnectionError | e.ConnectTimeoutError | e.ReadTimeoutError):
        return Unchecked(
            TARGET,
            what,
            f"cannot reach AWS: {exc}",
            "check the network or AWS_ENDPOINT_URL and retry",
        )
    if isinstance(exc, e.BotoCoreError):
        return Unchecked(TARGET, what, f"AWS SDK error: {exc}", "check the AWS settings and retry")
    raise exc
