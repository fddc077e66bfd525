"""The ChatGPT Actions schema: the live app's OpenAPI document, fitted to what a custom GPT imports.

`gpt-orchestrator actions-schema --server-url https://...` prints it; `chatgpt_actions.json` is its
committed output (a test regenerates it and fails on drift). What the post-processing guarantees,
and why (ChatGPT's documented limits for Actions):

- `openapi: 3.1.0` and one `servers` entry (the public HTTPS URL ChatGPT calls);
- a unique camelCase `operationId` on every operation (the GPT calls operations by it); routes that
  set none get one from their function name;
- summaries and descriptions of at most 300 characters (longer ones are cut, marked with "…");
- one Bearer scheme, applied globally; operations without auth (health) say `security: []`;
- `x-openai-isConsequential`: a route's own marker wins; otherwise reads (GET) are false and every
  other method is true, so anything that changes the world asks the user first. /orchestrate marks
  itself false: its consequential intents have their own preview (dry runs) and approval gate;
- no header parameters (ChatGPT cannot send custom headers; job IDs make repeats idempotent anyway),
  and no operator-only routes (metrics, keys, or anything marked `x-operator-only`);
- with a `role` (`--role caller`, what the committed file is: the GPT gets a caller key), only the
  operations that role may call (`x-required-roles`), so the GPT is never offered approve or reject;
- 422 responses describe the gateway's real error body (ErrorResponse), not FastAPI's default;
- /orchestrate carries one request example per intent that declares one, from the intent registry;
- an error response that several operations share (401, 404, 413, ...: gateway/openapi.py adds them to
  every operation alike) is written once, under `components/responses`, and referenced: the document
  says the same in a third less text;
- an optional field that may be null (`anyOf: [T, null]`) is shown as `T`: ChatGPT leaves an optional
  field out rather than sending null, and the gateway reads an absent field as null.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI

from intents import registry
from intents.text import one_line

MAX_TEXT = 300
OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
READ_METHODS = {"get", "head", "options"}
OPERATOR_ONLY_PATHS = {"/metrics"}
OPERATOR_ONLY = "x-operator-only"
CONSEQUENTIAL = "x-openai-isConsequential"
REQUIRED_ROLES = "x-required-roles"
BEARER = "bearerAuth"
# Data, not documentation: example and default values are left as they are.
LITERAL_KEYS = {"value", "example", "default", "const", "enum"}
ORCHESTRATE_PATH = "/orchestrate"
INFO_DESCRIPTION = (
    "Durable orchestration: run intents (memory, SSH, Gmail/Slack flows, MCP tools, GPT workflows) as "
    "Temporal jobs that survive restarts. Preview before applying (dry_run), a human approves risky "
    "commands, poll getJob for long jobs. Responses stay under 100k characters (long results are truncated)."
)


LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, *, allow_loopback_http: bool = False) -> str:
    """ChatGPT calls Actions over HTTPS only: refuse anything else (ValueError saying why). Plain http is
    allowed only to a loopback host, and only when asked for (local testing)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and allow_loopback_http and is_loopback(parts.hostname):
        return url
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        raise ValueError(
            "the server URL must be https:// (ChatGPT calls Actions over HTTPS only); for a local test of a "
            "loopback gateway pass --allow-http-loopback"
        )
    raise ValueError("the server URL must be https://<host> (ChatGPT calls Actions over HTTPS only)")


def cut(text: str, limit: int = MAX_TEXT) -> str:
    return one_line(text, limit)


