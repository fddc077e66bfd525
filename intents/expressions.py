"""Conditions and `{{...}}` templates over earlier step results: JMESPath, never eval. Pure.

Both evaluate against a context like `{"steps": {"scan": {"status": "succeeded", "output": {...}}}}`.

Friendlier than raw JMESPath, and rewritten before compiling:
- a bare number, `true`, `false` or `null` next to a comparison operator becomes a JSON literal, so
  `steps.scan.output.findings > 0` means ``steps.scan.output.findings > `0` `` (indexes such as
  `items[0]` are untouched; text inside quotes and backticks is never rewritten);
- a step id with a hyphen may be written bare: `steps.step-1.output` means `steps."step-1".output`.
Strings are JMESPath raw strings in single quotes: `steps.scan.status == 'succeeded'` (double quotes
name a field in JMESPath). Truthiness is JMESPath's: null, false, '', [] and {} are false; 0 is true.

Templates: a param value `"{{steps.content.output}}"` (the whole string) is replaced by the value with
its JSON type; a template inside a longer string is replaced by text (strings as-is, null as '',
anything else as JSON). The part between the braces is an expression like the ones above.

Limits (every input is hostile until proven otherwise): templates are found by a single-pass scanner
(no regex, so no backtracking: linear in the text), an expression is at most MAX_EXPRESSION_CHARS, and
a rendered value is at most MAX_RENDERED_BYTES of JSON; rendering stops as soon as it would pass that
(`RenderedTooLarge`), so repeating `{{steps.a.output}}` cannot amplify a small request into a huge one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jmespath
import jmespath.functions
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

_COMPARATOR = r"(?:==|!=|<=|>=|<|>)"
_BARE_LITERAL = r"(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)"
_LITERAL_AFTER_OP = re.compile(rf"({_COMPARATOR})(\s*)({_BARE_LITERAL})(?![\w.`'\"])")
_LITERAL_BEFORE_OP = re.compile(rf"(?<![\w.`'\"\]-])({_BARE_LITERAL})(\s*)({_COMPARATOR})")
_HYPHENATED_STEP = re.compile(r"\bsteps\.([A-Za-z_][\w]*(?:-[\w]+)+)")
# Quoted identifiers, raw strings and JSON literals: copied verbatim by the rewrite.
_QUOTED = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`(?:\\.|[^`\\])*`")
_KNOWN_FUNCTIONS = frozenset(jmespath.functions.Functions().FUNCTION_TABLE)
# An expression in a condition or template; longer ones are refused at create time.
MAX_EXPRESSION_CHARS = 2000
# The JSON size of one step's rendered params (Temporal refuses payloads over 2 MB; we stop far below).
MAX_RENDERED_BYTES = 256 * 1024


_REASONS = {
    "IncompleteExpressionError": "incomplete expression (something is missing at the end)",
    "LexerError": "unexpected character",
    "ParseError": "unexpected token",
}


class ExpressionError(ValueError):
    """An expression that does not compile, or that fails while evaluating."""

    error_type = "ExpressionError"


class RenderedTooLarge(ExpressionError):
    """Rendering templates would produce more than MAX_RENDERED_BYTES."""

    error_type = "StepInputTooLarge"  # intents.errors.ErrorType.STEP_INPUT_TOO_LARGE


def _rewrite_plain(text: str) -> str:
    text = _HYPHENATED_STEP.sub(lambda m: f'steps."{m.group(1)}"', text)
    text = _LITERAL_AFTER_OP.sub(lambda m: f"{m.group(1)}{m.group(2)}`{m.group(3)}`", text)
    return _LITERAL_BEFORE_OP.sub(lambda m: f"`{m.group(1)}`{m.group(2)}{m.group(3)}", text)


def to_jmespath(expression: str) -> str:
    """The friendly syntax rewritten to standard JMESPath (see the module docstring)."""
    out, pos = [], 0
    for quoted in _QUOTED.finditer(expression):
        out.append(_rewrite_plain(expression[pos : quoted.start()]))
        out.append(quoted.group(0))
        pos = quoted.end()
    out.append(_rewrite_plain(expression[pos:]))
    return "".join(out)


@lru_cache(maxsize=1024)
def compile_expression(expression: str) -> ParsedResult:
    """Compile (friendly syntax accepted). Raises ExpressionError naming the column."""
    if not expression.strip():
        raise ExpressionError("expression is empty")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        compiled = jmespath.compile(to_jmespath(expression))
    except JMESPathError as exc:
        position = getattr(exc, "lex_position", None)
        where = f" at column {position}" if isinstance(position, int) else ""
        token = getattr(exc, "token_value", None)
        near = f" near {token!r}" if token not in (None, "") else ""
        reason = _REASONS.get(type(exc).__name__) or getattr(exc, "msg", None) or type(exc).__name__
        raise ExpressionError(f"invalid expression {expression!r}: {reason}{near}{where}") from None
    # JMESPath only notices an unknown function while evaluating; catch it now instead.
    for name in _function_names(compiled.parsed):
        if name not in _KNOWN_FUNCTIONS:
            raise ExpressionError(f"invalid expression {expression!r}: unknown function {name}()")
    return compiled


def _function_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            yield node["value"]
        for child in node.get("children", []):
            yield from _function_names(child)


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    try:
        return compile_expression(expression).search(context)
    except ExpressionError:
        raise
    except (JMESPathError, TypeError, ValueError) as exc:  # jmespath raises TypeError on 'a' > 1
        raise ExpressionError(f"cannot evaluate {expression!r}: {exc}") from None


def is_true(value: Any) -> bool:
    """JMESPath truthiness: null, false, empty string/list/object are false; everything else true."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)) and not value:
        return False
    return True


