"""Steps every peer's import shares: name, Python, CUDA release, packages, env, run and stages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from envparity.core import facts, named_file
from envparity.core.peer_import.draft import DEFAULT_PYTHON, SECRET_NAME, Draft
from envparity.core.peer_packages import sort_lines


def _start(draft: Draft, name: str, description: Any) -> None:
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)[:40].rstrip("-") or "imported"
    draft.fields.update({"envparity": 1, "name": slug, "version": "1.0.0"})
    if isinstance(description, str) and description.strip():
        draft.fields["description"] = description.strip()


def _python(draft: Draft, written: str | None, key: str | None) -> None:
    minor = ".".join(str(written).split(".")[:2]) if written else DEFAULT_PYTHON
    exact = (
        str(written)
        if written and str(written).count(".") == 2
        else facts.newest_python_patch(minor)
    )
    if exact is None:
        exact = str(written)
        draft.notes.append(f"Python {written} is not known to envparity: validate will say so")
    elif key and exact != str(written):
        draft.notes.append(
            f"python {exact} is the newest {minor} release envparity knows ({key}: {written})"
        )
    elif not key:
        draft.notes.append(f"python {exact}: the peer file names no Python")
    draft.fields["python"] = exact


def _cuda_release(draft: Draft, minor: tuple[int, ...], written: Any = None) -> str | None:
    """The exact CUDA release of `minor` with images: the written one, else the newest."""
    releases = facts.cuda_releases_of_minor(tuple(minor[:2]))
    if written in releases:
        return written
    if not releases:
        draft.lost.append(
            f"CUDA {'.'.join(map(str, minor))}: no nvidia/cuda image of it is known to envparity"
        )
        return None
    return releases[0]


def _torch_index(
    draft: Draft,
    torch: str | None,
    builds: tuple[str, ...] | None,
    minor: tuple[int, ...],
    pins: list[str],
) -> str | None:
    """The download.pytorch.org index Cog installs torch from, only when it has that build.

    The build is the pin's local label (`torch==2.1.0+cu118`) when it has one, else the
    CUDA's (`cu121`); an index is added only when envparity's knowledge lists that build for
    the pinned torch, so the drafted spec never points pip at an index without the wheel.
    """
    if not torch:
        return None
    label = next(
        (m[1] for p in pins if (m := re.fullmatch(r"\s*torch\s*==[^+;\s]*\+(\w+).*", p))), None
    )
    cu = label or "cu" + "".join(map(str, minor[:2]))
    if not cu.startswith("cu"):
        return None  # a cpu/rocm build: not Cog's CUDA index
    if cu not in (builds or ()):
        draft.notes.append(
            f"no torch index added: envparity does not know a {cu} build of torch {torch}"
            + (f" (known: {', '.join(builds)})" if builds else "")
        )
        return None
    draft.notes.append(f"torch comes from the {cu} index, as Cog installs it")
    return f"https://download.pytorch.org/whl/{cu}"


def _package_lines(draft: Draft, lines: Any, key: str):
    """Sort a peer's package list: pins stay, options and URL installs are said, not lost."""
    found = sort_lines([str(x) for x in lines or []])
    for line, message, hint in found.urls:
        draft.lost.append(f"{key}: {line} (a spec cannot pin a URL: {hint})")
        draft.refuse(f"{key}: {message}", hint)
    for option in found.options:
        draft.lost.append(f"{key}: {option} (a pip option with no place in a spec)")
    return found


def _indexes(draft: Draft, urls: list[str]) -> None:
    unique = list(dict.fromkeys(urls))
    if unique:
        draft.fields["package_indexes"] = unique


def _torch_minor(pins: list[str]) -> str | None:
    for pin in pins:
        match = re.fullmatch(r"\s*torch\s*==\s*([0-9]+)\.([0-9]+)[^\s;]*.*", pin)
        if match:
            return f"{match[1]}.{match[2]}"
    return None


def _requirements_file(draft: Draft, path: Path, relative: Any) -> list[str] | None:
    """The lines of the peer's requirements file (for torch), or None when it is missing."""
    if not relative:
        return None
    text, problem = named_file.read(str(path), str(relative), (), str(relative))
    if problem is not None:  # missing, or not a file a peer may name (outside, a device)
        draft.lost.append(f"requirements file {problem.message}")
        return None
    return text.splitlines()


def _list_field(draft: Draft, key: str, values: Any) -> None:
    if values:
        draft.fields[key] = [str(v) for v in values]


def _env(draft: Draft, env: dict | None) -> None:
    """Baked env vars; a name without a value is not baked as the text "None"."""
    for key, value in (env or {}).items():
        if value is None:
            draft.lost.append(f"env {key}: no value (give it one, or make it a stage secret)")
        else:
            draft.fields.setdefault("env", {})[str(key)] = str(value)


def _lost_rest(draft: Draft, data: dict, used: set[str], prefix: str = "") -> None:
    for key, value in data.items():
        if key not in used and value not in (None, {}, [], ""):
            draft.lost.append(f"{prefix}{key}: {_one_line(value)}")


def _run_and_stages(
    draft: Draft,
    gpus: int,
    command: list[str] | None,
    cpu: Any,
    memory: Any,
    secrets: list[str] | None,
    port: int | None = None,
) -> None:
    run: dict[str, Any] = {}
    if command:
        run["command"] = command
    if port:
        run["port"] = port
    run["gpus"] = gpus
    if cpu:
        run["cpu"] = str(cpu)
    if memory:
        run["memory"] = str(memory)
    draft.fields["run"] = run
    production: dict[str, Any] = {}
    if secrets:
        production["secrets"] = secrets
    draft.fields["stages"] = {"local": {"gpus": 0}, "production": production}


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= 100 else text[:97] + "..."


def _secret_names(draft: Draft, names: list, key: str) -> list[str]:
    """Names a stage's `secrets` accepts; any other is said in a comment, not dropped."""
    out = []
    for name in map(str, names):
        if SECRET_NAME.fullmatch(name):
            out.append(name)
        else:
            draft.lost.append(
                f"{key}: {name} (a spec's secret names are [A-Za-z_][A-Za-z0-9_]*: store it "
                "under such a name and add it to stages.production.secrets)"
            )
    return out
