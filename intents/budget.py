"""The daily token budget's ledger: its id and messages, shared by the ledger workflow
(workflows/budget.py) and the `agent.chat` activity that reads and feeds it (activities/budget.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field

LEDGER_WORKFLOW = "TokenLedgerWorkflow"
LEDGER_PREFIX = "token-ledger-"


class LedgerState(BaseModel):
    tenant: str
    day: str = Field(description="The UTC day, YYYY-MM-DD.")
    used: int = 0
    calls: int = 0


class TokenUse(BaseModel):
    tokens: int = Field(ge=0)


def ledger_id(tenant: str, day: str) -> str:
    return f"{LEDGER_PREFIX}{tenant}-{day}"
