"""Package lines as Cog, Truss and BentoML users write them, sorted for a spec.

A peer's package list is a pip requirements file in YAML: besides pins it holds option lines
(`--extra-index-url URL`, also after a pin on the same line) and URL lines (a wheel URL,
`git+https://...`, `name @ URL`). A spec keeps pins in `python_packages`, index URLs in
`package_indexes`, and cannot hold a URL install at all: `url_requirement_problem` words why
and what to do instead (the wording `requirements.check_pin` should use for such lines too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url")
_SCHEME = re.compile(r"(?:(?:git|hg|svn|bzr)\+)?[A-Za-z][A-Za-z0-9+.-]*://\S+")
_NAMED_URL = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@\s*(?P<url>\S+)"
)
_WHEEL = re.compile(r"(?P<name>[A-Za-z0-9_.]+)-(?P<version>[0-9][^-]*)-.+\.whl")
_SDIST = re.compile(
    r"(?P<name>[A-Za-z0-9_.-]+?)-(?P<version>[0-9][A-Za-z0-9.+!]*)\.(?:tar\.gz|zip)"
)


@dataclass
class PackageLines:
    """A peer's package lines, each where a spec can hold it."""

    pins: list[str] = field(default_factory=list)  # for python_packages
    indexes: list[str] = field(default_factory=list)  # for package_indexes
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (line, message, hint)
    options: list[str] = field(default_factory=list)  # pip options with no place in a spec


def sort_lines(lines: list) -> PackageLines:
    """Split the lines into pins, index URLs, URL installs and other pip options."""
    out = PackageLines()
    for raw in lines:
        line = str(raw).split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        first_option = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
        requirement = " ".join(words[:first_option])
        _options(words[first_option:], out)
        if not requirement:
            continue
        problem = url_requirement_problem(requirement)
        if problem:
            out.urls.append((requirement, *problem))
        else:
            out.pins.append(requirement)
    return out


def _options(words: list[str], out: PackageLines) -> None:
    i = 0
    while i < len(words):
        name, _, value = words[i].partition("=")
        if not value and i + 1 < len(words) and not words[i + 1].startswith("-"):
            value, i = words[i + 1], i + 1
        i += 1
        if name in INDEX_OPTIONS and value.startswith(("https://", "http://")):
            if value not in out.indexes:
                out.indexes.append(value)
        else:
            out.options.append(f"{name} {value}".strip())


def url_requirement_problem(text: str) -> tuple[str, str] | None:
    """(message, hint) when a requirement line installs from a URL, else None.

    A bare URL (`https://.../torch-2.6.0-...whl`), a VCS URL (`git+https://...`) and a direct
    reference (`name @ URL`) all install whatever the URL serves: a spec pins each package by
    version, so the package has to be published where a version can be asked for.
    """
    text = text.strip()
    named = _NAMED_URL.fullmatch(text)
    if named and "://" in named["url"]:
        name, url = named["name"], named["url"]
    elif _SCHEME.fullmatch(text):
        name, url = None, text
    else:
        return None
    guess_name, version = _name_and_version(url)
    name = name or guess_name or "<name>"
    pin = f"{name}=={version or '<version>'}"
    return (
        f"{text!r} installs from a URL: a spec pins each package by version and cannot pin a URL",
        f"publish the package to a package index or a wheelhouse (a folder of wheels served as "
        f"an index, listed in package_indexes) and pin it by version: {pin}",
    )


def _name_and_version(url: str) -> tuple[str | None, str | None]:
    """The package name (and version) a URL most likely installs, from its file or repo name."""
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    if egg:
        return egg[1], None
    path = unquote(urlparse(url.split("+", 1)[-1] if url.startswith(("git+", "hg+")) else url).path)
    last = path.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0]
    for pattern in (_WHEEL, _SDIST):
        found = pattern.fullmatch(last)
        if found:
            return found["name"].replace("_", "-"), found["version"]
    last = last.removesuffix(".git")
    return (last or None), None
