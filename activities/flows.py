"""flow.webhook: run a flow intent by POSTing the canonical envelope to its n8n webhook.

Error policy (why each is or is not retried):
- connect errors, timeouts, 5xx, 408, 429: n8n or Gmail is having a moment -> retryable UpstreamUnavailable;
- 401/403: the shared secret is wrong (real n8n answers 403 with or without the header) -> UpstreamAuthError,
  retrying cannot fix it;
- a 5xx carrying `WWW-Authenticate`: n8n's Webhook node has no header-auth credential ("No authentication
  data defined on node!") -> UpstreamAuthError, not retried: it is configuration, not an outage;
- other 4xx (404 = workflow not active) -> UpstreamBadRequest;
- `{"ok": false, "error": {type, message}}`: the flow ran and said no -> ToolError carrying n8n's words, or
  UpstreamAuthError when the flow says its own credentials (Gmail, Slack) are unusable (type UpstreamAuthError);
- 2xx that is not the envelope -> UpstreamProtocolError (usually a Webhook node not set to responseNode).

Flows whose apply step is not idempotent (NOT_IDEMPOTENT_WHEN_APPLIED: a Notion append, a GitHub issue
or comment) are not retried blindly once the request may have reached n8n with dry_run false: a timeout
or a 5xx then ends the job with ToolOutcomeUnknown ("it may have run"). Failures before anything was
sent (the connection was refused) and 429/503 are retried as usual.

n8n's words reach errors and results only after our configured secrets are scrubbed out of them: a flow
that echoes the shared secret (N8N_WEBHOOK_SECRET) in a failure must not put it in history or the logs.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import with_heartbeats
from activities.http_errors import body_snippet, status_failure, transport_failure
from activities.redaction import errors_scrubbed, peer_scrubber
from config import Settings
from intents import flows
from intents.errors import ErrorType, app_error
from intents.flows import FLOW_ACTIVITY, FLOW_WEBHOOK_PATHS, NOT_IDEMPOTENT_WHEN_APPLIED, FlowCall
from policies.redact import Scrubber

_INPUT_MODELS = {spec.name: spec.input_model for spec in flows.INTENTS}


def webhook_url(settings: Settings, intent: str) -> str:
    """The only place a flow URL is made: configured base + the intent's declared path."""
    return f"{settings.n8n_base_url.rstrip('/')}/{FLOW_WEBHOOK_PATHS[intent]}"


def flow_envelope(call: FlowCall) -> dict[str, Any]:
    """Validate the inputs again (defaults filled in, e.g. dry_run=True) and wrap them."""
    model = _INPUT_MODELS.get(call.intent)
    if model is None:
        raise app_error(ErrorType.UNKNOWN_INTENT, f"{call.intent!r} is not a flow intent")
    try:
        inputs = model.model_validate(call.inputs).model_dump(mode="json")
    except ValidationError as err:
        raise app_error(ErrorType.VALIDATION, f"{call.intent} inputs: {err}") from None
    return {
        "intent": call.intent,
        "inputs": inputs,
        "job_id": call.job_id,
        "dry_run": bool(inputs.get("dry_run", False)),
    }


def read_envelope(intent: str, response: httpx.Response, scrub: Scrubber) -> dict[str, Any]:
    """Turn n8n's answer into the flow's result, or the typed error that says what went wrong.

    Everything n8n said is scrubbed of configured secrets before it is used."""
    with errors_scrubbed(scrub):
        return scrub(_read_envelope(intent, response, scrub))


