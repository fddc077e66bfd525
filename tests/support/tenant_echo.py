"""A test-only tenant-scoped intent: its input model has `tenant`, like memory.*, and it answers with the
tenant it was given. It shows at the one boundary that the tenant comes from the key, never the client."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from intents import registry
from intents.spec import IntentSpec, Mode


class EchoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200)
    tenant: str = "default"


@activity.defn(name="test.tenant_echo")
async def tenant_echo(inp: EchoInput) -> dict:
    activity.logger.info("echoing for tenant %s", inp.tenant)
    return {"text": inp.text, "tenant": inp.tenant}


SPEC = registry.register(
    IntentSpec(
        name="test.tenant_echo",
        mode=Mode.WORKER,
        description="Test only: answers with the tenant it was given.",
        input_model=EchoInput,
        activity="test.tenant_echo",
        read_only=True,
        timeout=timedelta(seconds=10),
    ),
    replace=True,
)
