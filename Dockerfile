# syntax=docker/dockerfile:1
# One image for the gateway and the workers: `gpt-orchestrator gateway` / `gpt-orchestrator worker`.
# Built by temporal-docker/docker-compose.yml; `docker build -t gpt-orchestrator .` works too.

# Same uv as the one that wrote uv.lock, so `--frozen` reads it exactly.
FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

FROM python:3.11.13-slim-bookworm AS builder
COPY --from=uv /uv /bin/uv
# Bytecode compiled at build time (faster start); copy instead of hardlink across the cache mount;
# never let uv fetch another Python: the image's interpreter is the one we ship.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app

# Dependencies first, from the lock alone, so a code change does not reinstall them.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself (installed editable into /app/.venv, so every top-level package is importable).
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

FROM python:3.11.13-slim-bookworm AS runtime
# A fixed non-root uid/gid, so volume permissions are predictable across rebuilds.
RUN groupadd --system --gid 10001 orchestrator \
    && useradd --system --uid 10001 --gid orchestrator --no-create-home --shell /usr/sbin/nologin orchestrator \
    && mkdir /data && chown orchestrator:orchestrator /data
# Code and venv stay root-owned (read-only to the process); only /data is writable.
COPY --from=builder /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data
WORKDIR /app
USER orchestrator:orchestrator
EXPOSE 8000
ENTRYPOINT ["gpt-orchestrator"]
CMD ["worker"]