def _read_envelope(intent: str, response: httpx.Response, scrub: Scrubber) -> dict[str, Any]:
    where = f"n8n {intent} webhook"
    if response.status_code == 404:
        raise app_error(
            ErrorType.UPSTREAM_BAD_REQUEST,
            f"{where} not found (404): is the workflow imported and active at {response.request.url.path}?",
        )
    if response.status_code >= 500 and "www-authenticate" in response.headers:
        raise app_error(
            ErrorType.UPSTREAM_AUTH,
            f"{where} answered {response.status_code} while checking the header secret: {body_snippet(response, scrub)}; "
            "its Webhook node has no usable header-auth credential (create it and select it in the Webhook node)",
        )
    failure = status_failure(
        response.status_code,
        where,
        detail=body_snippet(response, scrub),
        auth_hint="; check N8N_WEBHOOK_SECRET and the header-auth credential",
    )
    if failure is not None:
        raise failure
    try:
        body = response.json()
    except ValueError:
        raise app_error(
            ErrorType.UPSTREAM_PROTOCOL,
            f"{where} answered non-JSON ({response.headers.get('content-type', '?')}): {body_snippet(response, scrub)}; "
            "is its Webhook node set to respond via 'Respond to Webhook'?",
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        raise app_error(
            ErrorType.UPSTREAM_PROTOCOL,
            f"{where} answered without the {{ok, ...}} envelope: {body_snippet(response, scrub)}",
        )
    if body["ok"]:
        result = body.get("result")
        if not isinstance(result, dict):
            raise app_error(ErrorType.UPSTREAM_PROTOCOL, f"{where} said ok but its result is not an object")
        return result
    error = body.get("error")
    if not isinstance(error, dict):
        raise app_error(ErrorType.UPSTREAM_PROTOCOL, f"{where} said ok=false without an error object")
    kind = str(error.get("type") or "FlowError")
    message = str(error.get("message") or "no message")
    if kind == ErrorType.UPSTREAM_AUTH:
        raise app_error(
            ErrorType.UPSTREAM_AUTH,
            f"{intent} failed in n8n: a credential was refused or is missing: {message}; check the flow's credentials in n8n",
            details={"type": kind, "message": message},
        )
    raise app_error(
        ErrorType.TOOL_ERROR, f"{intent} failed in n8n: {kind}: {message}", details={"type": kind, "message": message}
    )


class FlowActivities:
    def __init__(self, settings: Settings):
        self._settings = settings
        self._scrub = peer_scrubber(settings)

    def activities(self) -> list:
        return [self.call]

    def _headers(self, job_id: str) -> dict[str, str]:
        headers = {"Idempotency-Key": job_id, "Accept": "application/json"}
        secret = self._settings.n8n_webhook_secret
        if secret is not None:
            headers[self._settings.n8n_auth_header] = secret.get_secret_value()
        return headers

    @activity.defn(name=FLOW_ACTIVITY)
    async def call(self, req: FlowCall) -> dict:
        envelope = flow_envelope(req)
        url = webhook_url(self._settings, req.intent)
        timeout = httpx.Timeout(self._settings.n8n_timeout_s, connect=min(10.0, self._settings.n8n_timeout_s))
        once = req.intent in NOT_IDEMPOTENT_WHEN_APPLIED and not envelope["dry_run"]
        with errors_scrubbed(self._scrub):
            try:
                async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
                    response = await with_heartbeats(client.post(url, json=envelope, headers=self._headers(req.job_id)))
            except httpx.HTTPError as err:
                failure = transport_failure(err, f"n8n {req.intent} webhook", self._settings.n8n_timeout_s)
                if once and not isinstance(err, httpx.ConnectError | httpx.ConnectTimeout):
                    raise outcome_unknown(req.intent, failure.message) from None
                raise failure from None
        try:
            return read_envelope(req.intent, response, self._scrub)
        except ApplicationError as err:
            if once and not err.non_retryable and response.status_code not in (429, 503):
                raise outcome_unknown(req.intent, err.message) from None
            raise


def outcome_unknown(intent: str, what: str):
    return app_error(
        ErrorType.TOOL_OUTCOME_UNKNOWN,
        f"{what}; {intent} may have run in n8n (it is not repeated blindly): check before asking again",
    )
