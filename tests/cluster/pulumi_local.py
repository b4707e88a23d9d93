"""`pulumi preview|up|refresh|destroy --stack local` of the repository's own program, run by
the real Pulumi CLI and engine with the real Kubernetes provider, against the test control
plane. Run as a separate process (the Pulumi runtime is process-wide):

    python -m tests.cluster.pulumi_local OPERATION WORK_DIR OUT_JSON

WORK_DIR holds a copy of Pulumi.yaml and stacks/Pulumi.local.yaml (the test sets the kube
context there); the environment names the CLI (PATH), PULUMI_HOME, the logged-in backend and
KUBECONFIG. The program is `stacks/__main__.py`, unchanged, run as an Automation API inline
program: the Python language host (`pulumi-language-python`) is not a module the Go proxy
serves, so the CLI talks to this process's language server (`pulumi up --client`) instead.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pulumi
import pulumi.automation as auto

ROOT = Path(__file__).resolve().parents[2]
SKIP_AWAIT = "pulumi.com/skipAwait"


def skip_await(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """No kubelet runs here, so no Pod ever becomes Ready: the provider must not wait for it.
    The only change to what the program declares is this annotation on Kubernetes objects."""
    if not args.type_.startswith("kubernetes:"):
        return None
    props = dict(args.props)
    props["metadata"] = pulumi.Output.from_input(props.get("metadata") or {}).apply(
        lambda meta: {
            **meta,
            "annotations": {**(meta.get("annotations") or {}), SKIP_AWAIT: "true"},
        }
    )
    return pulumi.ResourceTransformResult(props, args.opts)


def program() -> None:
    pulumi.runtime.register_resource_transform(skip_await)
    runpy.run_path(str(ROOT / "stacks" / "__main__.py"), run_name="__main__")


def run(operation: str, work_dir: Path) -> dict:
    stack = auto.create_or_select_stack(
        "local", "envparity", program, opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir))
    )
    steps: list[dict] = []

    def on_event(event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            steps.append({"op": str(meta.op.value), "type": meta.type, "urn": meta.urn})

    common = {"on_event": on_event, "on_output": lambda line: print(line, file=sys.stderr)}
    if operation == "preview":
        result = stack.preview(**common)
        changes = result.change_summary
    elif operation == "up":
        changes = stack.up(**common).summary.resource_changes
    elif operation == "refresh":
        changes = stack.refresh(**common).summary.resource_changes
    elif operation == "destroy":
        changes = stack.destroy(**common).summary.resource_changes
    else:
        raise SystemExit(f"unknown operation {operation}")
    return {
        "changes": {str(k): v for k, v in (changes or {}).items()},
        "steps": steps,
    }


def main() -> None:
    operation, work_dir, out = sys.argv[1:4]
    result = run(operation, Path(work_dir))
    Path(out).write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
