"""The pure parts of provenance, promotion history, reproducibility and provenance drift
(no engine needed: these run in `pytest -m "not docker"`)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from envparity.adapters.provenance_image import read_from_layer
from envparity.core import ledger
from envparity.core.drift import engine
from envparity.core.drift.engine import Expectations
from envparity.core.drift.observed import DockerFacts, ImageFacts, Observation
from envparity.core.image_check import Difference
from envparity.core.names import FINGERPRINT_LABEL, NAME_LABEL
from envparity.core.provenance import GitState, Package, ProvenanceError, parse, statement
from envparity.flows.reproducible import compare
from tests.drift.conftest import base_spec

IDNA = Package("idna", "3.10", ("a" * 64,))


def record_of(env, packages=(IDNA,)):
    return statement(
        env,
        "specs/demo.yaml",
        packages,
        "b" * 64,
        "python:3.11-slim",
        "sha256:" + "c" * 64,
        GitState("d" * 40, True),
        datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc),
    )


def test_statement_round_trips_through_parse(resolved):
    _, env = resolved(base_spec(), "local")
    found = parse(record_of(env), "image x")
    assert (found.name, found.version, found.stage) == ("demo", "1.0.0", "local")
    assert found.fingerprint == env.fingerprint
    assert found.packages == {"idna": IDNA}
    assert found.base_digest == "sha256:" + "c" * 64
    assert found.git == GitState("d" * 40, True) and str(found.git).endswith("-dirty")
    assert found.built_at == "2026-11-25T12:00:00Z"
    assert found.env == {"DEMO_MODE": "strict"}


def test_a_record_of_another_format_is_a_clean_error(resolved):
    _, env = resolved(base_spec(), "local")
    record = record_of(env)
    record["predicateType"] = "https://slsa.dev/provenance/v0.2"
    with pytest.raises(ProvenanceError, match="not an envparity provenance record"):
        parse(record, "image x")


def test_a_layer_without_the_record_reads_as_none():
    import io
    import tarfile

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w:gz") as tar:
        info = tarfile.TarInfo("etc/hostname")
        tar.addfile(info, io.BytesIO(b""))
    assert read_from_layer(layer.getvalue(), "layer") is None


def test_docker_drift_names_each_field_the_image_was_not_built_with(resolved):
    _, built_for = resolved(base_spec(python_packages=["idna==3.10"]), "local")
    spec = base_spec(python_packages=["idna==3.9"], env={"DEMO_MODE": "lax"})
    _, env = resolved(spec, "local")
    image = ImageFacts(
        "sha256:" + "e" * 64,
        ("demo:1",),
        "2026-11-25T12:00:00Z",
        {NAME_LABEL: "demo", FINGERPRINT_LABEL: built_for.fingerprint},
        provenance=parse(record_of(built_for), "image demo:1"),
    )
    result = engine.compare(
        "docker",
        env,
        Observation(DockerFacts((image,), ())),
        Expectations(spec="my specs/demo.yaml"),
    )
    by_object = {f.object: f for f in result.findings}
    idna = by_object["python_packages idna"]
    assert (idna.field, idna.expected, idna.actual) == ("version", "3.9", "3.10")
    assert "envparity build 'my specs/demo.yaml' --stage local" in idna.hint
    assert (by_object["env DEMO_MODE"].expected, by_object["env DEMO_MODE"].actual) == (
        "lax",
        "strict",
    )
    assert by_object["image demo:1"].field == FINGERPRINT_LABEL  # the summary stays
    assert "python" not in by_object  # the same Python is a check, not a finding


def test_history_keeps_the_newest_records_per_environment():
    config: dict = {}
    other = ledger.ImageRef("r/other", "1", "sha256:" + "f" * 64)
    ledger.remember(config, ledger.HistoryEntry(other, "2026-01-01T00:00:00Z", "-", "build"))
    for i in range(ledger.HISTORY_LIMIT + 3):
        ref = ledger.ImageRef("r/demo", "1", f"sha256:{i:064x}")
        ledger.remember(
            config, ledger.HistoryEntry(ref, f"2026-01-02T00:00:{i:02d}Z", "-", "build")
        )
    entries = ledger.history(config, "demo")
    assert len(entries) == ledger.HISTORY_LIMIT
    assert entries[0].image.digest == f"sha256:{ledger.HISTORY_LIMIT + 2:064x}"  # newest first
    assert [e.image.name for e in ledger.history(config, "other")] == ["other"]


def test_a_malformed_history_entry_is_a_stack_config_error():
    with pytest.raises(ledger.StackConfigError, match="imageHistory"):
        ledger.history({ledger.HISTORY: ["r/demo:1@sha256:" + "0" * 64 + " yesterday"]}, "demo")


def test_the_recorded_image_is_looked_up_once_for_promotion_and_for_drift(resolved, tmp_path):
    _, env = resolved(base_spec(), "local")
    with pytest.raises(ledger.StackConfigError, match="does not exist"):
        ledger.recorded(tmp_path, env)  # promotion records beside it: the stack must exist
    assert ledger.recorded(tmp_path, env, strict=False) is None  # drift: nothing recorded
    mine = ledger.ImageRef(f"reg.example/{env.name}", env.image_tag, "sha256:" + "1" * 64)
    other = ledger.ImageRef(f"reg.example/{env.name}", "0.1-000000000000", "sha256:" + "2" * 64)
    path = ledger.stack_config_path(tmp_path, env.stage)
    path.write_text(ledger.dump(env.stage, {ledger.IMAGES: [str(other), str(mine)]}))
    assert ledger.recorded(tmp_path, env) == ledger.recorded(tmp_path, env, strict=False) == mine
    path.write_text(ledger.dump(env.stage, {ledger.IMAGES: ["not an image", str(mine)]}))
    assert ledger.recorded(tmp_path, env, strict=False) == mine
    with pytest.raises(ledger.StackConfigError, match="is not `repository:tag@sha256"):
        ledger.recorded(tmp_path, env)


def test_reproducibility_lists_every_key_that_differs():
    assert compare({"a": "1", "b": "2"}, {"a": "1", "b": "2"}, "file") == []
    assert compare({"a": "1", "b": "2"}, {"a": "1", "c": "3"}, "file") == [
        Difference("file b", "2", None),
        Difference("file c", None, "3"),
    ]


def test_git_state_is_dirty_only_when_the_spec_or_its_locks_changed(tmp_path):
    import subprocess

    from envparity.adapters.git import git_state

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    spec = tmp_path / "demo.yaml"
    assert git_state(spec) is None  # not a repository
    for name in ("demo.yaml", "demo.lock", "demo.testing.lock", "Pulumi.testing.yaml"):
        (tmp_path / name).write_text("a\n", encoding="utf-8")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "spec")
    clean = git_state(spec)
    assert clean is not None and not clean.dirty and len(clean.commit) == 40
    (tmp_path / "Pulumi.testing.yaml").write_text("recorded\n", encoding="utf-8")
    assert not git_state(spec).dirty  # envparity's own records do not count
    (tmp_path / "demo.testing.lock").write_text("b\n", encoding="utf-8")
    assert git_state(spec).dirty
