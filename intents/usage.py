"""Token usage and cost: what one LLM call used, and totals rolled up per step, agent, workflow, fleet and job.

Pure (no I/O). The `agent.chat` activity turns a provider's `usage` into a `Usage` and prices it from the
prices file (`config/prices.py`); workflows add them up. The offline provider reports an estimate
(`estimated: true`), about four characters per token.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

# Cost is kept to the micro-dollar: sums of many calls stay exact enough and readable.
COST_DECIMALS = 6
CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text and OpenAI's tokenizers


class Usage(BaseModel):
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0, description="From PRICES_FILE; 0 if unpriced.")
    estimated: bool = Field(default=False, description="Estimated (offline provider).")

    def plus(self, other: Usage | None) -> Usage:
        if other is None:
            return self
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, COST_DECIMALS),
            estimated=self.estimated or other.estimated,
        )

    def short(self) -> str:
        """`1,234 tokens, $0.0012` (for the Web UI's details)."""
        return f"{self.total_tokens:,} tokens, ${self.cost_usd:.4f}"


def total(usages: Iterable[Usage | None]) -> Usage:
    out = Usage()
    for usage in usages:
        out = out.plus(usage)
    return out


def _count(raw: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        value = raw.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
            return int(value)
    return None


def from_provider(raw: Any) -> Usage | None:
    """A provider's `usage` object (OpenAI's prompt/completion/total_tokens, or input/output_tokens as some
    compatible servers say) as a Usage without cost; None when it reported none we can read."""
    if not isinstance(raw, Mapping):
        return None
    prompt = _count(raw, "prompt_tokens", "input_tokens")
    completion = _count(raw, "completion_tokens", "output_tokens")
    reported_total = _count(raw, "total_tokens")
    if prompt is None and completion is None and reported_total is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=max(reported_total or 0, prompt + completion)
    )


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimated(prompt_texts: Iterable[str], completion: str) -> Usage:
    prompt = sum(estimate_tokens(t) for t in prompt_texts)
    out = estimate_tokens(completion)
    return Usage(prompt_tokens=prompt, completion_tokens=out, total_tokens=prompt + out, estimated=True)


def priced(usage: Usage, input_per_1m: float, output_per_1m: float) -> Usage:
    """The same counts with their cost (prices in USD per million tokens)."""
    cost = (usage.prompt_tokens * input_per_1m + usage.completion_tokens * output_per_1m) / 1_000_000
    return usage.model_copy(update={"cost_usd": round(cost, COST_DECIMALS)})
