"""A small stand-in for n8n that speaks the same contract as the shipped flows in n8n_workflows/.

It checks the header-auth secret (403 missing or wrong, plain text, like n8n 1.x) and the canonical envelope,
keeps a fake Gmail mailbox (gmail-triage previews, then labels, idempotently; gmail-search lists),
answers slack-summarize and digest-daily from canned data, keeps a calendar (calendar-schedule lists
conflicts, then creates; a job's event is made once), Notion pages (notes-sync), Todoist tasks and
GitHub issues (tasks-create) and pull requests with a canned LLM review (code-review; the comment posted
is the one previewed when it is sent back), records every request, and can be
scripted to misbehave: `fake.script("gmail-search", Scripted(500), Scripted(200, {...}))`.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intents.flows import FLOW_WEBHOOK_PATHS
from tests.support.asgi_server import BackgroundServer

INTENT_BY_PATH = {path: intent for intent, path in FLOW_WEBHOOK_PATHS.items()}
JOB_AWARE = {"calendar-schedule", "notes-sync", "tasks-create", "code-review"}
PREVIEW_SIZE = 10
# n8n's Webhook node answers auth failures with this challenge (403, or 500 when it has no credential).
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Webhook"'}


@dataclass
class Message:
    id: str
    subject: str
    sender: str
    age_days: float
    unread: bool = True
    labels: set[str] = field(default_factory=lambda: {"INBOX"})
    snippet: str = ""

    def summary(self) -> dict[str, Any]:
        date = (datetime.now(timezone.utc) - timedelta(days=self.age_days)).isoformat()
        return {
            "id": self.id,
            "thread_id": self.id,
            "subject": self.subject,
            "sender": self.sender,
            "date": date,
            "snippet": self.snippet,
        }


def default_mailbox() -> list[Message]:
    return [
        Message("m1", "Invoice 42", "billing@acme.test", age_days=5, snippet="Your invoice is attached"),
        Message("m2", "Team lunch", "alice@corp.test", age_days=3, snippet="Friday at noon?"),
        Message("m3", "Security alert", "noreply@bank.test", age_days=0.2, snippet="New sign-in"),
        Message("m4", "Old newsletter", "news@letters.test", age_days=9, unread=False, labels={"INBOX", "work"}),
    ]


def default_slack() -> dict[str, list[tuple[str, str]]]:
    return {
        "#general": [("alice", "Release 1.4 is out"), ("bob", "Nice!"), ("alice", "Notes in the wiki")],
        "#ops": [("carol", "Disk alert on db-2 resolved")],
    }


def matches(msg: Message, query: str) -> bool:
    """Enough of Gmail's search syntax for the stories tests tell."""
    for term in query.split():
        negate = term.startswith("-")
        term = term.lstrip("-")
        key, _, value = term.partition(":")
        if key == "is" and value in ("unread", "read"):
            ok = msg.unread == (value == "unread")
        elif key in ("older_than", "newer_than") and re.fullmatch(r"\d+d", value):
            ok = (msg.age_days > int(value[:-1])) == (key == "older_than")
        elif key == "from":
            ok = value.lower() in msg.sender.lower()
        elif key == "label":
            ok = value in msg.labels
        else:
            ok = term.lower() in f"{msg.subject} {msg.snippet} {msg.sender}".lower()
        if ok == negate:
            return False
    return True


@dataclass
class Scripted:
    """One canned answer: a status and a JSON body, or raw text; optionally after a delay."""

    status: int = 200
    body: Any = None
    text: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


