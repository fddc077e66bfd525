"""The one Settings object. Every environment variable the platform reads is declared here.

The README's settings table is checked against this class by a test, so the two cannot drift.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.api_keys import Rate
from config.mcp_servers import McpServerConfig, check_server_names

OAuthRole = Literal["caller", "approver", "admin"]
DEFAULT_SCOPE_ROLES: dict[str, OAuthRole] = {
    "orchestrator:call": "caller",
    "orchestrator:approve": "approver",
    "orchestrator:admin": "admin",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # --- Gateway -----------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token clients must send. `make dev` generates one if unset."
    )
    api_key_rate: str | None = Field(
        default=None,
        description="Token bucket of the bootstrap API_KEY (`N/s`, `N/min`, `N/h`); unset = not limited. Named keys carry their own.",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="YAML store of the named API keys (hashes only; `gpt-orchestrator keys ...` writes it, the gateway "
        "re-reads it on change); unset = `DATA_DIR/api_keys.yaml`.",
    )
    allow_self_approval: bool = Field(
        default=False,
        description="Let a named key approve or reject a job it requested itself (separation of duties off).",
    )
    gateway_host: str = Field(default="127.0.0.1", description="Gateway bind address.")
    gateway_port: int = Field(default=8000, description="Gateway port.")
    sync_timeout_s: float = Field(
        default=8.0, ge=0, le=60, description="How long POST /orchestrate waits before answering 202."
    )
    max_body_bytes: int = Field(default=100_000, ge=1024, description="Largest request body accepted (413 above it).")
    body_read_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Deadline for reading a whole request body (408 and the connection closed past it).",
    )
    cancel_grace_s: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="How long cancel waits for a job to take its cancellation before terminating it (with a reason).",
    )
    max_run_s: float = Field(
        default=7 * 86_400,
        ge=60,
        description="Backstop run timeout of every job (a created GPT workflow included): Temporal ends it past this.",
    )
    max_result_chars: int = Field(
        default=90_000,
        ge=1000,
        description="Results are cut to this many characters so responses fit ChatGPT's 100k limit.",
    )
    public_url: str | None = Field(
        default=None,
        description="The gateway's public base URL (https://…): the `servers` entry of GET /actions/openapi.json and "
        "the OAuth resource (`<PUBLIC_URL>/mcp`). Unset = the request's own base URL.",
    )

    # --- MCP server (/mcp) and OAuth ------------------------------------------------------
    mcp_tool_wait_s: float = Field(
        default=25.0,
        ge=0,
        le=600,
        description="How long an MCP tool call on /mcp waits for its job (sending progress) before answering with "
        "the job's status and ID; keep it under the clients' own request timeout.",
    )
    oauth_issuer: str | None = Field(
        default=None,
        description="Authorization server whose JWT access tokens the gateway accepts (its `iss`); named in "
        "/.well-known/oauth-protected-resource. Unset = OAuth off, API keys only.",
    )
    oauth_jwks_url: str | None = Field(
        default=None,
        description="The issuer's JWKS URL; unset = discovered from the issuer's metadata "
        "(/.well-known/oauth-authorization-server, then /.well-known/openid-configuration).",
    )
    oauth_audience: str | None = Field(
        default=None, description="The `aud` tokens must carry; unset = the resource, `<PUBLIC_URL>/mcp`."
    )
    oauth_scope_roles: dict[str, OAuthRole] = Field(
        default_factory=lambda: dict(DEFAULT_SCOPE_ROLES),
        description='Token scopes that grant a role (JSON `{"scope": "role"}`); a token gets the highest role its scopes grant.',
    )
    oauth_subjects: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='Per-subject grants (JSON `{"sub": {"role": "approver", "tenant": "acme"}}`), added to what scopes grant.',
    )
    oauth_tenant_claim: str | None = Field(
        default=None,
        description="Token claim holding the tenant (e.g. `org_id`); unset = the subject's entry, else `default`.",
    )
    oauth_rate: str | None = Field(
        default="120/min",
        description="Token bucket of each OAuth subject (`N/s`, `N/min`, `N/h`); unset = not limited.",
    )
    stream_max_s: float = Field(
        default=900,
        ge=5,
        le=86_400,
        description="Longest life of one SSE progress stream (GET …/events); then it closes and the client "
        "reconnects with Last-Event-ID, losing nothing.",
    )
    stream_max_concurrent: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="Open SSE progress streams one gateway process serves at once (503 `TooManyStreams` beyond).",
    )

    # --- Temporal ----------------------------------------------------------------------
    temporal_address: str = Field(default="127.0.0.1:7233", description="Temporal frontend host:port.")
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    # Production clusters and Temporal Cloud: the standard TEMPORAL_* client settings (temporalio.envconfig).
    temporal_profile: str | None = Field(
        default=None, description="Profile to use from the Temporal client config file (TOML)."
    )
    temporal_config_file: Path | None = Field(
        default=None,
        description="Temporal client config file (TOML, with profiles); default: the CLI's, ~/.config/temporalio/temporal.toml.",
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, description="API key for Temporal Cloud or a cluster that takes one (turns TLS on)."
    )
    temporal_tls: bool | None = Field(
        default=None, description="Connect with TLS (implied by a certificate or API key)."
    )
    temporal_tls_client_cert_path: Path | None = Field(default=None, description="Client certificate for mTLS (PEM).")
    temporal_tls_client_key_path: Path | None = Field(default=None, description="Client private key for mTLS (PEM).")
    temporal_tls_server_ca_cert_path: Path | None = Field(
        default=None, description="CA that signed the server's certificate (PEM), for a private CA."
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="Server name to verify in the server's certificate (SNI)."
    )
    task_queue: str = Field(default="orchestrator", description="Default task queue for workflows and activities.")
    temporal_rpc_timeout_s: float = Field(
        default=4.0,
        gt=0,
        le=30,
        description="Deadline of one gateway call to Temporal (retries included); past it the route answers 503 `TemporalUnavailable`.",
    )

    local_activity_intents: list[str] | None = Field(
        default=None,
        description="Which of the intents declared for the fast path (`local_activity`: memory.*, approval.request) "
        'run their handler as a local activity on this worker: JSON list of names or globs (`["memory.write"]`); '
        "`[]` = none, every handler a normal activity. Unset = all declared. Runs already started keep their path.",
    )

    workflow_sandbox: bool = Field(
        default=False,
        description="Run workflow code in the Temporal SDK's sandbox, which checks determinism at run time (restricted "
        "calls, per-run module isolation) at ~6 ms of CPU per run and ~0.2 ms per activity. Off = unsandboxed, as fast "
        "as raw temporalio; the test suite and the golden-history replay run with it on.",
    )

    @field_validator("local_activity_intents")
    @classmethod
    def _intent_globs(cls, v: list[str] | None) -> list[str] | None:
        for pattern in v or ():
            if not pattern or not all(c.isalnum() or c in "._*-" for c in pattern):
                raise ValueError(f"{pattern!r} is not an intent name or glob (letters, digits, . _ - *)")
        return v

    # --- Data / dev launcher -----------------------------------------------------------
    data_dir: Path = Field(default=Path(".data"), description="Dev data: Temporal SQLite DB, Chroma files, API key.")
    temporal_ui_port: int = Field(default=8233, description="Web UI port of the dev server started by `make dev`.")
    temporal_ui_url: str | None = Field(
        default=None,
        max_length=2000,
        description="The Temporal Web UI the console links each job to; unset = this host at TEMPORAL_UI_PORT (the dev server's).",
    )
    extra_intent_modules: list[str] = Field(
        default_factory=list,
        description="Extra Python modules to import at start-up; each may register intents and activities.",
    )

    # --- Memory (Chroma) ---------------------------------------------------------------
    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset = embedded PersistentClient.")
    chroma_collection: str = Field(
        default="memories",
        description="Base name of the memory collections: `<name>-<embedder>` (a tenant other than `default` appends `--<tenant>`).",
    )
    memory_index_dir: Path | None = Field(
        default=None,
        description="Directory of the lexical (BM25, SQLite FTS5) index files, one per collection; unset = DATA_DIR/memory-index. "
        "Derived from Chroma: a missing file is rebuilt. Keep it on a local disk.",
    )
    memory_index_sync_s: float = Field(
        default=1.0,
        ge=0,
        description="With CHROMA_URL: how often (at most) a search takes into its worker's lexical index the memories "
        "other workers wrote (0 = before every search).",
    )
    memory_write_behind: bool = Field(
        default=True,
        description="Embedded Chroma and a local embedder: a `memory.write` is answered once it is committed (fsynced) "
        "to its collection's journal (`DATA_DIR/memory-journal/`), and a background drainer embeds it and puts it into "
        "Chroma; every search waits for the writes answered before it. `false` = every write waits for Chroma. Ignored "
        "with CHROMA_URL or a remote embedder (writes wait).",
    )
    memory_drain_delay_s: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="Write-behind: how long the drainer gathers journaled writes before one Chroma upsert takes them "
        "all (it starts at once when 64 are waiting or a search is waiting). Longer = fewer, larger upserts.",
    )
    embedder: Literal["minilm", "wordllama", "hash", "onnx", "openai"] = Field(
        default="minilm",
        description="`minilm`: offline semantic model (all-MiniLM-L6-v2 int8, shipped in a wheel, ~4 ms a text); "
        "`wordllama`: offline static embeddings (shipped in its wheel, ~0.05 ms a text, weaker on paraphrases); "
        "`hash`: no model, deterministic, lexical only; `onnx`: Chroma's MiniLM (downloads); `openai`: /v1/embeddings. "
        "Each embedder has its own collection; on first use an empty one takes in (re-embeds) the memories of another.",
    )
    embeddings_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible embeddings API.")
    embeddings_model: str = Field(default="text-embedding-3-small", description="Model for `openai` embedder.")
    embeddings_api_key: SecretStr | None = Field(default=None, description="Key for the embeddings API.")

    log_level: str = Field(default="INFO", description="Log level.")

    # --- Flow mode (n8n webhooks) ---------------------------------------------------------
    n8n_base_url: str = Field(
        default="http://127.0.0.1:5678/webhook",
        description="Base URL of n8n production webhooks; each flow intent appends its own path.",
    )
    n8n_webhook_secret: SecretStr | None = Field(
        default=None, description="Value of the header-auth credential the shipped n8n workflows check."
    )
    n8n_auth_header: str = Field(default="X-Orchestrator-Secret", description="Header carrying n8n_webhook_secret.")
    n8n_timeout_s: float = Field(
        default=45,
        gt=0,
        le=600,
        description="HTTP timeout of one n8n webhook call (keep below the flow intents' timeouts, 60-120 s).",
    )

    # --- MCP mode ---------------------------------------------------------------------------
    mcp_servers: dict[str, McpServerConfig] = Field(
        default_factory=dict,
        description='MCP servers by name (JSON): `{"name": {"command": [...]}}` (stdio) or `{"name": {"url": "http://.../mcp"}}`.',
    )

    # --- Async callbacks ---------------------------------------------------------------------
    callback_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for X-Orchestrator-Signature; callbacks are refused while unset."
    )
    callback_allowlist: list[str] = Field(
        default_factory=list,
        description="Hosts (`host` or `host:port`) callbacks may reach over http or at private/loopback addresses.",
    )
    callback_timeout_s: float = Field(default=10, gt=0, le=60, description="HTTP timeout of one callback attempt.")

    _mcp_names = field_validator("mcp_servers")(classmethod(lambda cls, v: check_server_names(v)))

    # --- Schedules ---------------------------------------------------------------------------
    schedule_min_interval_s: float = Field(
        default=2,
        ge=1,
        le=86_400,
        description="Shortest interval a schedule may run at (`every`, or the gap between two cron times); a shorter one is a 422.",
    )
    digest_schedule_cron: str | None = Field(
        default=None,
        max_length=200,
        description="Opt-in: `make dev` creates (or updates) the schedule `digest-daily` running digest.daily on this cron, "
        "e.g. `0 8 * * 1-5`; unset = no schedule is made for you.",
    )
    digest_schedule_timezone: str = Field(
        default="UTC", max_length=64, description="IANA time zone DIGEST_SCHEDULE_CRON is read in, e.g. `Europe/Paris`."
    )

    # --- Agents / LLM (GPT workflows and fleets) -----------------------------------------
    agents_file: Path | None = Field(
        default=None, description="YAML registry of GPT agents; unset = the shipped `config/agents.yaml`."
    )
    llm_provider: Literal["offline", "openai"] | None = Field(
        default=None,
        description="`openai`: any OpenAI-compatible Chat Completions API; `offline`: built-in deterministic "
        "replies, no network. Unset = `openai` when LLM_BASE_URL is set, else `offline`.",
    )
    llm_base_url: str | None = Field(
        default=None,
        description="Chat Completions base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` (Ollama).",
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="Bearer key for LLM_BASE_URL (sent only to that URL, never logged)."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model used by agents that do not name their own.")
    llm_timeout_s: float = Field(default=60, gt=0, le=600, description="HTTP timeout of one chat completion call.")
    llm_offline_latency_ms: int = Field(
        default=0,
        ge=0,
        le=600_000,
        description="Artificial delay of each offline reply (benchmarks, demos); the reply streams out over it.",
    )
    llm_stream: bool = Field(
        default=True,
        description="Ask the Chat Completions API to stream (`stream: true`), so watchers see a step's text as it is "
        "written; `false` for a server that cannot stream.",
    )
    prices_file: Path | None = Field(
        default=None,
        description="YAML prices per model (USD per million tokens) for `usage.cost_usd`; unset = the shipped "
        "`config/prices.yaml`.",
    )
    llm_daily_token_budget: int | None = Field(
        default=None,
        ge=1,
        description="Tokens each tenant may use per UTC day; past it new LLM steps fail `BudgetExceeded` (nothing is "
        "sent). Unset = no budget.",
    )
    llm_token_budgets: dict[str, int] = Field(
        default_factory=dict,
        description='Per-tenant daily token budgets (JSON `{"tenant": tokens}`), overriding LLM_DAILY_TOKEN_BUDGET.',
    )

    # --- SSH (host inventory, approval gate) ---------------------------------------------
    ssh_hosts_file: Path | None = Field(
        default=None,
        description="YAML host inventory for ssh.* intents; unset = `config/ssh_hosts.yaml` if present, else no hosts.",
    )
    ssh_dev_accept_unknown_hosts: bool = Field(
        default=False,
        description="DEV ONLY, INSECURE: skip host-key verification (accepts any server, allows MITM). Never in production.",
    )
    ssh_allow_inline_confirm: bool = Field(
        default=False,
        description="Let `confirm_dangerous: true` approve a dangerous ssh.exec without a human (weaker, seed-compatible path).",
    )
    ssh_approval_timeout_s: float = Field(
        default=900,
        gt=0,
        le=7 * 86400,
        description="How long a dangerous ssh.exec waits for approve/reject before expiring.",
    )
    ssh_max_output_chars: int = Field(
        default=40_000,
        ge=100,
        le=45_000,
        description="Each of stdout/stderr is cut to this many characters (with a marker) so results stay under 100k.",
    )

    # --- Routing and MCP catalog (gateway) -------------------------------------------------
    intent_routes: dict[str, Literal["agent", "flow", "mcp"]] = Field(
        default_factory=dict,
        description='Extra auto-routing rules (JSON `{"pattern": "mode"}`, e.g. `{"crm.*": "mcp"}`), checked before the '
        "shipped table. An intent has one handler, so a rule that contradicts a registered intent's mode stops start-up.",
    )
    mcp_catalog_timeout_s: float = Field(
        default=20,
        gt=0,
        le=300,
        description="How long the gateway (GET /intents?refresh=1, unknown mcp.* intents) or a starting worker waits "
        "for the MCP servers' tool lists.",
    )

    # --- Observability (logs, metrics, traces) -------------------------------------------
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="`json`: one JSON object per line with job_id/workflow_id/intent; `text`: human lines. "
        "Unset = `json` for `gpt-orchestrator gateway|worker`, `text` for `dev` and other commands.",
    )
    worker_metrics_address: str | None = Field(
        default=None,
        description="host:port where a worker serves the Temporal SDK's Prometheus metrics (`/metrics`), "
        "e.g. `0.0.0.0:9464`; unset = off.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token the gateway's GET /metrics requires; unset = /metrics is open (scrape it "
        "from inside your network, or block it at the load balancer).",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (e.g. `http://otel-collector:4318`); set = traces from the "
        "gateway request through the workflow to its activities. Unset = tracing off.",
    )

    @field_validator("llm_token_budgets")
    @classmethod
    def _budgets(cls, v: dict[str, int]) -> dict[str, int]:
        for tenant, tokens in v.items():
            if not tenant.strip() or tokens < 1:
                raise ValueError("each tenant needs a name and a budget of at least 1 token")
        return v

    def token_budget(self, tenant: str) -> int | None:
        """A tenant's daily token budget (None: unlimited)."""
        return self.llm_token_budgets.get(tenant, self.llm_daily_token_budget)

    @field_validator("api_key_rate", "oauth_rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        return None if value is None else str(Rate.parse(value))

    @property
    def api_keys_path(self) -> Path:
        return self.api_keys_file if self.api_keys_file is not None else self.data_dir / "api_keys.yaml"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def memory_index_path(self) -> Path:
        return self.memory_index_dir or self.data_dir / "memory-index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
