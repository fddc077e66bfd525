"""How one MCP tool server is reached: a stdio command the worker spawns, or a streamable-HTTP URL.

`Settings.mcp_servers` maps a server name to one of these; env `MCP_SERVERS` holds the same as JSON,
e.g. `{"time": {"command": ["uvx", "mcp-server-time"], "tools": ["get_current_time"]},
"files": {"command": ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv"]}, "crm": {"url": "https://crm/mcp"}}`.

`tools` keeps only the named tools (the others are neither listed nor callable); `descriptions` replaces a
tool's own description with the operator's words (they are not third-party text).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

# Server names become the middle part of `mcp.<server>.<tool>` intent names, so no dots.
SERVER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class McpServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: list[str] | None = Field(
        default=None, min_length=1, description="stdio transport: argv of the server process."
    )
    url: str | None = Field(default=None, description="Streamable-HTTP transport: the server's /mcp endpoint.")
    env: dict[str, str] | None = Field(
        default=None, description="stdio: extra environment for the process (on top of a minimal safe one)."
    )
    cwd: str | None = Field(default=None, description="stdio: working directory of the process.")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="HTTP: headers sent on every request (e.g. Authorization)."
    )
    timeout_s: float = Field(default=60, gt=0, le=3600, description="Longest a single tool call may take.")
    tools: list[str] | None = Field(
        default=None, description="Allowlist: only these tools become intents and may be called; unset = every tool."
    )
    descriptions: dict[str, str] = Field(
        default_factory=dict, description="Per-tool description overrides, in the operator's words (tool name -> text)."
    )

    def allows(self, tool: str) -> bool:
        return self.tools is None or tool in self.tools

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("set exactly one of `command` (stdio) or `url` (streamable HTTP)")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must be http(s)://...")
        if self.tools is not None:
            unknown = sorted(set(self.descriptions) - set(self.tools))
            if unknown:
                raise ValueError(f"descriptions: {', '.join(unknown)} not in the `tools` allowlist")
        return self

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"


def check_server_names(servers: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
    for name in servers:
        if not SERVER_NAME.match(name):
            raise ValueError(
                f"MCP server name {name!r} must match {SERVER_NAME.pattern} (it becomes part of intent names)"
            )
    return servers
