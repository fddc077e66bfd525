"""The operator console at /console: static files (gateway/console/, ES modules, no build step) served by
the gateway itself, so it works offline on `make dev` with nothing else installed.

- The files are public (they hold no data); every byte of data they show is fetched with the key the
  operator signed in with, through the same routes and role checks as curl.
- Only the files found in gateway/console/ when the app is built are served, by name: a path outside
  that list is a 404, so no path can reach another file.
- A strict Content-Security-Policy: scripts, styles, images and connections from this origin only, no
  inline script or style, no plugins, no framing, and Trusted Types required, so even a bug that put
  server text into `innerHTML` would throw instead of running it. The console renders every server
  value with `textContent`.
- The routes are not in the OpenAPI document (not an API), and each declares PUBLIC like /health.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gateway.auth import PUBLIC, Reads
from gateway.errors import ApiError
from intents.errors import ErrorType

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])  # fmt: skip
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",  # revalidate: a deploy's new files are used at once
}


def _assets() -> dict[str, tuple[bytes, str]]:
    """Every file the console consists of, read once: relative path -> (bytes, media type)."""
    found: dict[str, tuple[bytes, str]] = {}
    for path in sorted(CONSOLE_DIR.rglob("*")):
        if path.is_file() and path.suffix in MEDIA_TYPES:
            found[path.relative_to(CONSOLE_DIR).as_posix()] = (path.read_bytes(), MEDIA_TYPES[path.suffix])
    return found


ASSETS = _assets()
router = APIRouter(include_in_schema=False)


def _file(name: str) -> Response:
    try:
        body, media_type = ASSETS[name]
    except KeyError:
        raise ApiError(ErrorType.NOT_FOUND, "no such console file", field="path") from None
    return Response(body, media_type=media_type, headers=HEADERS)


class ConsoleConfig(BaseModel):
    temporal_ui_url: str | None = Field(description="TEMPORAL_UI_URL; null = this host at temporal_ui_port.")
    temporal_ui_port: int
    namespace: str


@router.get("/console/config")
async def console_config(request: Request, who: Reads) -> ConsoleConfig:
    """What the console needs to link a job to the Temporal Web UI (behind a key: it names internal hosts)."""
    settings = request.app.state.settings
    return ConsoleConfig(
        temporal_ui_url=settings.temporal_ui_url,
        temporal_ui_port=settings.temporal_ui_port,
        namespace=settings.temporal_namespace,
    )


@router.get("/console", dependencies=[Depends(PUBLIC)])
async def console_page() -> Response:
    return _file("index.html")


@router.get("/console/{asset:path}", dependencies=[Depends(PUBLIC)])
async def console_asset(asset: str) -> Response:
    return _file(asset or "index.html")
