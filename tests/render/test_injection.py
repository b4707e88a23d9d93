"""Hostile spec values cannot add an instruction, a shell command or a requirement option.

The loader's schema rejects these values first (tests/spec); here the renderers are fed
them directly, past the loader, to prove the second layer: every value is either refused
with RenderError or lands, quoted, as exactly itself.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace

import pytest
from dockerfile_parse import DockerfileParser

from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import LockError
from envparity.core.model import Run, frozen_map
from envparity.core.render import RenderError
from envparity.core.render.devcontainer import render_devcontainer
from envparity.core.render.dockerfile import render_dockerfile
from envparity.core.resolve import resolve
from envparity.core.spec import load_spec
from tests.render.conftest import CASES

HOSTILE = [
    "x\nRUN touch /pwned",
    "x\rRUN touch /pwned",
    "x\r\nRUN touch /pwned",
    "x \\\nRUN touch /pwned",
    "x\\",
    "$(touch /pwned)",
    "`touch /pwned`",
    "${PATH}",
    "x; touch /pwned",
    "x && touch /pwned",
    "x | touch /pwned",
    "x' && touch /pwned '",
    'x" && touch /pwned "',
    "x\x00y",
    "x\u2028RUN touch /pwned",
    "x\u2029RUN touch /pwned",
    "x\u0085RUN touch /pwned",
    "--index-url http://127.0.0.1:1/simple",
    "-r /etc/passwd",
    "# escape=`",
    "x <<EOF\nRUN touch /pwned\nEOF",
    "",
]
NON_EMPTY = [v for v in HOSTILE if v]  # an empty suffix or base_image is simply not hostile


@pytest.fixture(scope="module")
def spec():
    return load_spec(CASES / "gpu-train" / "envspec.yaml")


def instructions(dockerfile: str) -> list[str]:
    parser = DockerfileParser(path=tempfile.mkdtemp())
    parser.content = dockerfile
    return [item["instruction"] for item in parser.structure]


def parsed(dockerfile: str) -> DockerfileParser:
    """The shared `env` stage (the parser reports ENV and LABEL of the last stage only)."""
    parser = DockerfileParser(path=tempfile.mkdtemp())
    parser.content = dockerfile.split("\nFROM env AS ")[0]
    return parser


def assert_safe(rendered_or_error, baseline: str) -> str | None:
    """Either refused, or the same instructions as the baseline and nothing of `touch` added."""
    if isinstance(rendered_or_error, RenderError):
        assert "\n" not in str(rendered_or_error)  # one line for the user
        return None
    text = rendered_or_error
    assert instructions(text) == instructions(baseline)
    for line in text.splitlines():
        assert not line.startswith("RUN touch")
    return text


def attempt(spec) -> str | RenderError:
    try:
        return render_dockerfile(spec, {"testing": "requirements.testing.lock"})
    except RenderError as exc:
        return exc


def with_software(spec, **changes):
    return replace(spec, software=replace(spec.software, **changes))


@pytest.mark.parametrize("value", HOSTILE)
def test_env_value_is_refused_or_exactly_itself(spec, value):
    baseline = render_dockerfile(spec, {"testing": "requirements.testing.lock"})
    hostile = with_software(spec, env=frozen_map({**spec.software.env, "GREETING": value}))
    text = assert_safe(attempt(hostile), baseline)
    if text is not None:
        assert parsed(text).envs["GREETING"] == value
    else:
        assert any(c in value for c in "\x00\n\r\u2028\u2029\u0085")


UNWRITABLE = {*map(chr, range(0x20)), "\x7f", "\x85", "\u2028", "\u2029"}


def refusal(value: str, where: str) -> str | None:
    """The message for a value holding a character no Dockerfile quoting can carry, else None."""
    bad = next((c for c in value if c in UNWRITABLE), None)
    if bad is None:
        return None
    return f"{where}: contains {bad!r}, which cannot be written into a Dockerfile"


@pytest.mark.parametrize("value", HOSTILE)
def test_description_is_refused_or_one_literal_label(spec, value):
    """Line breaks fold into spaces (a label is one line); what cannot fold is refused."""
    baseline = render_dockerfile(spec, {"testing": "requirements.testing.lock"})
    outcome = attempt(replace(spec, description=value))
    folded = " ".join(value.split())
    why = refusal(folded, "org.opencontainers.image.description")
    if why is not None:
        assert isinstance(outcome, RenderError) and str(outcome).startswith(why), outcome
        return
    text = assert_safe(outcome, baseline)
    assert parsed(text).labels.get("org.opencontainers.image.description", "") == folded


@pytest.mark.parametrize("value", HOSTILE)
def test_command_item_is_refused_or_one_exec_argument(spec, value):
    baseline = render_dockerfile(spec, {"testing": "requirements.testing.lock"})
    hostile = replace(spec, run=Run(command=("python", value, "-m", "app"), gpus=1))
    outcome = attempt(hostile)
    why = refusal(value, "run.command[1]")
    if why is not None:
        assert isinstance(outcome, RenderError) and str(outcome).startswith(why), outcome
        return
    text = assert_safe(outcome, baseline)
    [cmd] = [i["value"] for i in parsed(text).structure if i["instruction"] == "CMD"]
    assert json.loads(cmd) == ["python", value, "-m", "app"]


@pytest.mark.parametrize("value", NON_EMPTY)
@pytest.mark.parametrize("field", ["system_packages", "python", "base_image", "name", "version"])
def test_values_for_commands_and_comments_are_refused(spec, field, value):
    # These reach RUN lines, FROM, or comments: no quoting is trusted, they must match a pattern.
    new = (f"git={value}",) if field == "system_packages" else value
    result = attempt(with_software(spec, **{field: new}))
    assert isinstance(result, RenderError), result


@pytest.mark.parametrize("value", HOSTILE)
def test_env_name_is_refused(spec, value):
    assert isinstance(
        attempt(with_software(spec, env=frozen_map({value or "1x": "1"}))), RenderError
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_devcontainer_env_is_exactly_itself(spec, value):
    local = resolve(spec, "local")
    hostile = replace(local, runtime_env=frozen_map({"LOG_LEVEL": value}))
    data = json.loads(render_devcontainer(hostile))
    assert data["containerEnv"] == {"LOG_LEVEL": value}
    assert set(data) == {"name", "build", "remoteUser", "containerEnv"}


# Values uv itself accepts in a requirements file or index list (checked with envparity's own
# checks removed: uv locks them, and the index ones add an option line to the lock file).
UV_ACCEPTS_INDEX = [
    "\n--index-url http://127.0.0.1:1/simple",
    " --trusted-host evil.example",
    "\n-r /dev/null",
]
UV_ACCEPTS_REQUIREMENT = [
    "\n--index-url http://127.0.0.1:1/simple",
    "\n-r /dev/null",
    "\n--find-links /tmp",
    " --hash=sha256:" + "0" * 64,
]


@pytest.mark.parametrize("value", NON_EMPTY + UV_ACCEPTS_INDEX)
def test_package_index_is_refused_before_it_reaches_the_lock(spec, value, wheelhouse):
    url = f"https://example.org/simple{value}"
    hostile = with_software(spec, package_indexes=(url,))
    with pytest.raises(LockError) as refused:
        compile_locks(hostile, find_links=wheelhouse, no_index=True)
    assert str(refused.value).startswith(
        f"package_indexes: {url!r} is not a plain http(s) URL (hint: "
    )


@pytest.mark.parametrize("value", NON_EMPTY + UV_ACCEPTS_REQUIREMENT)
def test_python_package_is_refused_before_it_reaches_the_lock(spec, value, wheelhouse):
    pin = f"demo-core==1.0.0{value}"
    hostile = with_software(spec, python_packages=(pin,))
    with pytest.raises(LockError) as refused:
        compile_locks(hostile, find_links=wheelhouse, no_index=True)
    assert str(refused.value).startswith(
        f"python_packages: {pin!r} is not a plain name==version requirement (hint: "
    )


@pytest.mark.parametrize("value", UV_ACCEPTS_REQUIREMENT)
def test_extra_python_package_is_refused_before_it_reaches_the_lock(spec, value, wheelhouse):
    pin = f"demo-testtool==0.5.0{value}"
    testing = replace(spec.stages["testing"], extra_python_packages=(pin,))
    hostile = replace(spec, stages={**spec.stages, "testing": testing})
    with pytest.raises(LockError) as refused:
        compile_locks(hostile, find_links=wheelhouse, no_index=True)
    assert str(refused.value).startswith(
        f"python_packages: {pin!r} is not a plain name==version requirement (hint: "
    )


def test_a_safe_value_still_renders(spec):
    # The refusals above are not a renderer that refuses everything.
    text = render_dockerfile(with_software(spec, env=frozen_map({"A": "plain value"})))
    assert parsed(text).envs["A"] == "plain value"
