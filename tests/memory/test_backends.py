"""Memory beyond the defaults: a shared Chroma server (CHROMA_URL) and a semantic embedder behind an
OpenAI-compatible /v1/embeddings endpoint (EMBEDDER=openai): both are a setting away, and both work."""

import hashlib

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.memory.test_memory import remember, search
from tests.support.asgi_server import BackgroundServer
from tests.support.chroma_server import chroma_server
from tests.support.stack import isolated_stack


async def test_memories_live_in_a_chroma_server_when_chroma_url_is_set(client, settings, tmp_path):
    with chroma_server(tmp_path / "chroma-server") as port:
        shared = {"chroma_url": f"http://127.0.0.1:{port}", "data_dir": tmp_path / "worker-a"}
        async with isolated_stack(client, settings, **shared) as (http, _):
            # Distinct texts: the same request is the same job session-wide (that is idempotency).
            python = await remember(http, "I prefer Python for data work")
            await remember(http, "The standup is at 9:30")
        # Another worker with nothing on its own disk finds it: the server holds the memories.
        elsewhere = {"chroma_url": f"http://127.0.0.1:{port}", "data_dir": tmp_path / "worker-b"}
        async with isolated_stack(client, settings, **elsewhere) as (http, _):
            hits = await search(http, "What language do I prefer?")
    assert hits[0]["id"] == python
    assert not (tmp_path / "worker-a" / "chroma").exists()


def embeddings_app(seen: list[dict]) -> Starlette:
    """An OpenAI-compatible embeddings endpoint: deterministic 8-d vectors from word hashes."""

    def vector(text: str) -> list[float]:
        vec = [0.0] * 8
        for word in text.lower().replace("?", "").split():
            vec[hashlib.sha256(word.encode()).digest()[0] % 8] += 1.0
        return vec

    async def embeddings(request: Request):
        body = await request.json()
        seen.append({"auth": request.headers.get("authorization"), **body})
        data = [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(body["input"])]
        return JSONResponse({"object": "list", "data": data, "model": body["model"]})

    return Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])


async def test_an_openai_compatible_embedder_is_a_setting_away(client, settings, tmp_path):
    seen: list[dict] = []
    with BackgroundServer(embeddings_app(seen)) as server:
        semantic = {
            "embedder": "openai", "embeddings_url": f"{server.url}/v1", "embeddings_model": "test-embed",
            "embeddings_api_key": SecretStr("emb-key"), "data_dir": tmp_path,
        }  # fmt: skip
        async with isolated_stack(client, settings, **semantic) as (http, _):
            python = await remember(http, "I prefer Python for scripts")
            hits = await search(http, "What language do I prefer?")
    assert hits[0]["id"] == python
    assert seen[0] == {"auth": "Bearer emb-key", "model": "test-embed", "input": ["I prefer Python for scripts"]}
