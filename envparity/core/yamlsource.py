"""YAML to plain data, keeping the line and column of every key and value.

PyYAML composes a node tree that carries marks; we build plain Python values from it
ourselves so that each value's position is known by its JSON path. Only the JSON-like
subset is accepted (mappings, sequences, strings, numbers, booleans, null): a spec
has no use for tags, and a duplicate key is an error rather than a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from envparity.core.diagnostics import Diagnostic, SpecError

try:  # libyaml is several times faster where it is installed
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"
# Plain scalars that YAML resolves to these tags are converted by YAML's own rules.
_CONVERTED = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
# A date is kept as its text: the schema then says what was expected.
_KEPT_AS_TEXT = {_STR, "tag:yaml.org,2002:timestamp"}
_MAX_DEPTH = 64  # specs are shallow; this bounds recursion on hostile input
_MAX_NODES = 100_000  # bounds alias expansion ("billion laughs")
# A spec is a page of YAML; parsing 50 MB took 51 s and 3.85 GB before this bound.
MAX_SPEC_BYTES = 1 << 20


@dataclass
class SourceMap:
    """Where each value of a document stands: JSON path -> (line, column), both 1-based."""

    file: str
    values: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    keys: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    raw: dict[tuple, str] = field(default_factory=dict)  # scalar text as written

    def position(self, path: tuple, *, key: bool = False) -> tuple[int, int] | tuple[None, None]:
        """The position of `path` (its key when `key`), else of its nearest ancestor."""
        path = tuple(path)
        while True:
            table = self.keys if key else self.values
            if path in table:
                return table[path]
            if key and path in self.values:
                return self.values[path]
            if not path:
                return (None, None)
            path = path[:-1]
            key = False

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        line, column = self.position(diagnostic.path, key=diagnostic.at_key)
        return diagnostic.located(self.file, line, column)


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; raise SpecError with file:line:col on any syntax problem."""
    source = SourceMap(file)
    if len(text) > MAX_SPEC_BYTES:  # characters: at least as many bytes, checked before parsing
        raise SpecError(
            [
                Diagnostic(
                    f"the spec is {len(text)} characters, more than the {MAX_SPEC_BYTES} "
                    f"({MAX_SPEC_BYTES >> 20} MiB) envparity reads",
                    file=file,
                    hint="a spec is a page of YAML: keep long lists in a requirements file",
                )
            ]
        )
    _check_encodable(text, file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(
            [
                Diagnostic(
                    f"YAML syntax error: {problem}",
                    hint="check indentation, quoting and the ':' after each key",
                    file=file,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ]
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        raise SpecError([_text_error(text, exc.position, exc.character, file)]) from None
    if node is None:
        return None, source
    builder = _Builder(source)
    data = builder.build(node, (), depth=0)
    if builder.errors:
        raise SpecError(builder.errors)
    return data, source


def _check_encodable(text: str, file: str) -> None:
    """Reject text that is not valid Unicode (a lone surrogate) with its position.

    A file read as strict UTF-8 never holds one; text handed to `parse_spec` by a caller
    may, and the YAML parser would fail on it with an encoding error instead of a message.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SpecError([_text_error(text, exc.start, exc.object[exc.start], file)]) from None


def _text_error(text: str, position: int, character: str, file: str) -> Diagnostic:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return Diagnostic(
        f"character {character!r} is not allowed in YAML",
        file=file,
        line=line,
        column=column,
        hint="remove it, or write it as an escape in a double-quoted string",
    )


class _Builder:
    def __init__(self, source: SourceMap) -> None:
        self.src = source
        self.errors: list[Diagnostic] = []
        self.count = 0

    def build(self, node: yaml.Node, path: tuple, depth: int) -> Any:
        src, errors = self.src, self.errors
        src.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.count += 1
        if depth > _MAX_DEPTH or self.count > _MAX_NODES:
            if not errors or "too deeply" not in errors[-1].message:
                errors.append(
                    _error(
                        node,
                        path,
                        src,
                        "document is nested too deeply or too large",
                        "a spec is a small, shallow document; avoid YAML aliases",
                    )
                )
            return None
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    errors.append(
                        _error(
                            key_node,
                            path,
                            src,
                            "YAML merge keys ('<<') are not supported",
                            "write the keys out in full",
                        )
                    )
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    errors.append(
                        _error(key_node, path, src, "a mapping key must be a plain string")
                    )
                    continue
                key = key_node.value
                child = (*path, key)
                if key in result:
                    first = src.keys[child]
                    errors.append(
                        _error(
                            key_node,
                            child,
                            src,
                            f"duplicate key {key!r} (first set at line {first[0]})",
                            "remove one of the two",
                        )
                    )
                    continue
                src.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.build(value_node, child, depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        src.raw[path] = node.value
        if node.tag in _KEPT_AS_TEXT:
            return node.value
        if node.tag in _CONVERTED and not node.style:
            return yaml.load(node.value, Loader=_Loader)
        errors.append(
            _error(node, path, src, f"unsupported YAML tag '{node.tag}'", "remove the tag")
        )
        return None


def _error(
    node: yaml.Node, path: tuple, src: SourceMap, message: str, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(
        message,
        path,
        hint,
        file=src.file,
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
    )
