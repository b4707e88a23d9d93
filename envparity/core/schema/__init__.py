"""The JSON Schema of the spec format (the single source of field names), and checks against it.

A valid spec is recognised without jsonschema (`conforms`, much faster to start); only an
invalid one is explained by jsonschema, whose errors are turned into `Diagnostic`s that say
what was expected in the words of the schema's own `title` and `description`, with a
"did you mean" for typos.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any

from envparity.core.diagnostics import Diagnostic, dotted
from envparity.core.schema.conforms import conforms

SCHEMA_FILE = Path(__file__).with_name("envspec.schema.json")


@cache
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def fields_with_role(role: str) -> tuple[str, ...]:
    """Top-level field names whose `x-envparity-role` is `role`, in schema order."""
    return tuple(k for k, v in schema()["properties"].items() if v.get("x-envparity-role") == role)


def stage_fields() -> tuple[str, ...]:
    return tuple(schema()["$defs"]["stage"]["properties"])


@cache
def _validator():
    import jsonschema  # imported here: only specs that fail the schema pay for it

    return jsonschema.Draft202012Validator(schema())


def check_schema(data: Any, raw: dict[tuple, str] | None = None) -> list[Diagnostic]:
    """Every schema error in `data`, as diagnostics with JSON paths (no positions yet).

    `raw` maps paths to scalar text as written, to quote it back in hints.
    """
    if conforms(data, schema(), schema()):
        return []
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(data):
        out.extend(_diagnose(error, raw or {}))
    return out


_JSON_TYPES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "a mapping",
    type(None): "empty (null)",
}


def _describe(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _diagnose(error, raw: dict[tuple, str]) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    node = error.schema if isinstance(error.schema, dict) else {}
    title = node.get("title", dotted(path) or "value")
    hint = node.get("description")
    value = error.instance
    kind = error.validator

    if kind == "additionalProperties":
        allowed = list(node.get("properties", {}))
        return [_unknown_field(path, key, allowed) for key in value if key not in allowed]
    if kind == "required":
        missing = error.message.split("'")[1]
        field = schema()["properties"].get(missing, {})
        return [
            Diagnostic(
                f"missing required field '{missing}'",
                path,
                f"add {missing}: ... ({field.get('description', field.get('title', ''))})",
            )
        ]
    if kind == "type":
        expected = node.get("type")
        expected = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        message = f"expected {words}, got {_describe(value)}"
        if "string" in expected and isinstance(value, (int, float, bool)):
            text = raw.get(path, str(value))
            hint = (
                f'write it in quotes: "{text}" (YAML reads {text} unquoted as {_describe(value)})'
            )
        return [Diagnostic(message, path, hint)]
    if kind == "maxLength":
        return [
            Diagnostic(
                f"{title} is {len(value)} characters long, more than {node['maxLength']}",
                path,
                f"shorten it to at most {node['maxLength']} characters",
            )
        ]
    if kind in ("maxItems", "maxProperties"):
        most = node[kind]
        return [
            Diagnostic(
                f"{title} has {len(value)} entries, more than {most}",
                path,
                f"keep it to at most {most} entries",
            )
        ]
    if kind == "pattern":
        return [Diagnostic(f"{_quoted(value)} is not a valid {title}", path, hint)]
    if kind == "propertyNames":
        # jsonschema reports the bad name as the instance of a sub-error
        return [
            Diagnostic(
                f"{_quoted(sub.instance)} is not a valid {sub.schema.get('title', 'name')}",
                (*path, sub.instance),
                sub.schema.get("description"),
                at_key=True,
            )
            for sub in error.context
        ] or [Diagnostic(error.message, path, hint)]
    if kind == "enum":
        options = node["enum"]
        close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
        fix = f"did you mean '{close[0]}'? " if close else ""
        return [
            Diagnostic(
                f"{_quoted(value)} is not a known {title}",
                path,
                f"{fix}one of: {', '.join(map(str, options))}",
            )
        ]
    if kind == "const" and path == ("envparity",):
        return [
            Diagnostic(
                f"spec format {value!r} is not known to this envparity, which reads format 1",
                path,
                "write envparity: 1, or upgrade envparity",
            )
        ]
    if kind == "uniqueItems":
        return [Diagnostic(f"{title} lists the same item twice", path, "remove the duplicate")]
    if kind == "minItems":
        return [Diagnostic(f"{title} must not be empty", path, hint)]
    if kind == "minProperties":
        return [
            Diagnostic(f"{title} must name at least one stage", path, "add e.g. production: {}")
        ]
    return [Diagnostic(f"{title}: {error.message}", path, hint)]


def _quoted(value: Any, limit: int = 80) -> str:
    """`value` as Python writes it, cut short: a message is one line, whatever was written."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true/false",
    "null": "null",
}


def _unknown_field(path: tuple, key: str, allowed: list[str]) -> Diagnostic:
    where = (*path, key)
    top = schema()["properties"]
    in_stage = len(path) == 2 and path[0] == "stages"
    if in_stage and top.get(key, {}).get("x-envparity-role") == "software":
        return Diagnostic(
            f"a stage cannot set {key!r}: it is part of the software environment, which is "
            "identical in every stage (parity by construction)",
            where,
            at_key=True,
            hint=f"set {key} at the top level for all stages, or make a separate environment; "
            f"a stage may set only: {', '.join(stage_fields())}",
        )
    close = [a for a in allowed if a.startswith(key.lower())] or difflib.get_close_matches(
        key, allowed, n=1, cutoff=0.6
    )
    hint = f"did you mean '{close[0]}'?" if close else f"known fields here: {', '.join(allowed)}"
    what = "stage" if path == ("stages",) else "field"
    return Diagnostic(f"unknown {what} {key!r}", where, hint, at_key=True)
