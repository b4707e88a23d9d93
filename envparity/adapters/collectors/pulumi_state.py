"""The pulumi target: a `pulumi stack export` file beside the offline plan of the stage.

No Pulumi CLI or cloud is needed: the state is a file the user exported, and what the
program would create comes from `envparity.adapters.pulumi_plan` (the program under Pulumi's mocks).
"""

from __future__ import annotations

import json
from pathlib import Path

from envparity.core.drift.observed import Observation, PulumiFacts, StateResource
from envparity.core.drift.targets import DriftSetupError
from envparity.core.model import ResolvedStage, Spec


def read_state(path: Path) -> tuple[StateResource, ...]:
    """The custom resources of a `pulumi stack export` (version 3) file."""
    hint = f"export it again: pulumi stack export --stack STAGE > {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DriftSetupError(
            f"{path}: not a readable `pulumi stack export` file ({exc})", hint
        ) from None
    resources = (data.get("deployment") or {}).get("resources") if isinstance(data, dict) else None
    if not isinstance(resources, list):
        raise DriftSetupError(
            f"{path}: no deployment.resources list (is it `pulumi stack export` output?)", hint
        )
    out = []
    for item in resources:
        if not isinstance(item, dict) or not item.get("custom"):
            continue  # components and the stack itself have no inputs of their own
        urn = str(item.get("urn", ""))
        out.append(
            StateResource(
                str(item.get("type", "")), urn.rsplit("::", 1)[-1], item.get("inputs") or {}
            )
        )
    return tuple(out)


def planned(spec: Spec, env: ResolvedStage, stacks_dir: Path) -> tuple[StateResource, ...]:
    try:
        from envparity.adapters.pulumi_plan import PlanError, plan
    except ImportError as exc:
        raise DriftSetupError(
            f"the pulumi target needs Pulumi's SDK ({exc.name} is missing)",
            "pip install 'envparity[pulumi]'",
        ) from None
    try:
        result = plan([spec], env.stage, stacks_dir)
    except PlanError as exc:
        raise DriftSetupError(
            f"cannot plan stage {env.stage}: {exc}",
            "fix the stack config (envparity render) and retry",
        ) from None
    return tuple(
        StateResource(r.type, r.name, r.inputs)
        for r in result.resources
        if not r.type.startswith(("pulumi:", "envparity:"))
    )


def collect(spec: Spec, env: ResolvedStage, state: Path, stacks_dir: Path) -> Observation:
    return Observation(PulumiFacts(read_state(state), planned(spec, env, stacks_dir)))
