"""The one Settings object. Every environment variable the platform reads is declared here.

The README's settings table is checked against this class by a test, so the two cannot drift.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # --- Gateway -----------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token clients must send. `make dev` generates one if unset."
    )
    gateway_host: str = Field(default="127.0.0.1", description="Gateway bind address.")
    gateway_port: int = Field(default=8000, description="Gateway port.")
    sync_timeout_s: float = Field(
        default=8.0, ge=0, le=60, description="How long POST /orchestrate waits before answering 202."
    )
    max_body_bytes: int = Field(
        default=100_000, ge=1024, description="Largest request body accepted (413 above it)."
    )
    max_result_chars: int = Field(
        default=90_000,
        ge=1000,
        description="Results are cut to this many characters so responses fit ChatGPT's 100k limit.",
    )
    embedded_worker: bool = Field(
        default=False,
        description="Run a worker inside the gateway process so starts are eager (one process, lower latency).",
    )

    # --- Temporal ----------------------------------------------------------------------
    temporal_address: str = Field(default="127.0.0.1:7233", description="Temporal frontend host:port.")
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    task_queue: str = Field(default="orchestrator", description="Default task queue for workflows and activities.")

    # --- Data / dev launcher -----------------------------------------------------------
    data_dir: Path = Field(default=Path(".data"), description="Dev data: Temporal SQLite DB, Chroma files, API key.")
    temporal_ui_port: int = Field(default=8233, description="Web UI port of the dev server started by `make dev`.")
    extra_intent_modules: list[str] = Field(
        default_factory=list,
        description="Extra Python modules to import at start-up; each may register intents and activities.",
    )

    # --- Memory (Chroma) ---------------------------------------------------------------
    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset = embedded PersistentClient.")
    chroma_collection: str = Field(default="memories", description="Chroma collection for memories.")
    embedder: Literal["hash", "onnx", "openai"] = Field(
        default="hash",
        description="`hash`: offline, deterministic; `onnx`: Chroma's MiniLM (downloads); `openai`: /v1/embeddings.",
    )
    embeddings_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible embeddings API.")
    embeddings_model: str = Field(default="text-embedding-3-small", description="Model for `openai` embedder.")
    embeddings_api_key: SecretStr | None = Field(default=None, description="Key for the embeddings API.")

    log_level: str = Field(default="INFO", description="Log level.")

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
