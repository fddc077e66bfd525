"""Embedders. The default works offline; semantic ones are a setting away.

- `hash` (default): signed feature hashing of terms and character trigrams. No model, no network,
  deterministic across processes (blake2b, not Python's salted hash()). Good at lexical overlap;
  hybrid search adds keyword ranking on top.
- `onnx`: Chroma's bundled MiniLM ONNX embedder (downloads its model on first use).
- `openai`: any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, LiteLLM).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from typing import Protocol

import httpx

from activities.text import terms
from config import Settings
from intents.errors import ErrorType, app_error


class Embedder(Protocol):
    name: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class HashEmbedder:
    def __init__(self, dim: int = 512):
        self.dim = dim
        self.name = f"hash{dim}"

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for term in terms(text):
            self._add(vec, "w:" + term, 1.0)
            padded = f"#{term}#"
            for i in range(len(padded) - 2):
                self._add(vec, "c:" + padded[i : i + 3], 0.35)
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def _add(self, vec: list[float], feature: str, weight: float) -> None:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % self.dim
        sign = 1.0 if digest[4] & 1 else -1.0
        vec[bucket] += sign * weight

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


class OnnxEmbedder:
    name = "onnx-minilm"

    def __init__(self) -> None:
        from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

        self._fn = DefaultEmbeddingFunction()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = await asyncio.to_thread(self._fn, texts)
        return [list(map(float, v)) for v in vectors]


class OpenAIEmbedder:
    def __init__(self, settings: Settings):
        if not settings.embeddings_url:
            raise ValueError("EMBEDDER=openai needs EMBEDDINGS_URL")
        self._url = settings.embeddings_url.rstrip("/") + "/embeddings"
        self._model = settings.embeddings_model
        key = settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.AsyncClient(timeout=30)
        self.name = "openai-" + "".join(c if c.isalnum() else "-" for c in self._model)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        try:
            resp = await self._client.post(self._url, json={"model": self._model, "input": texts}, headers=self._headers)
        except httpx.HTTPError as exc:
            raise app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"embeddings endpoint unreachable: {exc}", retryable=True) from None
        if resp.status_code == 429 or resp.status_code >= 500:
            raise app_error(ErrorType.UPSTREAM_UNAVAILABLE, f"embeddings endpoint answered {resp.status_code}", retryable=True)
        if resp.status_code in (401, 403):
            raise app_error(ErrorType.UPSTREAM_AUTH, "embeddings endpoint refused the API key")
        if resp.status_code >= 400:
            raise app_error(ErrorType.UPSTREAM_BAD_REQUEST, f"embeddings endpoint answered {resp.status_code}")
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return [d["embedding"] for d in data]


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "onnx":
        return OnnxEmbedder()
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    return HashEmbedder()
