"""A local OAuth authorization server for tests: it publishes RFC 8414 metadata and its JWKS on loopback
and mints RS256 access tokens (PyJWT, `cryptography` keys) the way a real issuer would."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.asgi_server import BackgroundServer


class TestIssuer:
    __test__ = False

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:8]
        self.jwks_reads = 0
        app = Starlette(routes=[
            Route("/.well-known/oauth-authorization-server", self._metadata),
            Route("/jwks.json", self._jwks),
        ])  # fmt: skip
        self._server = BackgroundServer(app)

    @property
    def url(self) -> str:
        return self._server.url

    async def _metadata(self, request) -> JSONResponse:
        return JSONResponse(
            {"issuer": self.url, "jwks_uri": f"{self.url}/jwks.json", "token_endpoint": f"{self.url}/token"}
        )

    async def _jwks(self, request) -> JSONResponse:
        self.jwks_reads += 1
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return JSONResponse({"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]})

    def token(self, *, sub: str = "user-1", scope: str = "orchestrator:call", audience: str, expires_in: float = 300,
              issuer: str | None = None, key=None, **claims: Any) -> str:  # fmt: skip
        now = int(time.time())
        payload = {
            "iss": issuer or self.url,
            "sub": sub,
            "aud": audience,
            "iat": now,
            "exp": now + int(expires_in),
            "scope": scope,
        }
        return jwt.encode(payload | claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def __enter__(self) -> TestIssuer:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()
