"""Rules on environment variables a spec sets (`env`, a stage's `env`) or names (`secrets`).

Some names belong to envparity or to the image, and a stage must not be able to change
which code runs: a stage's `env` and `secrets` are set on the container at run time, so a
`LD_PRELOAD` or `PYTHONPATH` there would run other code than the image promoted by digest.
The top-level `env` is baked into the image, identical in every stage, so only the names
the image itself relies on are refused there. A value that looks like a token or a key
gets a warning: `env` is written into the Dockerfile, the manifests and reports.
"""

from __future__ import annotations

from envparity.core.credentials import secret_kind
from envparity.core.diagnostics import Diagnostic

IDENTITY_PREFIX = "ENVPARITY_"  # the workload's identity variables (components/workload.py)
# name (or prefix, ending in *) -> why it is reserved, for every env and secret.
RESERVED = {
    f"{IDENTITY_PREFIX}*": f"envparity sets {IDENTITY_PREFIX}* on every workload",
    "PATH": "the image's PATH puts its virtual environment first",
    "VIRTUAL_ENV": "it names the image's virtual environment",
}
# Reserved at run time too (a stage's env and secrets): they change which code runs.
RESERVED_AT_RUNTIME = {
    "HOME": "the image and `envparity run` set it",
    "LD_*": "the dynamic loader reads it: the stage would load other code than the image's",
    "PYTHONPATH": "Python finds modules by it: the stage would run other code than the image's",
    "PYTHONHOME": "Python finds its standard library by it",
    "PYTHONSTARTUP": "Python runs the file it names",
    "PYTHONUSERBASE": "Python finds user site-packages by it",
}


def reserved_because(name: str, *, runtime: bool) -> str | None:
    """Why `name` may not be set (at run time when `runtime`), or None when it may."""
    rules = {**RESERVED, **RESERVED_AT_RUNTIME} if runtime else RESERVED
    for pattern, why in rules.items():
        if name == pattern or (pattern.endswith("*") and name.startswith(pattern[:-1])):
            return why
    return None


def check_env(where: tuple, env: dict, *, runtime: bool) -> list[Diagnostic]:
    """Reserved names, and values that look like secrets, in the env mapping at `where`."""
    out = []
    for key, value in env.items():
        if not isinstance(key, str):
            continue
        why = reserved_because(key, runtime=runtime)
        if why:
            rename = (
                f"rename it without the {IDENTITY_PREFIX} prefix"
                if key.startswith(IDENTITY_PREFIX)
                else "rename it, or leave it to the image"
            )
            out.append(
                Diagnostic(f"env var {key} is reserved: {why}", (*where, key), rename, at_key=True)
            )
        kind = secret_kind(value) if isinstance(value, str) else None
        if kind:
            out.append(
                Diagnostic(
                    f"env var {key} looks like it holds {kind}: env is written into the image, "
                    "the manifests and reports",
                    (*where, key),
                    f"list {key} under the stage's secrets: (its value then comes from the "
                    "stage's secret store), and revoke the one written here",
                    severity="warning",
                )
            )
    return out


def check_secrets(where: tuple, names: list) -> list[Diagnostic]:
    """Secret names that are reserved at run time."""
    out = []
    for i, name in enumerate(names):
        why = reserved_because(name, runtime=True) if isinstance(name, str) else None
        if why:
            out.append(
                Diagnostic(
                    f"secret {name} is reserved: {why}",
                    (*where, i),
                    "name the secret by the variable the workload reads, e.g. API_TOKEN",
                )
            )
    return out
