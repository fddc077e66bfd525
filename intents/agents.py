"""Models of one chat with a GPT agent: the `agent.chat` activity's input and output.

Not a public /orchestrate intent: GPT workflow steps (`message`/`query`) and fleets call the activity.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CHAT_ACTIVITY = "agent.chat"


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=80, description="Agent name (case-insensitive).")
    message: str = Field(min_length=1, max_length=100_000, description="The user turn sent to the agent.")
    context: list[str] = Field(
        default_factory=list, max_length=50, description="Extra material for the prompt, e.g. memory hits."
    )
    step_id: str | None = Field(default=None, max_length=64, description="Workflow step, for logs and summaries.")


class ChatResult(BaseModel):
    agent: str = Field(description="The agent's canonical name.")
    model: str
    provider: str = Field(description="`openai` or `offline`.")
    content: str
    offline: bool = Field(description="True when the built-in offline provider answered (no model was called).")
    usage: dict[str, Any] | None = Field(default=None, description="Token usage as reported by the API.")
