"""A pip requirements file named by `python_requirements`, read the way pip reads it.

pip's format (pip.pypa.io, "Requirements File Format"): one requirement per line,
`#` comments (at the start or after whitespace), a trailing backslash joins lines,
`--hash=sha256:hex` options on a requirement line (a set: their order means nothing),
`-i/--index-url` (the last one wins, as in pip) and `--extra-index-url` option lines; an
index URL with a user name or password in it is refused (`credentials`). Every requirement
is held to the rules of inline pins (`requirements.check_pin`); every problem is located at
`file:line:col` of the requirements file. Other options (`-r`, `-c`, `-e`, `--find-links`,
...) are refused: they would make the file depend on what is beside it, which the
fingerprint could not cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envparity.core import credentials, requirements
from envparity.core.diagnostics import Diagnostic

# pip also takes sha384 and sha512, but the lock holds the sha256 of each file (uv
# --generate-hashes): a hash of another algorithm could never match one, so it is refused.
HASH = re.compile(r"sha256:[0-9a-f]{64}")
MAX_LINE = 4096  # characters of a logical line: a pin with its hashes fits many times over
MAX_PINS = 2000  # as python_packages' maxItems: each pin is parsed by several rules
INDEX_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!%+=,-]+")
INDEX_OPTIONS = {"-i": "index_url", "--index-url": "index_url", "--extra-index-url": "extra"}
FIELD = ("python_requirements",)


@dataclass(frozen=True)
class RequirementsFile:
    """What a requirements file says, normalised: its content, never its path."""

    requirements: tuple[str, ...]  # normalised pins, sorted by name
    hashes: tuple[tuple[str, tuple[str, ...]], ...]  # (normalised pin, sorted --hash values)
    index_url: str | None
    extra_index_urls: tuple[str, ...]
    # (normalised pin, line, column) in the file: for messages, not part of the content
    positions: tuple[tuple[str, int, int], ...] = field(default=(), compare=False)

    def position_of(self, pin: str) -> tuple[int, int] | None:
        return next(((line, col) for p, line, col in self.positions if p == pin), None)

    def to_json(self) -> dict:
        return {
            "requirements": list(self.requirements),
            "hashes": {pin: list(values) for pin, values in self.hashes},
            "index_url": self.index_url,
            "extra_index_urls": list(self.extra_index_urls),
        }


@dataclass(frozen=True)
class _Line:
    text: str  # the logical line, continuations joined, comment removed
    line: int  # 1-based line of its first physical line
    column: int  # 1-based column of its first non-blank character


def parse(text: str, shown: str, inline: list[str]) -> tuple[RequirementsFile | None, list]:
    """The file's content and every problem in it (at `shown`:line:col).

    `inline` is the spec's own python_packages: a project pinned in both is a duplicate.
    """
    problems: list[Diagnostic] = []

    def error(message: str, at: _Line, hint: str, column: int | None = None) -> None:
        problems.append(
            Diagnostic(message, FIELD, hint, file=shown, line=at.line, column=column or at.column)
        )

    inline_names = {requirements.name_of(r): i for i, r in enumerate(inline)}
    pins: dict[str, tuple[str, tuple[str, ...], _Line]] = {}
    index_url, extra, lines = None, [], 0
    for at in _logical_lines(text):
        if len(at.text) > MAX_LINE:
            error(
                f"the line is {len(at.text)} characters long, more than {MAX_LINE}",
                at,
                "write one requirement per line",
            )
            continue
        words = at.text.split()
        option = words[0].split("=", 1)[0]
        if option in INDEX_OPTIONS:
            url = words[0].split("=", 1)[1] if "=" in words[0] else " ".join(words[1:2])
            if len(words) > (1 if "=" in words[0] else 2) or not INDEX_URL.fullmatch(url):
                error(
                    f"{option} needs one plain http(s) URL, got {at.text[len(option) :].strip()!r}",
                    at,
                    f"write {option} https://host/simple/",
                )
            elif credentials.has_userinfo(url):
                error(credentials.index_url_problem(url), at, credentials.INDEX_CREDENTIALS_HINT)
            elif INDEX_OPTIONS[option] == "index_url":
                index_url = url  # pip: the last --index-url wins
            elif url not in extra:
                extra.append(url)
            continue
        if at.text.startswith("-"):
            error(
                f"the option {option} is not supported in a requirements file for envparity",
                at,
                "list pinned requirements, --hash, --index-url or --extra-index-url only "
                "(a file that includes others would escape the fingerprint)",
            )
            continue
        lines += 1
        if lines > MAX_PINS:
            error(
                f"more than {MAX_PINS} requirements: this is the first beyond them",
                at,
                f"keep the file to at most {MAX_PINS} pins",
            )
            break
        requirement, hashes, bad = _split_hashes(at.text)
        if bad is not None:
            error(
                f"{bad!r} is not a sha256 --hash: envparity's lock checks each file by its "
                "sha256, 64 lower-case hex digits",
                at,
                "write --hash=sha256:<64 hex digits> (`pip hash FILE` prints it)",
                at.column + at.text.find(bad),
            )
            continue
        problem = requirements.check_pin(requirement)
        if problem is not None:
            error(problem[0], at, problem[1])
            if problem[2] is None:
                continue
        name = requirements.name_of(requirement)
        if name in inline_names:
            error(
                f"'{name}' is also pinned in python_packages[{inline_names[name]}]",
                at,
                "pin each package in one place: python_packages or the requirements file",
            )
        elif name in pins:
            error(
                f"'{name}' is listed twice (first at line {pins[name][2].line})",
                at,
                "keep one pin per package",
            )
        elif problem is None:
            pins[name] = (requirements.normalise(requirement), hashes, at)
    hashed = [p for p in pins.values() if p[1]]
    if hashed and len(hashed) != len(pins):
        for pin, _, at in (p for p in pins.values() if not p[1]):
            error(
                f"{pin} has no --hash while other lines have one: pip then checks hashes of "
                "every requirement and refuses this one",
                at,
                "add --hash=sha256:... to every line, or to none",
            )
    if any(d.severity == "error" for d in problems):
        return None, problems
    ordered = sorted(pins.values(), key=lambda p: requirements.name_of(p[0]))
    return (
        RequirementsFile(
            requirements=tuple(p[0] for p in ordered),
            hashes=tuple((p[0], p[1]) for p in ordered if p[1]),
            index_url=index_url,
            extra_index_urls=tuple(extra),
            positions=tuple((p[0], p[2].line, p[2].column) for p in ordered),
        ),
        problems,
    )


COMMENT = re.compile(r"(^|\s+)#.*$")


def _logical_lines(text: str) -> list[_Line]:
    """pip's preprocessing: join backslash continuations (a comment line never continues),
    drop comments and blank lines."""
    out: list[_Line] = []
    pending, start = "", 0
    for number, raw in enumerate([*text.splitlines(), ""], start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not COMMENT.match(raw):
            pending += raw[:-1]
            continue
        joined = COMMENT.sub("", pending + raw)
        pending = ""
        if joined.strip():
            column = len(joined) - len(joined.lstrip()) + 1
            out.append(_Line(joined.strip(), start, column))
    return out


def _split_hashes(text: str) -> tuple[str, tuple[str, ...], str | None]:
    """('name==1.0', hashes, None), or (..., the first malformed --hash) when one is bad."""
    parts = re.split(r"\s+(?=--hash)", text)
    hashes = []
    for option in parts[1:]:
        value = re.sub(r"^--hash[=\s]\s*", "", option).strip()
        if not HASH.fullmatch(value):
            return parts[0], (), option.strip()
        hashes.append(value)
    return parts[0].strip(), tuple(sorted(set(hashes))), None