def camel(name: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    if not words:
        return "operation"
    head, *rest = words
    ident = head[0].lower() + head[1:] + "".join(w[0].upper() + w[1:] for w in rest)
    return ident if ident[0].isalpha() else f"op{ident[0].upper()}{ident[1:]}"


def endpoint_name(operation_id: str, path: str, method: str) -> str:
    """The endpoint function's name inside FastAPI's default id (`{name}{path}_{method}`, non-word -> _)."""
    suffix = re.sub(r"\W", "_", path) + f"_{method}"
    return (
        operation_id[: -len(suffix)]
        if operation_id.endswith(suffix) and len(operation_id) > len(suffix)
        else operation_id
    )


def orchestrate_examples() -> dict[str, Any]:
    """One request example per registered intent that declares one (MCP tools are listed at run time)."""
    return {
        spec.name: {"summary": cut(spec.description, 120), "value": {"intent": spec.name, "inputs": spec.example}}
        for spec in registry.all_intents()
        if spec.example and not spec.name.startswith("mcp.")
    }


def orchestrate_description(names: list[str]) -> str:
    """As many intent names as fit in the 300 characters; listIntents has them all."""
    head = "Run an intent: 200 = result, 202 = job_id (poll getJob). Dry runs preview; risky ssh awaits approval. Intents (see listIntents): "
    for n in range(len(names), -1, -1):
        shown = [*names[:n], *(["…"] if n < len(names) else []), "mcp.<server>.<tool>"]
        text = head + ", ".join(shown) + "."
        if len(text) <= MAX_TEXT:
            return text
    return cut(head)


def _operations(doc: dict[str, Any]):
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _drop_operator_only(doc: dict[str, Any]) -> None:
    for path in list(doc.get("paths", {})):
        item = doc["paths"][path]
        for method in [m for m in METHODS if m in item]:
            if path in OPERATOR_ONLY_PATHS or item[method].get(OPERATOR_ONLY):
                del item[method]
        if not any(m in item for m in METHODS):
            del doc["paths"][path]


def _keep_role(doc: dict[str, Any], role: str) -> None:
    """Only what a key of `role` may call; open operations (no x-required-roles) stay."""
    for path in list(doc.get("paths", {})):
        item = doc["paths"][path]
        for method in [m for m in METHODS if m in item]:
            allowed = item[method].get(REQUIRED_ROLES)
            if allowed is not None and role not in allowed:
                del item[method]
        if not any(m in item for m in METHODS):
            del doc["paths"][path]


def _fix_operation_ids(doc: dict[str, Any]) -> None:
    taken: set[str] = set()
    for path, method, op in _operations(doc):
        ident = op.get("operationId") or ""
        if not OPERATION_ID.match(ident):
            ident = camel(endpoint_name(ident, path, method) if ident else f"{method} {path}")
        base, n = ident, 2
        while ident in taken:
            ident, n = f"{base}{n}", n + 1
        taken.add(ident)
        op["operationId"] = ident


def _fit_operation(method: str, op: dict[str, Any]) -> None:
    op["parameters"] = [p for p in op.get("parameters", []) if p.get("in") != "header"]
    if not op["parameters"]:
        del op["parameters"]
    secured = bool(op.get("security"))
    op.pop("security", None)
    if not secured:
        op["security"] = []  # open (health): ChatGPT sends no key
    if CONSEQUENTIAL not in op:
        op[CONSEQUENTIAL] = method not in READ_METHODS
    for status, response in op.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        if status == "422" and schema.get("$ref", "").endswith("/HTTPValidationError"):
            schema["$ref"] = "#/components/schemas/ErrorResponse"
            response["description"] = "Invalid input: error.field names the field."


def _cut_texts(node: Any) -> None:
    """Every summary and description, anywhere (operations, parameters, schemas), at most MAX_TEXT."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("summary", "description") and isinstance(value, str):
                node[key] = cut(value)
            elif key not in LITERAL_KEYS:
                _cut_texts(value)
    elif isinstance(node, list):
        for item in node:
            _cut_texts(item)


def _drop_unused_schemas(doc: dict[str, Any]) -> None:
    schemas = doc.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps({k: v for k, v in doc.items() if k != "components"}) + json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def actions_schema(app: FastAPI, server_url: str, role: str | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(app.openapi())
    if role is not None:
        _keep_role(doc, role)
    doc["openapi"] = "3.1.0"
    doc["info"]["description"] = INFO_DESCRIPTION
    doc["servers"] = [{"url": server_url.rstrip("/"), "description": "The orchestrator gateway (HTTPS)."}]
    _drop_operator_only(doc)
    _fix_operation_ids(doc)
    components = doc.setdefault("components", {})
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": f"The GPT's {role} key (gpo_…), sent as Authorization: Bearer <key>."
            if role
            else "An API key (gpo_…), sent as Authorization: Bearer <key>.",
        }
    }
    doc["security"] = [{BEARER: []}]
    for _path, method, op in _operations(doc):
        _fit_operation(method, op)
    orchestrate = doc.get("paths", {}).get(ORCHESTRATE_PATH, {}).get("post")
    if orchestrate is not None:
        examples = orchestrate_examples()
        orchestrate["description"] = orchestrate_description([*examples])
        orchestrate["requestBody"]["content"]["application/json"]["examples"] = examples
    _cut_texts(doc)
    _plain_optionals(doc)
    _drop_unused_schemas(doc)
    _share_error_responses(doc)
    return doc


def _plain_optionals(node: Any) -> None:
    """`anyOf: [T, {type: null}]` -> T, everywhere but in literal values."""
    if isinstance(node, dict):
        choices = node.get("anyOf")
        if isinstance(choices, list) and len(choices) == 2 and {"type": "null"} in choices:
            (kept,) = [c for c in choices if c != {"type": "null"}]
            del node["anyOf"]
            for key, value in kept.items():
                node.setdefault(key, value)
        for key, value in node.items():
            if key not in LITERAL_KEYS:
                _plain_optionals(value)
    elif isinstance(node, list):
        for item in node:
            _plain_optionals(item)


def _share_error_responses(doc: dict[str, Any]) -> None:
    """Error responses that recur verbatim become one `components/responses` entry each, referenced."""
    seen: dict[str, int] = {}
    for _path, _method, op in _operations(doc):
        for status, response in op.get("responses", {}).items():
            if status >= "400":
                key = json.dumps(response, sort_keys=True)
                seen[key] = seen.get(key, 0) + 1
    names: dict[str, str] = {}
    shared = doc.setdefault("components", {}).setdefault("responses", {})
    for _path, _method, op in _operations(doc):
        for status, response in op.get("responses", {}).items():
            key = json.dumps(response, sort_keys=True)
            if status < "400" or seen.get(key, 0) < 2:
                continue
            if key not in names:
                base, n = f"Error{status}", 1
                while (name := base if n == 1 else f"{base}_{n}") in shared:
                    n += 1
                names[key], shared[name] = name, response
            op["responses"][status] = {"$ref": f"#/components/responses/{names[key]}"}
    if not shared:
        del doc["components"]["responses"]


def render(doc: dict[str, Any]) -> str:
    """One-space indentation: still one key per line for diffs, and a fifth smaller than two (the whole
    document must stay under 100,000 characters to import)."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