def referenced_steps(expression: str) -> list[str]:
    """Step ids named statically as `steps.<id>...` (wildcards such as `steps.*` name none)."""
    refs: list[str] = []
    _collect_refs(compile_expression(expression).parsed, refs)
    return list(dict.fromkeys(refs))


def _collect_refs(node: Any, refs: list[str]) -> None:
    if not isinstance(node, dict):
        return
    if node.get("type") == "subexpression":
        chain = _flatten_chain(node)
        if len(chain) >= 2 and _field_name(chain[0]) == "steps":
            second = chain[1]
            if second.get("type") == "index_expression" and second.get("children"):
                second = second["children"][0]
            if (name := _field_name(second)) is not None:
                refs.append(name)
    for child in node.get("children", []):
        _collect_refs(child, refs)


def _flatten_chain(node: dict[str, Any]) -> list[dict[str, Any]]:
    children = node.get("children", [])
    if children and children[0].get("type") == "subexpression":
        return _flatten_chain(children[0]) + children[1:]
    return list(children)


def _field_name(node: dict[str, Any]) -> str | None:
    return node.get("value") if node.get("type") == "field" else None


# --- templates ---------------------------------------------------------------------------


def _scan(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, expression) of every `{{ expression }}` in text, left to right, in one pass.

    The same matches the former regex found (an expression is at least one character, surrounding
    whitespace stripped, and ends at the first `}}`), but linear: `str.find` never backtracks, and once
    no `}}` follows, no later `{{` can match either.
    """
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return
        if text.startswith("}}", start + 2):  # `{{}}`: empty, no match here
            pos = start + 1
            continue
        end = text.find("}}", start + 3)
        if end < 0:
            return
        yield start, end + 2, text[start + 2 : end].strip()
        pos = end + 2


def templates_in(value: Any, path: str = "params") -> Iterator[tuple[str, str]]:
    """(where, expression) for every `{{...}}` in string values, through dicts and lists."""
    if isinstance(value, str):
        for _, _, expression in _scan(value):
            yield path, expression
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from templates_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from templates_in(item, f"{path}[{i}]")


class _Budget:
    """Counts the bytes a render has produced; raises RenderedTooLarge past the limit."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def spend(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise RenderedTooLarge(f"rendered templates exceed {self.limit} bytes (templates repeat large outputs?)")

    def value(self, value: Any) -> Any:
        self.spend(len(value.encode()) if isinstance(value, str) else _json_size(value))
        return value


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def render(value: Any, context: dict[str, Any], *, max_bytes: int = MAX_RENDERED_BYTES) -> Any:
    """Substitute templates (see the module docstring). Raises ExpressionError (RenderedTooLarge when
    the result would pass max_bytes; the count stops there, so nothing larger is ever built)."""
    return _render(value, context, _Budget(max_bytes))


def _render(value: Any, context: dict[str, Any], budget: _Budget) -> Any:
    if isinstance(value, str):
        matches = list(_scan(value))
        if not matches:
            return budget.value(value)
        if len(matches) == 1 and matches[0][:2] == (0, len(value)):
            return budget.value(evaluate(matches[0][2], context))
        out, pos = [], 0
        for start, end, expression in matches:
            out.append(budget.value(value[pos:start]))
            out.append(budget.value(as_text(evaluate(expression, context))))
            pos = end
        out.append(budget.value(value[pos:]))
        return "".join(out)
    if isinstance(value, dict):
        return {key: _render(item, context, budget) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, context, budget) for item in value]
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
