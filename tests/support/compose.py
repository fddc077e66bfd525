"""Read a docker-compose file the way Compose does, for tests that run without a Docker engine.

Covers what our stack uses: YAML anchors and merge keys (PyYAML), `${VAR}` interpolation with the
`:-`, `-`, `:?`, `?` forms and `$$` escapes, `.env` files, short and long port syntax, and the
shell scripts our one-shot jobs pass to `sh -c`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(KeyError):
    """A `${VAR:?message}` whose variable is unset: `docker compose` refuses to start."""


def load_compose(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a Compose `.env` file; comments and blank lines ignored."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def referenced_variables(text: str) -> dict[str, str | None]:
    """Every variable `${...}` in text, with its operator (`:-`, `:?`, ... or None for a bare reference)."""
    found: dict[str, str | None] = {}
    for match in _INTERPOLATION.finditer(text):
        name = match["braced"] or match["bare"]
        if name:
            found[name] = match["op"]
    return found


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Apply Compose's variable substitution to a string (other YAML values pass through)."""
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match[0] == "$$":
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        current = env.get(name)
        missing = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in ("?", ":?") and missing:
            raise MissingVariable(f"{name}: {arg}")
        if op in ("-", ":-") and missing:
            return arg
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def environment(service: dict[str, Any], env: dict[str, str]) -> dict[str, str | None]:
    """The service's container environment after interpolation; None = passed through but unset."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, None) for item in raw)
    resolved: dict[str, str | None] = {}
    for name, value in raw.items():
        if value is None:
            resolved[name] = env.get(name)  # a bare `NAME:` takes the value from .env, or stays unset
        else:
            resolved[name] = str(interpolate(value, env))
    return resolved


def host_ports(service: dict[str, Any]) -> list[tuple[str, int]]:
    """(host_ip, host_port) pairs the service publishes."""
    published: list[tuple[str, int]] = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published") is not None:
                published.append((port.get("host_ip", "0.0.0.0"), int(port["published"])))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 3:
            published.append((parts[0], int(parts[1])))
        elif len(parts) == 2:
            published.append(("0.0.0.0", int(parts[0])))
    return published


def image_tag(image: str) -> str | None:
    """The tag of `repo[:tag][@digest]`, or None when the image floats on an implicit `latest`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def job_script(service: dict[str, Any], env: dict[str, str]) -> str:
    """The script a one-shot job hands to `sh -c`, with Compose interpolation applied."""
    assert service.get("entrypoint") == ["/bin/sh", "-c"], "one-shot jobs run their command through sh -c"
    command = service["command"]
    script = command[0] if isinstance(command, list) else command
    return interpolate(script, env)


_CONTROL = {
    ";",
    "&&",
    "||",
    "|",
    "&",
    "(",
    ")",
    "until",
    "while",
    "if",
    "then",
    "do",
    "done",
    "else",
    "elif",
    "fi",
    "!",
}


def simple_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script: words between control operators and reserved words."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current: list[str] = []
        for token in lexer:
            if token in _CONTROL:
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands


def invocations(script: str, *prefix: str) -> list[list[str]]:
    """The simple commands of script that start with the given words, e.g. ("temporal", "operator")."""
    return [command for command in simple_commands(script) if tuple(command[: len(prefix)]) == prefix]
