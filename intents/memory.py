"""memory.* intents: long-term memory in Chroma plus a lexical (BM25) index (worker mode).

Tenancy: every memory belongs to one tenant. The specs are `tenant_scoped`: the workflow that calls a
handler adds the job's tenant to its argument (intents/tenancy.py), which the `*Call` models accept; the
public input models do not have the field, so a caller can never name another tenant. The handlers
keep tenants apart (each tenant has its own Chroma collection and lexical index).
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from config.api_keys import DEFAULT_TENANT, TENANT_NAME
from intents.spec import IntentSpec, Mode, RetrySpec
from intents.text import quote_short

Tag = str
TENANT_PATTERN = TENANT_NAME.pattern
MEMORY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_BATCH_ITEMS = 1000
# Temporal refuses payloads over 2 MB: a batch's texts stay well under it.
MAX_BATCH_TEXT_BYTES = 1_000_000
MAX_DELETE_IDS = 100


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            raise ValueError("tags must not be blank")
        if len(tag) > 128:  # room for `gpt-workflow:<workflow id>` (remember: true)
            raise ValueError("each tag is at most 128 characters")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def _not_blank(v: str, what: str) -> str:
    if not v.strip():
        raise ValueError(f"{what} must not be blank")
    return v


class TenantScoped(BaseModel):
    """What the handlers receive on top of the inputs: whose memories these are."""

    tenant: str = Field(
        default=DEFAULT_TENANT,
        pattern=TENANT_PATTERN,
        description="Whose memories; set by the platform from the caller, never by the caller.",
    )


class MemoryWriteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000, description="What to remember.")
    tags: list[Tag] = Field(default_factory=list, max_length=32, description="Labels to filter by later.")
    speaker_id: str | None = Field(default=None, max_length=128, description="Who said it.")

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _not_blank(v, "text")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return _clean_tags(v)


class MemoryWriteCall(MemoryWriteInput, TenantScoped):
    pass


class MemoryWriteOutput(BaseModel):
    id: str = Field(description="Memory id; the same job always yields the same id.")


class MemoryWriteBatchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[MemoryWriteInput] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description=f"Up to {MAX_BATCH_ITEMS} memories (texts up to {MAX_BATCH_TEXT_BYTES:,} bytes in all). "
        "Each id is derived from its text, tags and speaker: writing the same item again changes nothing.",
    )

    @field_validator("items")
    @classmethod
    def _bounded(cls, v: list[MemoryWriteInput]) -> list[MemoryWriteInput]:
        size = sum(len(item.text.encode()) for item in v)
        if size > MAX_BATCH_TEXT_BYTES:
            raise ValueError(f"the texts add up to {size} bytes; a batch holds at most {MAX_BATCH_TEXT_BYTES}")
        return v


class MemoryWriteBatchCall(MemoryWriteBatchInput, TenantScoped):
    pass


class MemoryWriteBatchOutput(BaseModel):
    ids: list[str] = Field(description="The memory id of each item, in order (equal items share one id).")
    written: int = Field(description="Memories new or changed by this job; the others were already stored as they are.")


class MemorySearchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2_000, description="What to look for, in plain words.")
    k: int = Field(default=5, ge=1, le=50, description="How many hits at most.")
    tags: list[Tag] | None = Field(default=None, max_length=32, description="Only memories with any of these tags.")

    @field_validator("query")
    @classmethod
    def _query(cls, v: str) -> str:
        return _not_blank(v, "query")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return _clean_tags(v) if v is not None else None


class MemorySearchCall(MemorySearchInput, TenantScoped):
    pass


class MemoryHit(BaseModel):
    id: str
    text: str
    tags: list[str]
    speaker_id: str | None = None
    score: float = Field(description="Fused rank score (higher is better).")


class MemorySearchOutput(BaseModel):
    hits: list[MemoryHit]


class MemoryDeleteInput(BaseModel):
    """Forget memories: by id, or find them by query first (a query only ever previews)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DELETE_IDS,
        description="Memory ids to delete (from a search or a preview).",
    )
    query: str | None = Field(
        default=None,
        max_length=2_000,
        validate_default=True,
        description="Find what to delete by meaning and keywords; answers a preview with the ids to delete.",
    )
    k: int = Field(default=5, ge=1, le=50, description="With query: how many candidates the preview shows.")
    tags: list[Tag] | None = Field(
        default=None, max_length=32, description="With query: only memories with any of these tags."
    )
    dry_run: bool = Field(
        default=True,
        validate_default=True,
        description="Preview only (default). Set false, with ids, to delete.",
    )

    @field_validator("ids")
    @classmethod
    def _ids(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        for one in v:
            if not re.match(MEMORY_ID_PATTERN, one):
                raise ValueError("each id is 1-128 characters: letters, digits, '.', '_', ':' or '-'")
        return list(dict.fromkeys(v))

    @field_validator("query")
    @classmethod
    def _one_target(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            _not_blank(v, "query")
        has_ids = info.data.get("ids") is not None
        if v is not None and has_ids:
            raise ValueError("give ids or a query, not both")
        if v is None and not has_ids and "ids" in info.data:
            raise ValueError("give the ids to delete, or a query to find them")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return _clean_tags(v) if v is not None else None

    @field_validator("dry_run")
    @classmethod
    def _query_previews(cls, v: bool, info: ValidationInfo) -> bool:
        if not v and info.data.get("query") is not None:
            raise ValueError(
                "a delete by query only previews: send the ids it returned, with dry_run false, to delete them"
            )
        return v


class MemoryDeleteCall(MemoryDeleteInput, TenantScoped):
    pass


class MemoryDeleteOutput(BaseModel):
    dry_run: bool
    matches: list[MemoryHit] = Field(description="The memories that would be (dry run) or were deleted.")
    deleted: list[str] = Field(default_factory=list, description="Ids deleted now (empty in a dry run).")
    missing: list[str] = Field(
        default_factory=list, description="Ids asked for that do not exist (or are already gone)."
    )
    next_step: str | None = Field(default=None, description="What to send to delete the previewed memories.")


def _delete_summary(inp: MemoryDeleteInput) -> str:
    verb = "preview" if inp.dry_run else "delete"
    what = quote_short(inp.query) if inp.query is not None else f"{len(inp.ids or [])} id(s)"
    return f"{verb} {what}"


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
        tenant_scoped=True,
        example={"text": "I prefer Python", "tags": ["preferences"]},
        summarize=lambda i: quote_short(i.text),
    ),
    IntentSpec(
        name="memory.write_batch",
        mode=Mode.WORKER,
        description=f"Store up to {MAX_BATCH_ITEMS} memories at once (bulk loading); idempotent per item.",
        input_model=MemoryWriteBatchInput,
        output_model=MemoryWriteBatchOutput,
        activity="memory.write_batch",
        read_only=False,
        timeout=timedelta(seconds=120),
        retry=RetrySpec(max_attempts=5),
        tenant_scoped=True,
        example={"items": [{"text": "Deploys happen on Thursdays", "tags": ["ops"]}, {"text": "I prefer Python"}]},
        summarize=lambda i: f"{len(i.items)} memories, first {quote_short(i.items[0].text, 40)}",
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
        tenant_scoped=True,
        example={"query": "What language do I prefer?", "k": 3},
        summarize=lambda i: quote_short(i.query),
    ),
    IntentSpec(
        name="memory.delete",
        mode=Mode.WORKER,
        description="Forget memories. Dry run by default: a query (or ids) answers a preview of what would be "
        "deleted, with the ids; call again with those ids and dry_run=false to delete them.",
        input_model=MemoryDeleteInput,
        output_model=MemoryDeleteOutput,
        activity="memory.delete",
        # It deletes when dry_run=false; the dry-run default keeps the first call harmless.
        read_only=False,
        timeout=timedelta(seconds=20),
        retry=RetrySpec(max_attempts=5),
        tenant_scoped=True,
        example={"query": "my favourite programming language", "dry_run": True},
        summarize=_delete_summary,
    ),
]
