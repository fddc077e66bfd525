"""Models of one chat with a GPT agent: the `agent.chat` activity's input and output.

Not a public /orchestrate intent: GPT workflow steps (`message`/`query`) and fleets call the activity.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from intents.usage import Usage

CHAT_ACTIVITY = "agent.chat"
# Partial text a running chat reports in its heartbeat details (the gateway streams it as `output`
# events): at most this many of the last characters, so a heartbeat stays small.
PARTIAL_TAIL_CHARS = 4000


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=80, description="Agent name (case-insensitive).")
    message: str = Field(min_length=1, max_length=100_000, description="The user turn sent to the agent.")
    context: list[str] = Field(
        default_factory=list, max_length=50, description="Extra material for the prompt, e.g. memory hits."
    )
    step_id: str | None = Field(default=None, max_length=64, description="Workflow step, for logs and summaries.")
    tenant: str | None = Field(
        default=None,
        max_length=128,
        description="Whose tokens these are (metrics, daily budget); none = the default tenant.",
    )


class ChatResult(BaseModel):
    agent: str = Field(description="The agent's canonical name.")
    model: str
    provider: str = Field(description="`openai` or `offline`.")
    content: str
    offline: bool = Field(description="True when the built-in offline provider answered (no model was called).")
    usage: Usage | None = Field(
        default=None, description="Tokens and cost: as the API reported them, or estimated by the offline provider."
    )


class PartialOutput(BaseModel):
    """A running chat's heartbeat details: how much text it has written so far, and the end of it."""

    step_id: str | None = None
    agent: str
    attempt: int = 1
    chars: int = Field(description="Characters written so far, across attempts (a retry continues the count).")
    tail: str = Field(description=f"The last characters written in this attempt (at most {PARTIAL_TAIL_CHARS}).")
