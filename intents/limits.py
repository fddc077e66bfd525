"""Shape limits on client JSON: how deep it nests and how large it is, checked without recursion.

Deep JSON is refused at the edge (the gateway's body scan) and again where a model holds free-form
values (a GPT step's params), so nothing downstream (pydantic serialization, Temporal payload
decoding, the workflow sandbox) ever meets a value it cannot handle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# Nesting of a free-form value (a step's params): {"a": {"b": 1}} is depth 2.
MAX_VALUE_DEPTH = 32
# JSON size of a free-form value (one step's params).
MAX_VALUE_BYTES = 64 * 1024
# Nesting of a whole request body; deeper bodies are refused before they are parsed.
MAX_BODY_DEPTH = 64


def depth(value: Any) -> int:
    """How deeply dicts and lists nest (a scalar is 0), iteratively: no RecursionError on any input."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_value(value: Any, *, max_depth: int = MAX_VALUE_DEPTH, max_bytes: int = MAX_VALUE_BYTES) -> Any:
    """Raise ValueError (pydantic turns it into a 422 naming the field) when value is too deep or too big."""
    if (found := depth(value)) > max_depth:
        raise ValueError(f"nests {found} levels deep; at most {max_depth} are allowed")
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > max_bytes:
        raise ValueError(f"is {size} bytes of JSON; at most {max_bytes} are allowed")
    return value


def json_depth(raw: bytes) -> int:
    """The nesting depth of a JSON text, from its brackets outside strings (one linear pass, no parse).
    A malformed text gets some number; the parser that reads it next reports the real error."""
    deepest = level = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            level += 1
            deepest = max(deepest, level)
        elif byte in (0x7D, 0x5D):  # } ]
            level -= 1
    return deepest
