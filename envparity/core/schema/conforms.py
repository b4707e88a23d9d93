"""A yes/no schema check without jsonschema, for the common case of a valid spec.

Importing jsonschema and building its validator is most of the time `envparity validate`
takes on a valid spec, and a yes needs no explanation. `conforms` answers with jsonschema's
Draft 2020-12 meaning for the keywords envspec.schema.json uses; on any other keyword, or a
case it does not decide the same way cheaply, it answers no, and the caller asks jsonschema,
which then also words the errors. So a no costs what it always did and a yes is never wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Keywords that never make an instance invalid.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "examples", "x-envparity-role"}
)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# jsonschema's Draft 2020-12 type checker: 2.0 is an integer, true is not a number.
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: _number(v) and (isinstance(v, int) or v.is_integer()),
    "number": _number,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(value: Any, option: Any) -> bool:
    """jsonschema's equality, exact when `option` is a scalar: true is not 1, "1" is not 1."""
    if isinstance(value, bool) or isinstance(option, bool):
        return value is option
    if isinstance(value, (list, dict)) or isinstance(option, (list, dict)):
        return False  # a list or dict option: no, and jsonschema decides
    return value == option


def _enum(value: Any, options: list) -> bool:
    return any(_equal(value, option) for option in options)


def _type(value: Any, types: str | list[str]) -> bool:
    return any(_TYPES[t](value) for t in ([types] if isinstance(types, str) else types))


def _unique(value: Any, unique: bool) -> bool:
    if not (unique and isinstance(value, list)):
        return True
    # set() equality is jsonschema's only for strings (1 and true are distinct there)
    return all(type(x) is str for x in value) and len(set(value)) == len(value)


def conforms(value: Any, node: dict, root: dict) -> bool:
    """True only if `value` satisfies the schema `node` (part of `root`, for `$ref`)."""
    for keyword, arg in node.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "$ref":
            if not arg.startswith("#/$defs/") or not conforms(value, _ref(root, arg), root):
                return False
        elif keyword in _CONTAINERS:
            if not _CONTAINERS[keyword](value, arg, node, root):
                return False
        elif keyword not in _SCALARS or not _SCALARS[keyword](value, arg):
            return False  # an unknown keyword, too: jsonschema decides
    return True


def _ref(root: dict, target: str) -> dict:
    return root["$defs"][target.removeprefix("#/$defs/")]


_SCALARS: dict[str, Callable[[Any, Any], bool]] = {
    "type": _type,
    "const": lambda v, c: _enum(v, [c]),
    "enum": _enum,
    "pattern": lambda v, p: not isinstance(v, str) or re.search(p, v) is not None,
    "minimum": lambda v, m: not _number(v) or v >= m,
    "maximum": lambda v, m: not _number(v) or v <= m,
    "maxLength": lambda v, n: not isinstance(v, str) or len(v) <= n,  # code points, as there
    "minItems": lambda v, n: not isinstance(v, list) or len(v) >= n,
    "maxItems": lambda v, n: not isinstance(v, list) or len(v) <= n,
    "uniqueItems": _unique,
    "required": lambda v, keys: not isinstance(v, dict) or all(k in v for k in keys),
    "minProperties": lambda v, n: not isinstance(v, dict) or len(v) >= n,
    "maxProperties": lambda v, n: not isinstance(v, dict) or len(v) <= n,
}


def _extra(value: Any, extra: Any, node: dict, root: dict) -> bool:
    if not isinstance(value, dict) or extra is True:
        return True
    known = node.get("properties", {})
    others = [v for k, v in value.items() if k not in known]
    if extra is False:
        return not others
    return all(conforms(v, extra, root) for v in others)


_CONTAINERS: dict[str, Callable[[Any, Any, dict, dict], bool]] = {
    "items": lambda v, sub, _node, root: (
        not isinstance(v, list) or all(conforms(x, sub, root) for x in v)
    ),
    "properties": lambda v, subs, _node, root: (
        not isinstance(v, dict)
        or all(conforms(v[k], sub, root) for k, sub in subs.items() if k in v)
    ),
    "additionalProperties": _extra,
    "propertyNames": lambda v, sub, _node, root: (
        not isinstance(v, dict) or all(conforms(k, sub, root) for k in v)
    ),
}
