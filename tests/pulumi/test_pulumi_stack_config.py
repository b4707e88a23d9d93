"""Stack configs: rendered from the specs (golden), settings kept, images recorded and used."""

from __future__ import annotations

import os

import pytest
import yaml

from envparity.adapters.pulumi_plan import plan
from envparity.core import ledger
from envparity.core import stack_settings as ss
from envparity.core.render import stack_config as sc
from envparity.core.resolve import resolve
from envparity.core.spec import load_specs
from tests.conftest import assert_golden
from tests.pulumi.plan_helpers import ROOT, copy_project, one

GOLDEN = ROOT / "tests" / "pulumi" / "golden"
DIGEST = "sha256:" + "ab" * 32


def example_specs(stacks):
    return load_specs(sorted((stacks.parent / "envspecs").glob("*.yaml")))


@pytest.fixture
def stacks(tmp_path, monkeypatch):
    stacks = copy_project(tmp_path, drift_image=None)
    monkeypatch.chdir(tmp_path)  # specs named as a user would: envspecs/train.yaml
    return stacks


def test_rendered_stack_configs_match_golden(stacks):
    specs = load_specs(
        sorted(os.path.relpath(p) for p in (stacks.parent / "envspecs").glob("*.yaml"))
    )
    written = sc.render_stack_configs(specs, stacks)
    assert [p.name for p in written] == [
        f"Pulumi.{s}.yaml" for s in ("local", "testing", "staging", "production")
    ]
    for path in written:
        assert_golden(GOLDEN / path.name, path.read_text(encoding="utf-8"))
    assert (
        sc.render_stack_configs(specs, stacks, check=True) == []
    )  # a second render changes nothing


def test_repository_stack_configs_are_up_to_date():
    """stacks/Pulumi.<stage>.yaml in the repository are what render makes from envspecs/."""
    specs = load_specs(sorted((ROOT / "envspecs").glob("*.yaml")))
    assert sc.render_stack_configs(specs, ROOT / "stacks", check=True) == []


def test_record_image_round_trip_and_deploy_by_digest(stacks):
    specs = example_specs(stacks)
    sc.render_stack_configs(specs, stacks)
    train = next(s for s in specs if s.name == "train")
    env = resolve(train, "production")
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/production/train"
    path = ledger.record_image(
        stacks, "production", "train", f"{ecr}:{env.image_tag}", DIGEST, env.fingerprint
    )
    config = ledger.read_stack_config(path)
    assert config[ledger.IMAGES] == [f"{ecr}:{env.image_tag}@{DIGEST}"]
    settings = ss.settings("production", config.get)
    assert str(settings.image_for(env)) == f"{ecr}:{env.image_tag}@{DIGEST}"
    # A user's setting survives a new push and a new render; the record survives the render.
    config[ss.CLUSTER_MODE] = "existing"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    newer = "sha256:" + "cd" * 32
    ledger.record_image(
        stacks, "production", "train", f"{ecr}:{env.image_tag}", newer, env.fingerprint
    )
    sc.render_stack_configs(specs, stacks)
    config = ledger.read_stack_config(path)
    assert config[ss.CLUSTER_MODE] == "existing"
    assert config[ledger.IMAGES] == [f"{ecr}:{env.image_tag}@{newer}"]  # replaced, not appended
    p = plan([train], "production", stacks)
    [container] = one(p, "kubernetes:batch/v1:Job").inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{ecr}:{env.image_tag}@{newer}"
    # The workload knows what it runs (issue 12): the digest beside name, version, fingerprint.
    identity = {v["name"]: v["value"] for v in container["env"] if "value" in v}
    assert identity["ENVPARITY_IMAGE_DIGEST"] == newer
    assert identity["ENVPARITY_FINGERPRINT"] == env.fingerprint
    assert (identity["ENVPARITY_NAME"], identity["ENVPARITY_STAGE"]) == ("train", "production")
    assert identity["ENVPARITY_VERSION"] == env.version
    assert not any("no image recorded" in w for w in p.warnings)


def test_image_of_other_software_is_not_deployed(stacks):
    specs = example_specs(stacks)
    sc.render_stack_configs(specs, stacks)
    serve = next(s for s in specs if s.name == "serve")
    env = resolve(serve, "staging")
    old_tag = f"2.0.0-{'0' * 12}"
    path = ledger.stack_config_path(stacks, "staging")
    config = ledger.read_stack_config(path)
    config[ledger.IMAGES] = [f"reg.example/staging/serve:{old_tag}@{DIGEST}"]
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    p = plan([serve], "staging", stacks)
    image = one(p, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert image.endswith(f"/staging/serve:{env.image_tag}") and "@" not in image
    assert any("no image recorded" in w and "hint:" in w for w in p.warnings)


@pytest.mark.parametrize(
    ("image", "digest", "fingerprint", "message"),
    [
        ("reg.example/train:1.4.0-{fp12}", "sha256:xyz", None, "is not `repository:tag@sha256"),
        ("reg.example/train", DIGEST, None, "is not `repository:tag@sha256"),
        ("reg.example/serve:1.4.0-{fp12}", DIGEST, None, "is not tagged for train"),
        ("reg.example/train:1.4.0-000000000000", DIGEST, None, "is not tagged for train"),
        ("reg.example/train:1.4.0-{fp12}", DIGEST, "nope", "is not a sha256 hex digest"),
        ("Reg.Example/train:1.4.0-{fp12}\nx: 1", DIGEST, None, "is not `repository:tag@sha256"),
    ],
)
def test_record_image_rejects_bad_values(stacks, image, digest, fingerprint, message):
    specs = example_specs(stacks)
    sc.render_stack_configs(specs, stacks)
    fp = next(s for s in specs if s.name == "train").fingerprint
    with pytest.raises(ledger.StackConfigError, match=message):
        ledger.record_image(
            stacks, "testing", "train", image.format(fp12=fp[:12]), digest, fingerprint or fp
        )


def test_record_image_needs_a_rendered_stack(stacks):
    fp = "a" * 64
    with pytest.raises(ledger.StackConfigError) as info:
        ledger.record_image(
            stacks, "testing", "train", f"reg.example/train:1.4.0-{fp[:12]}", DIGEST, fp
        )
    assert "envparity render" in info.value.hint


def test_render_drops_specs_that_no_longer_exist(stacks):
    specs = example_specs(stacks)
    sc.render_stack_configs(specs, stacks)
    (stacks.parent / "envspecs" / "features.yaml").unlink()
    sc.render_stack_configs([s for s in specs if s.name != "features"], stacks)
    assert ledger.read_stack_config(ledger.stack_config_path(stacks, "testing"))[ss.SPECS] == [
        "envspecs/embed.yaml",
        "envspecs/serve.yaml",
        "envspecs/train.yaml",
    ]


def test_stack_without_specs_is_a_clear_error():
    with pytest.raises(ledger.StackConfigError, match="lists no specs") as info:
        ss.settings("production", {}.get)
    assert "envparity render" in info.value.hint


def test_a_broken_stack_config_is_a_clear_error(stacks):
    path = ledger.stack_config_path(stacks, "testing")
    path.write_text("config: [\n", encoding="utf-8")
    with pytest.raises(ledger.StackConfigError, match="not valid YAML"):
        ledger.read_stack_config(path)
