"""GET /intents: every intent with its mode, description and JSON schema, from the one registry."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from gateway.auth import require_token
from intents import registry

router = APIRouter(tags=["intents"], dependencies=[Depends(require_token)])


@router.get("/intents", operation_id="listIntents", summary="List the intents this gateway can run")
async def list_intents() -> dict:
    return {"intents": [spec.public() for spec in registry.all_intents()]}