class FakeN8n:
    def __init__(self, secret: str = "n8n-test-secret", header: str = "X-Orchestrator-Secret"):
        self.secret = secret
        self.header = header
        self.mailbox = default_mailbox()
        self.labels = {"INBOX", "work", "INBOX/Processed"}
        self.slack = default_slack()
        busy = datetime(2026, 12, 1, 10, 15, tzinfo=timezone.utc)
        self.events: list[dict[str, Any]] = [
            {
                "id": "ev1",
                "title": "Standup",
                "start": busy.isoformat(),
                "end": (busy + timedelta(minutes=30)).isoformat(),
                "job": None,
            }
        ]
        self.notion: dict[str, dict[str, Any]] = {"Weekly notes": {"id": "page-1", "blocks": ["Old notes"]}}
        self.todoist_projects = {"Inbox": "p-inbox", "Work": "p-work"}
        self.tasks: list[dict[str, Any]] = []
        self.repos = {"octo-org/website"}
        self.issues: list[dict[str, Any]] = []
        self.pulls = {
            ("octo-org/website", 42): "diff --git a/footer.html b/footer.html\n-<a href=/old>\n+<a href=/new>\n"
        }
        self.comments: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self._scripts: dict[str, list[Scripted]] = {}
        self._server = BackgroundServer(
            Starlette(routes=[Route("/webhook/{path:path}", self._handle, methods=["POST"])])
        )

    @property
    def base_url(self) -> str:
        return f"{self._server.url}/webhook"

    def start(self) -> FakeN8n:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def script(self, path: str, *answers: Scripted) -> None:
        """The next requests to `path` get these answers, in order; then normal behaviour resumes."""
        self._scripts.setdefault(path, []).extend(answers)

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: Request) -> Response:
        path = request.path_params["path"]
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        self.requests.append(Recorded(path, {k.lower(): v for k, v in request.headers.items()}, body))
        if path not in INTENT_BY_PATH:
            return JSONResponse(
                {"code": 404, "message": f'The requested webhook "POST {path}" is not registered.'}, 404
            )
        # Header auth is checked before the workflow runs, exactly like n8n's Webhook node.
        if request.headers.get(self.header) != self.secret:
            return Response("Authorization data is wrong!", 403, media_type="text/plain", headers=CHALLENGE)
        if self._scripts.get(path):
            return await self._scripted(self._scripts[path].pop(0))
        problem = envelope_problem(body, INTENT_BY_PATH[path])
        if problem:
            return JSONResponse({"message": f"bad envelope: {problem}"}, 400)
        handler = getattr(self, "_" + path.replace("-", "_"))
        try:
            extra = {"job_id": body["job_id"]} if path in JOB_AWARE else {}
            return JSONResponse({"ok": True, "result": handler(body["inputs"], body["dry_run"], **extra)})
        except FlowFailure as failure:
            return JSONResponse({"ok": False, "error": {"type": failure.type, "message": str(failure)}})

    @staticmethod
    async def _scripted(answer: Scripted) -> Response:
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if answer.text is not None:
            return Response(answer.text, answer.status, media_type=answer.content_type, headers=answer.headers)
        return JSONResponse(answer.body, answer.status, headers=answer.headers)

    # --- the flows, as the shipped n8n workflows behave ---------------------------------------
    def _gmail_triage(self, inputs: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        found = [m for m in self.mailbox if matches(m, inputs["query"])][: inputs["max_messages"]]
        label = inputs["label"]
        if dry_run:
            return {
                "dry_run": True,
                "found": len(found),
                "would_apply_label": label,
                "preview": [m.summary() for m in found[:PREVIEW_SIZE]],
            }
        if label not in self.labels:
            raise FlowFailure("LabelNotFound", f"no Gmail label named {label!r}; create it first")
        for msg in found:
            msg.labels.add(label)  # a set: labelling twice changes nothing
        return {"dry_run": False, "labeled": len(found), "label": label}

    def _gmail_search(self, inputs: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        found = [m.summary() for m in self.mailbox if matches(m, inputs["query"])][: inputs["max_results"]]
        return {"found": len(found), "messages": found}

    def _slack_summarize(self, inputs: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        channels = []
        for name in inputs["channels"]:
            key = name if name.startswith("#") else f"#{name}"
            if key not in self.slack:
                raise FlowFailure("ChannelNotFound", f"Slack channel {name} not found")
            posts = self.slack[key]
            channels.append(
                {
                    "channel": key,
                    "messages": len(posts),
                    "participants": len({u for u, _ in posts}),
                    "highlights": [t for _, t in posts[:3]],
                }
            )
        total = sum(c["messages"] for c in channels)
        return {
            "since": inputs["since"],
            "channels": channels,
            "summary": f"{total} messages in {len(channels)} channels",
        }

    def _digest_daily(self, inputs: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        tags = inputs["tags"]
        mail = [m for m in self.mailbox if m.unread and (not tags or m.labels & set(tags))]
        sections = [{"title": "Unread mail", "items": [f"{m.sender}: {m.subject}" for m in mail]}]
        return {"since": inputs["since"], "tags": tags, "sections": sections, "summary": f"{len(mail)} unread messages"}

    def _calendar_schedule(self, inputs: dict[str, Any], dry_run: bool, job_id: str = "") -> dict[str, Any]:
        start, end = datetime.fromisoformat(inputs["start"]), datetime.fromisoformat(inputs["end"])
        overlapping = [
            e
            for e in self.events
            if datetime.fromisoformat(e["start"]) < end and datetime.fromisoformat(e["end"]) > start
        ]
        mine = [e for e in overlapping if e["job"] == job_id]
        conflicts = [{k: e[k] for k in ("id", "title", "start", "end")} for e in overlapping if e["job"] != job_id]
        draft = {"title": inputs["title"], "start": inputs["start"], "end": inputs["end"]}
        if dry_run:
            return {"dry_run": True, "conflicts": conflicts, "would_create": draft}
        if not mine:  # the event carries its job: a retried attempt finds it instead of making a second
            mine = [{"id": f"ev{len(self.events) + 1}", **draft, "job": job_id}]
            self.events.append(mine[0])
        event = {k: mine[0][k] for k in ("id", "title", "start", "end")} | {
            "html_link": f"https://calendar.test/{mine[0]['id']}"
        }
        return {"dry_run": False, "conflicts": conflicts, "event": event}

    def _notes_sync(self, inputs: dict[str, Any], dry_run: bool, job_id: str = "") -> dict[str, Any]:
        blocks = [p.strip() for p in inputs["content"].split("\n\n") if p.strip()]
        page = self.notion.get(inputs["title"])
        answer = {
            "dry_run": dry_run,
            "action": "update" if page else "create",
            "title": inputs["title"],
            "blocks": len(blocks),
        }
        if dry_run:
            return answer | ({"page_id": page["id"]} if page else {})
        if page is None:
            page = self.notion[inputs["title"]] = {"id": f"page-{len(self.notion) + 1}", "blocks": []}
        page["blocks"] += blocks
        return answer | {"page_id": page["id"], "url": f"https://notion.test/{page['id']}"}

    def _tasks_create(self, inputs: dict[str, Any], dry_run: bool, job_id: str = "") -> dict[str, Any]:
        service = inputs["service"]
        if service == "github":
            if inputs["repo"] not in self.repos:
                raise FlowFailure("RepoNotFound", f"no GitHub repository {inputs['repo']} (or no access)")
            where = inputs["repo"]
        else:
            where = inputs["project"] or "Inbox"
            if where not in self.todoist_projects:
                raise FlowFailure("ProjectNotFound", f"no Todoist project named {where}")
        task = {"title": inputs["title"], "where": where}
        if dry_run:
            return {"dry_run": True, "service": service, "would_create": task}
        made = self.issues if service == "github" else self.tasks
        made.append({**task, "job": job_id, "labels": inputs["labels"]})
        url = (
            f"https://github.test/{where}/issues/{len(made)}"
            if service == "github"
            else f"https://todoist.test/t/{len(made)}"
        )
        return {"dry_run": False, "service": service, "created": {**task, "id": str(len(made)), "url": url}}

    def _code_review(self, inputs: dict[str, Any], dry_run: bool, job_id: str = "") -> dict[str, Any]:
        key = (inputs["repo"], inputs["pr"])
        if key not in self.pulls:
            raise FlowFailure("PullRequestNotFound", f"no pull request {inputs['repo']}#{inputs['pr']}")
        diff = self.pulls[key]
        comment = (
            inputs.get("comment")
            or f"Review of #{inputs['pr']}: the footer link changes from /old to /new; looks right."
        )
        answer = {"dry_run": dry_run, "comment": comment, "truncated": False} | (
            {} if inputs.get("comment") else {"diff_chars": len(diff)}
        )
        if dry_run:
            return answer
        self.comments.append({"repo": inputs["repo"], "pr": inputs["pr"], "body": comment, "job": job_id})
        return answer | {
            "comment_id": str(len(self.comments)),
            "url": f"https://github.test/{inputs['repo']}/pull/{inputs['pr']}#c{len(self.comments)}",
        }


class FlowFailure(Exception):
    def __init__(self, type_: str, message: str):
        super().__init__(message)
        self.type = type_


def envelope_problem(body: Any, intent: str) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if set(body) != {"intent", "inputs", "job_id", "dry_run"}:
        return f"keys are {sorted(body)}"
    if body["intent"] != intent:
        return f"intent {body['intent']!r} posted to the {intent} webhook"
    if (
        not isinstance(body["inputs"], dict)
        or not isinstance(body["job_id"], str)
        or not isinstance(body["dry_run"], bool)
    ):
        return "wrong types"
    if "dry_run" in body["inputs"] and body["inputs"]["dry_run"] != body["dry_run"]:
        return "dry_run differs from inputs.dry_run"
    return None
