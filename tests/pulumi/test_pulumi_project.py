"""The Pulumi project file, the program entry point, and what the fast commands may import."""

from __future__ import annotations

import subprocess
import sys

import yaml

from envparity.core import ledger
from envparity.core import stack_settings as ss
from envparity.core.render import stack_config as sc
from tests.pulumi.plan_helpers import ROOT

# The types a Pulumi.yaml `config:` block can declare (Pulumi project file reference).
DECLARABLE = {"string", "boolean", "integer", "array"}


def test_project_file():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["name"] == ledger.PROJECT
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }
    assert project["main"] == "stacks/"
    assert project["stackConfigDir"] == "stacks"
    assert (ROOT / "stacks" / "__main__.py").is_file()


def test_every_config_key_is_declared_with_type_and_description():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    used = {
        getattr(module, name).split(":", 1)[1]
        for module in (ledger, ss)  # the keys of the image ledger and of the stack settings
        for name in dir(module)
        if name.isupper()
        and isinstance(getattr(module, name), str)
        and getattr(module, name).startswith("envparity:")
    }
    assert set(declared) == used
    for key, schema in declared.items():
        assert schema["type"] in DECLARABLE and schema["description"], key
        if schema["type"] == "array":
            assert schema["items"]["type"] in DECLARABLE, key
        is_array = f"{ledger.PROJECT}:{key}" in ss.ARRAYS
        assert (schema["type"] == "array") == is_array, key
    for stage in ("local", "testing", "staging", "production"):
        config = ledger.read_stack_config(ledger.stack_config_path(ROOT / "stacks", stage))
        for key, value in config.items():
            name = key.split(":", 1)[1]
            assert isinstance(value, list if declared[name]["type"] == "array" else str), key


def test_no_stack_needs_a_key_it_does_not_set():
    """Pulumi requires every declared key without a default: each stack config must set it.

    So `pulumi up --stack local` runs with the rendered local config alone (no cluster name,
    no cloud settings)."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    required = {
        f"{ledger.PROJECT}:{k}" for k, schema in declared.items() if "default" not in schema
    }
    assert required == {ss.SPECS}  # generated into every stack config by render
    for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        assert required <= set(ledger.read_stack_config(path)), path.name
    local = ledger.read_stack_config(ROOT / "stacks" / "Pulumi.local.yaml")
    assert not {ss.CLUSTER_NAME, ss.CLUSTER_MODE, ss.SUBNET_IDS} & set(local)


def test_plan_and_render_modules_do_not_import_heavy_sdks():
    code = (
        "import sys, envparity.cli.main, envparity.cli.plan, envparity.core.render.stack_config,"
        " envparity.core.ledger, envparity.core.stack_settings;"
        "print(sorted(m for m in ('pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'docker', 'boto3')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stacks_main_is_the_program_pulumi_runs(tmp_path, monkeypatch):
    """stacks/__main__.py under the mock engine, with config as `pulumi up` passes it (env JSON).

    The config is rendered in a copy of the project; its spec paths are the repository's too.
    """
    import json
    import runpy

    import pulumi
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from envparity.core.spec import load_specs
    from tests.pulumi.plan_helpers import copy_project

    stacks = copy_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    sc.render_stack_configs(
        load_specs(sorted(p.relative_to(tmp_path) for p in (tmp_path / "envspecs").glob("*.yaml"))),
        stacks,
    )
    config = ledger.read_stack_config(ledger.stack_config_path(stacks, "testing"))
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}),
    )
    registered = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            registered.append(args.typ)
            outputs = {**args.inputs, "arn": "arn:aws:iam::123456789012:role/x"}
            if args.typ == "aws:ecr/repository:Repository":
                outputs["repositoryUrl"] = f"123456789012.dkr.ecr.example/{args.name}"
            return [f"{args.name}-id", outputs]

        def call(self, args):
            return {"id": "x", "ids": ["subnet-a"]}

    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(), project="envparity", stack="testing", preview=False)
    pulumi.runtime.config.set_all_config({})  # nothing set in-process: read PULUMI_CONFIG
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(ROOT / "stacks" / "__main__.py"))))
    finally:
        settings.ROOT.set(None)
    assert registered.count("kubernetes:apps/v1:Deployment") == 3  # serve, features, embed
    assert registered.count("kubernetes:batch/v1:Job") == 1  # train
    assert registered.count("aws:eks/nodeGroup:NodeGroup") == 4
