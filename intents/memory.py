"""memory.* intents: long-term memory in Chroma (agent mode)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from intents.spec import IntentSpec, Mode, RetrySpec
from intents.text import quote_short

Tag = str


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            raise ValueError("tags must not be blank")
        if len(tag) > 64:
            raise ValueError("each tag is at most 64 characters")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


class MemoryWriteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000, description="What to remember.")
    tags: list[Tag] = Field(default_factory=list, max_length=32, description="Labels to filter by later.")
    speaker_id: str | None = Field(default=None, max_length=128, description="Who said it.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be blank")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return _clean_tags(v)


class MemoryWriteOutput(BaseModel):
    id: str = Field(description="Memory id; the same job always yields the same id.")


class MemorySearchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2_000, description="What to look for, in plain words.")
    k: int = Field(default=5, ge=1, le=50, description="How many hits at most.")
    tags: list[Tag] | None = Field(default=None, max_length=32, description="Only memories with any of these tags.")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("query must not be blank")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return _clean_tags(v) if v is not None else None


class MemoryHit(BaseModel):
    id: str
    text: str
    tags: list[str]
    speaker_id: str | None = None
    score: float = Field(description="Fused rank score (higher is better).")


class MemorySearchOutput(BaseModel):
    hits: list[MemoryHit]


INTENTS = [
    IntentSpec(
        name="memory.write",
        mode=Mode.WORKER,
        description="Store a piece of information in long-term memory.",
        input_model=MemoryWriteInput,
        output_model=MemoryWriteOutput,
        activity="memory.write",
        local_activity=True,  # a few ms against the local Chroma; the memory id is keyed by job, so a re-run upserts
        read_only=False,
        timeout=timedelta(seconds=20),
        retry=RetrySpec(max_attempts=5),
        example={"text": "I prefer Python", "tags": ["preferences"]},
        summarize=lambda i: quote_short(i.text),
    ),
    IntentSpec(
        name="memory.search",
        mode=Mode.WORKER,
        description="Find memories by meaning and keywords; best match first.",
        input_model=MemorySearchInput,
        output_model=MemorySearchOutput,
        activity="memory.search",
        local_activity=True,
        read_only=True,
        timeout=timedelta(seconds=20),
        retry=RetrySpec(max_attempts=5),
        example={"query": "What language do I prefer?", "k": 3},
        summarize=lambda i: quote_short(i.query),
    ),
]
