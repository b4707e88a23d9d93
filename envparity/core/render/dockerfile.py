"""The Dockerfile of one environment: small named sections joined in one visible order.

Layer order (see `render_dockerfile`) is chosen for the build cache: what changes least
comes first (base, OS packages, Python), then the locked dependencies in a few layers,
heaviest first (`envparity.core.render.layers`), then the cheap metadata (env, user, labels,
command). Changing one pin rebuilds its dependency layer and what follows, never the OS
or Python layers nor the heavier dependency layers.

Safety: spec values reach the file in two ways only. Values that go into a shell
command (`RUN`) must match a strict pattern (package names, versions) and are quoted
with `shlex.quote` as well; free text (env values, labels) appears only in `ENV`/`LABEL`
values in POSIX single quotes, and `CMD` is JSON. A character no quoting
can carry (control characters, Unicode line separators) is refused with `RenderError`.
The file works with both the classic builder (docker SDK) and BuildKit: no `RUN --mount`,
no heredocs.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envparity.core.build_layout import LOCK, VENV, WHEELHOUSE
from envparity.core.model import STAGES, Spec
from envparity.core.names import image_labels
from envparity.core.render import RenderError

if TYPE_CHECKING:
    from envparity.core.render.layers import Layer

SYNTAX = "# syntax=docker/dockerfile:1"
USER = "app"
USER_ID = 10001
# uv installs an exact CPython (python-build-standalone, checked against uv's sha256 table)
# where the base image has none, e.g. the nvidia/cuda images. Pinned to the uv of our lock extra.
UV_IMAGE = "ghcr.io/astral-sh/uv:0.13.9"
PYTHON_DIR = "/opt/python"
WORK = "/tmp/envparity"  # where lock files and an optional wheelhouse are copied for pip

# Official slim Python images exist for these Debian releases; Ubuntu bases get uv's Python.
DEBIAN_CODENAMES = {"debian12": "bookworm", "debian13": "trixie"}
UBUNTU_IMAGES = {
    "ubuntu20.04": "ubuntu:20.04",
    "ubuntu22.04": "ubuntu:22.04",
    "ubuntu24.04": "ubuntu:24.04",
}

# Characters that no Dockerfile quoting can carry: a newline ends an instruction, NUL and
# the other C0 controls corrupt it, and U+0085/2028/2029 are line breaks to editors and YAML.
UNQUOTABLE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
OS_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+(=[0-9][A-Za-z0-9.+~:-]*)?")
PYTHON_VERSION = re.compile(r"3\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
IMAGE_REF = re.compile(
    r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?"
)


@dataclass(frozen=True)
class Base:
    """The image to start from, and whether it brings the spec's Python or uv installs it.

    `provides_python` is None for a `base_image` envparity cannot tell about: the build
    then uses its python3 when that is the spec's version, and installs it with uv otherwise.
    """

    ref: str
    provides_python: bool | None

    @property
    def pinned(self) -> bool:
        return "@sha256:" in self.ref


def choose_base(spec: Spec) -> Base:
    """The base image for `spec`: its base_image, the nvidia/cuda tag, or an official slim image."""
    sw = spec.software
    if sw.base_image:
        ref = _checked(sw.base_image, IMAGE_REF, "base_image", "an image reference")
        return Base(ref, _base_image_has_python(ref, sw.python))
    if sw.cuda:
        from envparity.core import facts

        flavor = sw.cuda_flavor or "runtime"
        ref = facts.cuda_image(sw.cuda, sw.cudnn, sw.os, flavor, spec.tables)
        # A tag the snapshot does not list but does not know to be absent: validate warned.
        ref = ref or spec.tables.unlisted_cuda_image(sw.cuda, sw.cudnn, sw.os, flavor)
        if ref is None:
            cudnn = f" with cuDNN {sw.cudnn}" if sw.cudnn else ""
            raise RenderError(
                f"no nvidia/cuda {flavor} image for CUDA {sw.cuda}{cudnn} on {sw.os} "
                "is known to envparity",
                "pick a cuda/cudnn/os that NVIDIA publishes, or set base_image",
            )
        return Base(ref, False)
    if sw.os in DEBIAN_CODENAMES:
        python = _checked(sw.python, PYTHON_VERSION, "python", "an exact X.Y.Z version")
        return Base(f"python:{python}-slim-{DEBIAN_CODENAMES[sw.os]}", True)
    if sw.os in UBUNTU_IMAGES:
        return Base(UBUNTU_IMAGES[sw.os], False)
    raise RenderError(
        f"os {sw.os!r} is not known to envparity",
        f"use one of {', '.join(sorted([*DEBIAN_CODENAMES, *UBUNTU_IMAGES]))}, or set base_image",
    )


def _base_image_has_python(ref: str, python: str) -> bool | None:
    """False for nvidia/cuda images (no Python), True for the official python:<python> tags."""
    from envparity.core import cuda_image

    if cuda_image.parse(ref) is not None:
        return False
    name, _, tag = ref.split("@", 1)[0].partition(":")
    if name in ("python", "docker.io/library/python") and tag.split("-", 1)[0] == python:
        return True
    return None


def render_dockerfile(
    spec: Spec,
    stage_locks: Mapping[str, str] | None = None,
    layers: Sequence[Layer] | None = None,
) -> str:
    """The Dockerfile text for `spec`, with one build target per declared stage.

    `stage_locks` maps a stage that adds packages to the name of its lock file in the
    build context (e.g. {"testing": "requirements.testing.lock"}). `layers` are the shared
    lock's dependency layers; None when there is no lock yet (then one install of
    requirements.lock, whose COPY fails the build loudly).
    """
    base = choose_base(spec)
    stage_locks = stage_locks or {}
    sections = [
        header(spec, base),
        from_base(base),
        os_packages(spec),  # changes rarely: OS packages first
        user_account(),  # depends on nothing of the spec: before anything a pin change rebuilds
        python(spec, base),  # then the interpreter and the virtualenv
        dependencies(layers),  # then the locked pins, heaviest layer first
        baked_env(spec),  # cheap metadata last, so editing it reuses every layer above
        run_as_user(),
        labels(spec),
        command(spec),
        stage_targets(spec, stage_locks),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


# --- sections, in file order -------------------------------------------------------------


def header(spec: Spec, base: Base) -> str:
    # Comments end at a newline too: only pattern-checked values go into them.
    name = _checked(spec.name, NAME, "name", "an environment name ([a-z][a-z0-9-]{0,39})")
    version = _checked(spec.version, VERSION, "version", "a MAJOR.MINOR.PATCH version")
    stages = "|".join(s for s in STAGES if s in spec.stages)
    lines = [
        SYNTAX,
        f"# Generated by envparity for {name} {version}: do not edit, run `envparity render`.",
        f"# Build a stage with: docker build --target <{stages}> .",
        "# Offline build: put the wheels of requirements.<layer>.lock in ./wheelhouse/<layer>/ "
        "and pass --build-arg ENVPARITY_OFFLINE=1 (envparity build --wheelhouse does both).",
    ]
    if not base.pinned:
        lines.append(
            "# The base image is not pinned by digest: its tag can move. "
            "Set base_image: <ref>@sha256:<digest> in the spec to pin it."
        )
    return "\n".join(lines)


def from_base(base: Base) -> str:
    # BASE_IMAGE can be overridden at build time (envparity build --base-image).
    lines = [f"ARG BASE_IMAGE={base.ref}"]
    if base.provides_python is not True:
        lines += [f"FROM {UV_IMAGE} AS uv", ""]
    lines.append("FROM ${BASE_IMAGE} AS env")
    return "\n".join(lines)


def os_packages(spec: Spec) -> str:
    packages = [
        _checked(p, OS_PACKAGE, "system_packages", "a Debian package name, optionally =version")
        for p in sorted(spec.software.system_packages)
    ]
    if not packages:
        return ""
    lines = []
    if any("=" not in p for p in packages):
        # The spec chose which OS packages to pin; the rest follow the (digest-pinned) base.
        lines.append("# hadolint ignore=DL3008")
    args = " ".join(shlex.quote(p) for p in packages)
    lines.append(
        "RUN apt-get update \\\n"
        f" && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {args} \\\n"
        " && rm -rf /var/lib/apt/lists/*"
    )
    return "\n".join(lines)


def python(spec: Spec, base: Base) -> str:
    version = _checked(spec.software.python, PYTHON_VERSION, "python", "an exact X.Y.Z version")
    quoted = shlex.quote(version)
    uv_python = (
        f"UV_PYTHON_INSTALL_DIR={PYTHON_DIR} uv python install {quoted} \\\n"
        f' && "$(UV_PYTHON_INSTALL_DIR={PYTHON_DIR} uv python find --no-project {quoted})"'
        f" -m venv {VENV}"
    )
    expected = shlex.quote(f"Python {version}")
    check = (
        f'found="$(python --version 2>&1 || true)" && if [ "$found" != {expected} ]; then '
        f'echo "envparity: this image has $found but the spec says Python {version} '
        f"(hint: use a base image that provides Python {version}, "
        f'or change python: in the spec)" >&2; '
        "exit 1; fi"
    )
    path = f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"'
    if base.provides_python is True:
        # One RUN (hadolint DL3059): the venv and the check of the Python it was made from.
        return "\n".join([path, f"RUN python3 -m venv {VENV} \\\n && {check}"])
    if base.provides_python is False:
        make_venv = f"COPY --from=uv /uv /usr/local/bin/uv\nRUN {uv_python}"
    else:
        # An image envparity cannot tell about: its python3 when it is the spec's Python
        # (and can make a venv), else uv's, as for the nvidia/cuda images.
        make_venv = (
            "COPY --from=uv /uv /usr/local/bin/uv\n"
            f'RUN if [ "$(python3 --version 2>&1)" = {expected} ] '
            f"&& python3 -m venv {VENV}; then :; \\\n"
            f" else rm -rf {VENV} && {uv_python}; fi"
        )
    # uv must not see VIRTUAL_ENV before the venv exists: the ENV comes after it here.
    return "\n".join([make_venv, path, f"RUN {check}"])


def dependencies(layers: Sequence[Layer] | None) -> str:
    if layers is None:
        return "\n".join(
            ["# No lock yet: run `envparity lock`.", OFFLINE_ARG, _pip_install(LOCK, "shared")]
        )
    if not layers:
        return ""
    count = "one layer" if len(layers) == 1 else f"{len(layers)} layers, heaviest first"
    intro = "\n".join(
        [
            f"# The locked dependencies in {count}: a pin change rebuilds its layer and the ones",
            "# after it. Each installs its slice of requirements.lock, hash-checked, with the",
            "# wheels of ./wheelhouse/<layer>/ if any.",
            OFFLINE_ARG,
        ]
    )
    installs = [
        f"# {layer.id}: {' '.join(layer.packages)}\n{_pip_install(layer.context_name, layer.id)}"
        for layer in layers
    ]
    return "\n\n".join([intro, *installs])


def baked_env(spec: Spec) -> str:
    items = sorted(spec.software.env.items())
    if not items:
        return ""
    pairs = [
        f"{_checked(k, ENV_NAME, 'env', 'a POSIX variable name')}={quote(v, f'env.{k}')}"
        for k, v in items
    ]
    return "ENV " + " \\\n    ".join(pairs)


def user_account() -> str:
    # The WORKDIR too: every step after the dependency layers is one more container commit in
    # each rebuild, so only what must follow them (USER, labels, CMD) does.
    return (
        f"RUN useradd --no-log-init --create-home --uid {USER_ID} --user-group {USER}\n"
        f"WORKDIR /home/{USER}"
    )


def run_as_user() -> str:
    # A numeric USER lets Kubernetes' runAsNonRoot verify it without reading /etc/passwd.
    return f"USER {USER_ID}:{USER_ID}"


def labels(spec: Spec) -> str:
    values = {
        "org.opencontainers.image.title": spec.name,
        "org.opencontainers.image.version": spec.version,
        **image_labels(spec.name, spec.version, spec.fingerprint),
    }
    if spec.description:
        # A label is one line: fold the description's line breaks and tabs into spaces.
        values["org.opencontainers.image.description"] = " ".join(spec.description.split())
    pairs = [f"{key}={quote(value, key)}" for key, value in values.items()]
    # The base as built: the spec's, or the one `envparity build --base-image` passed.
    pairs.append("org.opencontainers.image.base.name=${BASE_IMAGE}")
    return "ARG BASE_IMAGE\nLABEL " + " \\\n      ".join(sorted(pairs))


def command(spec: Spec) -> str:
    if not spec.run.command:
        return ""
    for i, arg in enumerate(spec.run.command):
        _refuse_unquotable(arg, f"run.command[{i}]")
    # JSON exec form: no shell, no variable expansion, and JSON escapes every quote.
    return "CMD " + json.dumps(list(spec.run.command))


def stage_targets(spec: Spec, stage_locks: Mapping[str, str]) -> str:
    # Stages that add packages come last: the classic builder builds every stage before
    # the target, so `--target production` must not need the test tools' wheels.
    ordered = sorted((s for s in STAGES if s in spec.stages), key=lambda s: s in stage_locks)
    out = []
    for stage in ordered:
        lines = [f"FROM env AS {stage}"]
        if stage in stage_locks:
            lock = stage_locks[stage]
            lines += [
                f"# Packages only {stage} adds, in a layer on top of the shared image.",
                "USER 0:0",
                OFFLINE_ARG,
                _pip_install(lock, stage),
                f"USER {USER_ID}:{USER_ID}",
            ]
        out.append("\n".join(lines))
    return "\n\n".join(out)


# --- helpers -----------------------------------------------------------------------------


OFFLINE_ARG = "ARG ENVPARITY_OFFLINE=0"


def _pip_install(lock: str, wheels: str) -> str:
    # Only this lock's wheels are copied (wheelhouse/<wheels>/, when present), so a wheel of
    # another layer never invalidates this one. --no-deps: the locks are the whole closure
    # (a layer may need a package of a later one only at run time); --require-hashes:
    # nothing unhashed gets in.
    return (
        f"COPY {lock} {WHEELHOUSE}/{wheels}/* {WORK}/\n"
        f'RUN if [ "$ENVPARITY_OFFLINE" = 1 ]; then set -- --no-index; fi \\\n'
        f" && pip install --no-cache-dir --no-deps --require-hashes --find-links {WORK} "
        f'"$@" -r {WORK}/{lock} \\\n'
        f" && rm -rf {WORK}"
    )


def quote(value: str, where: str) -> str:
    """`value` as one ENV/LABEL word that Docker unquotes to exactly `value`.

    POSIX single quotes (`shlex.quote`): Docker's lexer takes everything between them
    literally, `$` and backslashes included, in old and new engines alike (the meaning of
    a backslash inside double quotes changed between Docker versions).
    """
    _refuse_unquotable(value, where)
    return shlex.quote(value)


def _refuse_unquotable(value: str, where: str) -> None:
    match = UNQUOTABLE.search(value)
    if match:
        raise RenderError(
            f"{where}: contains {match.group()!r}, which cannot be written into a Dockerfile",
            "remove control characters and line breaks from the value",
        )


def _checked(value: str, pattern: re.Pattern[str], where: str, expected: str) -> str:
    """`value` when it matches `pattern` whole; shell commands take nothing else."""
    if not pattern.fullmatch(value):
        raise RenderError(
            f"{where}: {value!r} is not {expected}",
            f"fix {where} in the spec (`envparity validate` shows where)",
        )
    return value
