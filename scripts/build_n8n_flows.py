"""Write the n8n exports of calendar.schedule, notes.sync, tasks.create and code.review.

    uv run python scripts/build_n8n_flows.py      # rewrites n8n_workflows/<path>.json for these four

The flows follow n8n_workflows/README.md ("Template for a new flow"): a header-auth Webhook answering
through Respond nodes, a Check envelope Code node, service calls as HTTP Request nodes with the service's
predefined credential (Google Calendar OAuth2, Notion, Todoist, GitHub, OpenAI), "On Error -> Continue
(using error output)" on every step that can fail, wired to Build error -> Respond error, and the dry-run
preview before anything is changed. Ids are stable (uuid5 of the flow and node name), so a re-import
updates the same workflow. tests/flows/test_n8n_exports.py checks the wiring; tests/flows/test_real_n8n.py
runs them in real n8n.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

EXPORTS = Path(__file__).resolve().parents[1] / "n8n_workflows"
NS = uuid.UUID("6f1c2a52-2f7e-4d8e-9a51-6b0f5f3c9a10")
FAIL = (
    "// n8n's Code node keeps only the text after the last ':' of a thrown message, so a failure is\n"
    "// '[Type] text' with every ':' written as '\\uA789' (Build error turns it back).\n"
    "const fail = (type, text) => { throw new Error(`[${type}] ${String(text).replace(/:/g, '\\uA789')}`); };\n"
)
CREDENTIALS = {
    "googleCalendarOAuth2Api": ("orchestratorGoogleCalendar", "Google Calendar account"),
    "notionApi": ("orchestratorNotion", "Notion integration"),
    "todoistApi": ("orchestratorTodoist", "Todoist API token"),
    "githubApi": ("orchestratorGitHub", "GitHub token"),
    "openAiApi": ("orchestratorOpenAi", "OpenAI API key"),
}


def build_error(default_type: str) -> str:
    return (
        "// The canonical failure envelope: {ok:false, error:{type, message}}.\n"
        "// Steps throw '[Type] text' (':' escaped as '\\uA789'); n8n appends ' [line N]'.\n"
        "const raw = $input.first().json.error;\n"
        "let message = typeof raw === 'string' ? raw : (raw && (raw.message || raw.description)) || 'a workflow step failed';\n"
        "message = String(message).replace(/ \\[line \\d+(, for item \\d+)?\\]$/, '').replace(/\\uA789/g, ':');\n"
        f"let type = '{default_type}';\n"
        "const typed = /^\\[([A-Z][A-Za-z]+)\\] ([\\s\\S]*)$/.exec(message);\n"
        "if (typed) { type = typed[1]; message = typed[2]; }\n"
        "// A credential n8n cannot use (missing, not connected, refused by the service) is a configuration error:\n"
        "// the orchestrator reports UpstreamAuthError and does not retry it.\n"
        "else if (/credential|authori[sz]ation failed|unauthori[sz]ed|forbidden|invalid_auth|bad credentials|invalid_grant|"
        "access token|api key|\\b40[13]\\b/i.test(message)) type = 'UpstreamAuthError';\n"
        "return [{ json: { ok: false, error: { type, message: message.slice(0, 500) } } }];"
    )


class Flow:
    def __init__(self, flow_id: str, intent: str, path: str):
        self.flow_id, self.intent, self.path = flow_id, intent, path
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[tuple[str, int, str]] = []

    def _id(self, name: str) -> str:
        return str(uuid.uuid5(NS, f"{self.flow_id}/{name}"))

    def add(
        self, name: str, type_: str, version: float, params: dict[str, Any], pos: tuple[int, int], **extra: Any
    ) -> str:
        node = {"parameters": params, "id": self._id(name), "name": name, "type": f"n8n-nodes-base.{type_}",
                "typeVersion": version, "position": [pos[0] * 220, 300 + pos[1] * 180], **extra}  # fmt: skip
        self.nodes.append(node)
        return name

    def webhook(self) -> str:
        params = {
            "httpMethod": "POST",
            "path": self.path,
            "authentication": "headerAuth",
            "responseMode": "responseNode",
            "options": {},
        }
        return self.add("Webhook", "webhook", 2, params, (0, 0), webhookId=self._id("webhook-id"),
                        credentials={"httpHeaderAuth": {"id": "orchestratorHeaderAuth", "name": "Orchestrator webhook secret"}})  # fmt: skip

    def code(self, name: str, js: str, pos: tuple[int, int], *, fails: bool = True) -> str:
        return self.add(name, "code", 2, {"jsCode": js}, pos, **({"onError": "continueErrorOutput"} if fails else {}))

    def http(self, name: str, credential: str, method: str, url: str, pos: tuple[int, int], *, query: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, body: str | None = None, text: bool = False) -> str:  # fmt: skip
        params: dict[str, Any] = {
            "method": method,
            "url": url,
            "authentication": "predefinedCredentialType",
            "nodeCredentialType": credential,
        }
        if query:
            params |= {
                "sendQuery": True,
                "queryParameters": {"parameters": [{"name": k, "value": v} for k, v in query.items()]},
            }
        if headers:
            params |= {
                "sendHeaders": True,
                "headerParameters": {"parameters": [{"name": k, "value": v} for k, v in headers.items()]},
            }
        if body:
            params |= {"sendBody": True, "contentType": "json", "specifyBody": "json", "jsonBody": body}
        params["options"] = {"response": {"response": {"responseFormat": "text"}}} if text else {}
        cred_id, cred_name = CREDENTIALS[credential]
        return self.add(name, "httpRequest", 4.2, params, pos, credentials={credential: {"id": cred_id, "name": cred_name}},
                        onError="continueErrorOutput")  # fmt: skip

    def if_(self, name: str, expression: str, pos: tuple[int, int]) -> str:
        condition = {"id": self._id(name + "/condition"), "leftValue": expression, "rightValue": "",
                     "operator": {"type": "boolean", "operation": "true", "singleValue": True}}  # fmt: skip
        params = {"conditions": {"options": {"caseSensitive": True, "leftValue": "", "typeValidation": "loose", "version": 2},
                                 "conditions": [condition], "combinator": "and"}, "options": {}}  # fmt: skip
        return self.add(name, "if", 2.2, params, pos)

    def respond(self, name: str, pos: tuple[int, int]) -> str:
        return self.add(
            name, "respondToWebhook", 1.1, {"respondWith": "firstIncomingItem", "options": {"responseCode": 200}}, pos
        )

    def wire(self, source: str, target: str, output: int = 0) -> None:
        self.edges.append((source, output, target))

    def chain(self, *names: str) -> None:
        for a, b in zip(names, names[1:], strict=False):
            self.wire(a, b)

    def errors_to(self, default_type: str, pos: tuple[int, int]) -> None:
        """Every node with an error output sends it to Build error -> Respond error."""
        error = self.code("Build error", build_error(default_type), pos, fails=False)
        self.chain(error, self.respond("Respond error", (pos[0] + 1, pos[1])))
        for node in self.nodes:
            if node.get("onError") == "continueErrorOutput":
                self.wire(node["name"], error, 1)

    def envelope(self, required: str, checks: str = "", pos: tuple[int, int] = (1, 0)) -> str:
        js = (
            FAIL + "// Refuse anything that is not the orchestrator's canonical envelope for this flow.\n"
            "const body = $input.first().json.body ?? {};\n"
            f"if (body.intent !== '{self.intent}') fail('BadEnvelope', `expected intent {self.intent}, got ${{body.intent}}`);\n"
            "const inputs = body.inputs ?? {};\n"
            f"for (const key of [{', '.join(repr(k) for k in required.split())}]) "
            "if (inputs[key] === undefined || inputs[key] === null) fail('BadEnvelope', `missing required input ${key}`);\n"
            + checks
            + "return [{ json: { ...body, dry_run: body.dry_run === true, inputs } }];"
        )
        return self.code("Check envelope", js, pos)

    def export(self, name: str) -> dict[str, Any]:
        connections: dict[str, Any] = {}
        for source, output, target in self.edges:
            outputs = connections.setdefault(source, {"main": []})["main"]
            while len(outputs) <= output:
                outputs.append([])
            outputs[output].append({"node": target, "type": "main", "index": 0})
        return {
            "id": self.flow_id, "name": name, "nodes": self.nodes, "connections": connections, "active": False,
            "settings": {"executionOrder": "v1", "saveManualExecutions": True, "callerPolicy": "workflowsFromSameOwner"},
            "pinData": {}, "meta": {"templateCredsSetupCompleted": False},
            "tags": [{"id": "gptOrchestrator0", "name": "gpt-orchestrator"}],
        }  # fmt: skip


ENV = "$('Check envelope').first().json"


def calendar_schedule() -> dict[str, Any]:
    f = Flow("orchCalSchedule0", "calendar.schedule", "calendar-schedule")
    f.webhook()
    f.envelope("title start end", "if (!(Date.parse(inputs.end) > Date.parse(inputs.start))) fail('BadEnvelope', 'end must be after start');\n"
               "inputs.calendar_id = inputs.calendar_id || 'primary';\ninputs.attendees = Array.isArray(inputs.attendees) ? inputs.attendees : [];\n")  # fmt: skip
    events = "={{ 'https://www.googleapis.com/calendar/v3/calendars/' + encodeURIComponent($json.inputs.calendar_id) + '/events' }}"
    f.http("List events", "googleCalendarOAuth2Api", "GET", events, (2, 0),
           query={"timeMin": "={{ $json.inputs.start }}", "timeMax": "={{ $json.inputs.end }}", "singleEvents": "true",
                  "orderBy": "startTime", "maxResults": "50"})  # fmt: skip
    f.code("Find conflicts", FAIL + (
        "// Busy events overlapping the slot; an event this job already made (a retried attempt) is not made twice.\n"
        f"const env = {ENV};\nconst inputs = env.inputs;\n"
        "const items = $input.first().json.items ?? [];\n"
        "const when = e => ({ start: e.start?.dateTime ?? e.start?.date ?? null, end: e.end?.dateTime ?? e.end?.date ?? null });\n"
        "const mine = items.find(e => e.extendedProperties?.private?.orchestratorJob === env.job_id);\n"
        "const conflicts = items.filter(e => e !== mine && e.status !== 'cancelled' && e.transparency !== 'transparent')\n"
        "  .map(e => ({ id: e.id ?? null, title: e.summary ?? '(busy)', ...when(e), html_link: e.htmlLink ?? null }));\n"
        "const draft = { title: inputs.title, start: inputs.start, end: inputs.end };\n"
        "const existing = mine ? { id: mine.id, title: mine.summary ?? inputs.title, ...when(mine), html_link: mine.htmlLink ?? null } : null;\n"
        "return [{ json: { dry_run: env.dry_run, create: !env.dry_run && !mine, conflicts, draft, existing } }];"
    ), (3, 0))  # fmt: skip
    f.if_("Create now?", "={{ $json.create }}", (4, 0))
    f.code("Build preview", (
        "// Dry run: the conflicts and the event it would make. Applied before by this job: that event.\n"
        "const plan = $input.first().json;\n"
        "const result = plan.dry_run ? { dry_run: true, conflicts: plan.conflicts, would_create: plan.draft }\n"
        "  : { dry_run: false, conflicts: plan.conflicts, event: plan.existing };\n"
        "return [{ json: { ok: true, result } }];"
    ), (5, 1), fails=False)  # fmt: skip
    f.respond("Respond preview", (6, 1))
    body = (
        "={{ JSON.stringify({ summary: $('Check envelope').first().json.inputs.title, "
        "description: $('Check envelope').first().json.inputs.description || '', location: $('Check envelope').first().json.inputs.location || '', "
        "start: { dateTime: $('Check envelope').first().json.inputs.start }, end: { dateTime: $('Check envelope').first().json.inputs.end }, "
        "attendees: $('Check envelope').first().json.inputs.attendees.map(email => ({ email })), "
        "extendedProperties: { private: { orchestratorJob: $('Check envelope').first().json.job_id } } }) }}"
    )
    create = "={{ 'https://www.googleapis.com/calendar/v3/calendars/' + encodeURIComponent($('Check envelope').first().json.inputs.calendar_id) + '/events' }}"
    f.http("Create event", "googleCalendarOAuth2Api", "POST", create, (5, 0), query={"sendUpdates": "all"}, body=body)
    f.code("Build created", FAIL + (
        "const e = $input.first().json;\nconst plan = $('Find conflicts').first().json;\n"
        "if (!e.id) fail('CalendarError', 'Google Calendar answered without an event id');\n"
        "const event = { id: e.id, title: e.summary ?? plan.draft.title, start: e.start?.dateTime ?? plan.draft.start,\n"
        "  end: e.end?.dateTime ?? plan.draft.end, html_link: e.htmlLink ?? null };\n"
        "return [{ json: { ok: true, result: { dry_run: false, conflicts: plan.conflicts, event } } }];"
    ), (6, 0))  # fmt: skip
    f.respond("Respond created", (7, 0))
    f.chain(
        "Webhook",
        "Check envelope",
        "List events",
        "Find conflicts",
        "Create now?",
        "Create event",
        "Build created",
        "Respond created",
    )
    f.wire("Create now?", "Build preview", 1)
    f.chain("Build preview", "Respond preview")
    f.errors_to("CalendarError", (6, 2))
    return f.export("gpt-orchestrator: calendar.schedule")


NOTION = {"Notion-Version": "2022-06-28"}


def notes_sync() -> dict[str, Any]:
    f = Flow("orchNotesSync000", "notes.sync", "notes-sync")
    f.webhook()
    f.envelope("database_id title content", (
        "// Paragraphs (blank lines apart), each cut to Notion's 2000-character text limit; 100 blocks per call.\n"
        "const paras = String(inputs.content).split(/\\n\\s*\\n/).map(p => p.trim()).filter(Boolean);\n"
        "const chunks = [];\nfor (const p of paras) for (let i = 0; i < p.length; i += 1900) chunks.push(p.slice(i, i + 1900));\n"
        "if (chunks.length > 100) fail('ContentTooLong', `${chunks.length} paragraphs; Notion takes at most 100 blocks per call`);\n"
        "inputs.blocks = chunks.map(t => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: t } }] } }));\n"
        "inputs.db = String(inputs.database_id).replace(/-/g, '');\ninputs.title_property = inputs.title_property || 'Name';\n"
    ))  # fmt: skip
    query = "={{ 'https://api.notion.com/v1/databases/' + $json.inputs.db + '/query' }}"
    f.http("Find page", "notionApi", "POST", query, (2, 0), headers=NOTION,
           body="={{ JSON.stringify({ filter: { property: $json.inputs.title_property, title: { equals: $json.inputs.title } }, page_size: 1 }) }}")  # fmt: skip
    f.code("Plan", FAIL + (
        "// A page with this title is updated (content appended); none: a page is created.\n"
        f"const env = {ENV};\n"
        "const page = ($input.first().json.results ?? [])[0];\n"
        "return [{ json: { dry_run: env.dry_run, action: page ? 'update' : 'create', page_id: page?.id ?? null, url: page?.url ?? null,\n"
        "  title: env.inputs.title, blocks: env.inputs.blocks.length } }];"
    ), (3, 0))  # fmt: skip
    f.if_("Dry run?", f"={{{{ {ENV}.dry_run }}}}", (4, 0))
    f.code("Build preview", (
        "const plan = $input.first().json;\n"
        "return [{ json: { ok: true, result: { dry_run: true, action: plan.action, title: plan.title, page_id: plan.page_id, url: plan.url, blocks: plan.blocks } } }];"
    ), (5, 1), fails=False)  # fmt: skip
    f.respond("Respond preview", (6, 1))
    f.if_("Page exists?", "={{ $json.action === 'update' }}", (5, 0))
    f.http("Append blocks", "notionApi", "PATCH", "={{ 'https://api.notion.com/v1/blocks/' + $json.page_id + '/children' }}", (6, 0),
           headers=NOTION, body=f"={{{{ JSON.stringify({{ children: {ENV}.inputs.blocks }}) }}}}")  # fmt: skip
    f.http("Create page", "notionApi", "POST", "https://api.notion.com/v1/pages", (6, -1), headers=NOTION, body=(
        f"={{{{ JSON.stringify({{ parent: {{ database_id: {ENV}.inputs.db }}, properties: {{ [{ENV}.inputs.title_property]: "
        f"{{ title: [{{ text: {{ content: {ENV}.inputs.title }} }}] }} }}, children: {ENV}.inputs.blocks }}) }}}}"
    ))  # fmt: skip
    f.code("Build written", FAIL + (
        "const plan = $('Plan').first().json;\nconst r = $input.first().json;\n"
        "const page_id = plan.action === 'create' ? r.id : plan.page_id;\n"
        "if (!page_id) fail('NotionError', 'Notion answered without a page id');\n"
        "return [{ json: { ok: true, result: { dry_run: false, action: plan.action, title: plan.title, page_id, url: r.url ?? plan.url ?? null, blocks: plan.blocks } } }];"
    ), (7, 0))  # fmt: skip
    f.respond("Respond written", (8, 0))
    f.chain("Webhook", "Check envelope", "Find page", "Plan", "Dry run?", "Build preview", "Respond preview")
    f.wire("Dry run?", "Page exists?", 1)
    f.chain("Page exists?", "Append blocks", "Build written", "Respond written")
    f.wire("Page exists?", "Create page", 1)
    f.chain("Create page", "Build written")
    f.errors_to("NotionError", (7, 2))
    return f.export("gpt-orchestrator: notes.sync")


def tasks_create() -> dict[str, Any]:
    f = Flow("orchTasksCreate0", "tasks.create", "tasks-create")
    f.webhook()
    f.envelope("service title", (
        "if (!['todoist', 'github'].includes(inputs.service)) fail('BadEnvelope', 'service must be todoist or github');\n"
        "if (inputs.service === 'github' && !/^[^/]+\\/[^/]+$/.test(String(inputs.repo))) fail('BadEnvelope', 'repo must be owner/name');\n"
        "inputs.labels = Array.isArray(inputs.labels) ? inputs.labels : [];\ninputs.assignees = Array.isArray(inputs.assignees) ? inputs.assignees : [];\n"
    ))  # fmt: skip
    f.if_("GitHub?", "={{ $json.inputs.service === 'github' }}", (2, 0))
    f.http(
        "Check repository", "githubApi", "GET", "={{ 'https://api.github.com/repos/' + $json.inputs.repo }}", (3, -1)
    )
    f.code("Plan issue", FAIL + (
        f"const inputs = {ENV}.inputs;\nconst repo = $input.first().json;\n"
        "if (!repo.full_name) fail('RepoNotFound', `no GitHub repository ${inputs.repo} (or no access)`);\n"
        "return [{ json: { service: 'github', where: repo.full_name, title: inputs.title } }];"
    ), (4, -1))  # fmt: skip
    f.http("List projects", "todoistApi", "GET", "https://api.todoist.com/rest/v2/projects", (3, 1))
    f.code("Plan task", FAIL + (
        f"const inputs = {ENV}.inputs;\n"
        "const projects = $input.all().map(i => i.json).filter(p => p.id);\n"
        "const wanted = inputs.project;\n"
        "const project = wanted ? projects.find(p => String(p.name).toLowerCase() === String(wanted).toLowerCase()) : projects.find(p => p.is_inbox_project);\n"
        "if (!project) fail('ProjectNotFound', wanted ? `no Todoist project named ${wanted}` : 'no Todoist Inbox project');\n"
        "return [{ json: { service: 'todoist', where: project.name, project_id: project.id, title: inputs.title } }];"
    ), (4, 1))  # fmt: skip
    f.if_("Dry run?", f"={{{{ {ENV}.dry_run }}}}", (5, 0))
    f.code("Build preview", (
        "const plan = $input.first().json;\n"
        "return [{ json: { ok: true, result: { dry_run: true, service: plan.service, would_create: { title: plan.title, where: plan.where } } } }];"
    ), (6, 1), fails=False)  # fmt: skip
    f.respond("Respond preview", (7, 1))
    f.if_("Create in GitHub?", f"={{{{ {ENV}.inputs.service === 'github' }}}}", (6, 0))
    marker = f"'\\n\\n<sub>created by gpt-orchestrator job ' + {ENV}.job_id + '</sub>'"
    f.http("Create issue", "githubApi", "POST", f"={{{{ 'https://api.github.com/repos/' + {ENV}.inputs.repo + '/issues' }}}}", (7, -1),
           body=(f"={{{{ JSON.stringify({{ title: {ENV}.inputs.title, body: ({ENV}.inputs.description || '') + {marker}, "
                 f"labels: {ENV}.inputs.labels, assignees: {ENV}.inputs.assignees }}) }}}}"))  # fmt: skip
    f.http("Create task", "todoistApi", "POST", "https://api.todoist.com/rest/v2/tasks", (7, 0),
           headers={"X-Request-Id": f"={{{{ {ENV}.job_id }}}}"},  # Todoist drops a repeat with the same request id
           body=(f"={{{{ JSON.stringify(Object.assign({{ content: {ENV}.inputs.title, description: {ENV}.inputs.description || '', "
                 f"project_id: $('Dry run?').first().json.project_id, priority: {ENV}.inputs.priority || 1, labels: {ENV}.inputs.labels }}, "
                 f"{ENV}.inputs.due ? {{ due_string: {ENV}.inputs.due }} : {{}})) }}}}"))  # fmt: skip
    f.code("Build created", FAIL + (
        "const plan = $('Dry run?').first().json;\nconst r = $input.first().json;\n"
        "const id = plan.service === 'github' ? r.number : r.id;\n"
        "if (id === undefined || id === null) fail(plan.service === 'github' ? 'GitHubError' : 'TodoistError', 'the service answered without an id');\n"
        "const url = plan.service === 'github' ? r.html_url : r.url;\n"
        "return [{ json: { ok: true, result: { dry_run: false, service: plan.service, created: { id: String(id), url: url ?? null, title: plan.title, where: plan.where } } } }];"
    ), (8, 0))  # fmt: skip
    f.respond("Respond created", (9, 0))
    f.chain(
        "Webhook",
        "Check envelope",
        "GitHub?",
        "Check repository",
        "Plan issue",
        "Dry run?",
        "Build preview",
        "Respond preview",
    )
    f.wire("GitHub?", "List projects", 1)
    f.chain("List projects", "Plan task", "Dry run?")
    f.wire("Dry run?", "Create in GitHub?", 1)
    f.chain("Create in GitHub?", "Create issue", "Build created", "Respond created")
    f.wire("Create in GitHub?", "Create task", 1)
    f.chain("Create task", "Build created")
    f.errors_to("TasksError", (8, 2))
    return f.export("gpt-orchestrator: tasks.create")


def code_review() -> dict[str, Any]:
    f = Flow("orchCodeReview00", "code.review", "code-review")
    f.webhook()
    f.envelope("repo pr", (
        "if (!/^[^/]+\\/[^/]+$/.test(String(inputs.repo)) || !(Number(inputs.pr) >= 1)) fail('BadEnvelope', 'repo must be owner/name and pr a number');\n"
        "inputs.max_diff_chars = Math.min(Math.max(Number(inputs.max_diff_chars ?? 60000), 1000), 200000);\n"
        "inputs.model = inputs.model || 'gpt-4o-mini';\n"
    ))  # fmt: skip
    f.if_("Comment given?", "={{ !!$json.inputs.comment }}", (2, 0))
    f.code("Use given comment", (
        "// Apply exactly what the dry run showed: no new review.\n"
        f"return [{{ json: {{ comment: {ENV}.inputs.comment, diff_chars: null, truncated: false }} }}];"
    ), (3, -1), fails=False)  # fmt: skip
    pull = "={{ 'https://api.github.com/repos/' + $json.inputs.repo + '/pulls/' + $json.inputs.pr }}"
    f.http(
        "Fetch diff", "githubApi", "GET", pull, (3, 1), headers={"Accept": "application/vnd.github.v3.diff"}, text=True
    )
    f.code("Build prompt", FAIL + (
        f"const inputs = {ENV}.inputs;\n"
        "const diff = String($input.first().json.data ?? '');\n"
        "if (!diff.trim()) fail('EmptyDiff', `pull request ${inputs.repo}#${inputs.pr} has no diff`);\n"
        "const truncated = diff.length > inputs.max_diff_chars;\n"
        "const shown = diff.slice(0, inputs.max_diff_chars);\n"
        "const focus = inputs.focus ? `Pay particular attention to: ${inputs.focus}.` : '';\n"
        "const messages = [\n"
        "  { role: 'system', content: 'You are a careful senior reviewer. Review the pull request diff: bugs, risks, tests, clarity. '\n"
        "    + 'Be specific (file and line), brief, and kind. Answer in Markdown, ready to post as a PR comment.' },\n"
        "  { role: 'user', content: `${focus}${truncated ? ' (The diff was cut to its first ' + inputs.max_diff_chars + ' characters.)' : ''}\\n\\n${shown}` },\n"
        "];\n"
        "return [{ json: { body: { model: inputs.model, messages, temperature: 0.2 }, diff_chars: shown.length, truncated } }];"
    ), (4, 1))  # fmt: skip
    f.http(
        "Review",
        "openAiApi",
        "POST",
        "https://api.openai.com/v1/chat/completions",
        (5, 1),
        body="={{ JSON.stringify($json.body) }}",
    )
    f.code("Build comment", FAIL + (
        f"const env = {ENV};\nconst prompt = $('Build prompt').first().json;\n"
        "const text = $input.first().json.choices?.[0]?.message?.content;\n"
        "if (!text || !String(text).trim()) fail('LlmError', 'the model answered without a review');\n"
        "const comment = `${String(text).trim()}\\n\\n<sub>reviewed by gpt-orchestrator (job ${env.job_id})</sub>`;\n"
        "return [{ json: { comment, diff_chars: prompt.diff_chars, truncated: prompt.truncated } }];"
    ), (6, 1))  # fmt: skip
    f.if_("Dry run?", f"={{{{ {ENV}.dry_run }}}}", (7, 0))
    f.code("Build preview", (
        "const c = $input.first().json;\n"
        "return [{ json: { ok: true, result: { dry_run: true, comment: c.comment, diff_chars: c.diff_chars, truncated: c.truncated } } }];"
    ), (8, 1), fails=False)  # fmt: skip
    f.respond("Respond preview", (9, 1))
    comments = (
        f"={{{{ 'https://api.github.com/repos/' + {ENV}.inputs.repo + '/issues/' + {ENV}.inputs.pr + '/comments' }}}}"
    )
    f.http("Post comment", "githubApi", "POST", comments, (8, 0), body="={{ JSON.stringify({ body: $json.comment }) }}")
    f.code("Build posted", FAIL + (
        "const c = $('Dry run?').first().json;\nconst r = $input.first().json;\n"
        "if (r.id === undefined || r.id === null) fail('GitHubError', 'GitHub answered without a comment id');\n"
        "return [{ json: { ok: true, result: { dry_run: false, comment: c.comment, diff_chars: c.diff_chars, truncated: c.truncated,\n"
        "  comment_id: String(r.id), url: r.html_url ?? null } } }];"
    ), (9, 0))  # fmt: skip
    f.respond("Respond posted", (10, 0))
    f.chain(
        "Webhook",
        "Check envelope",
        "Comment given?",
        "Use given comment",
        "Dry run?",
        "Build preview",
        "Respond preview",
    )
    f.wire("Comment given?", "Fetch diff", 1)
    f.chain("Fetch diff", "Build prompt", "Review", "Build comment", "Dry run?")
    f.wire("Dry run?", "Post comment", 1)
    f.chain("Post comment", "Build posted", "Respond posted")
    f.errors_to("CodeReviewError", (9, 2))
    return f.export("gpt-orchestrator: code.review")


FLOWS = {
    "calendar-schedule": calendar_schedule,
    "notes-sync": notes_sync,
    "tasks-create": tasks_create,
    "code-review": code_review,
}


def main() -> None:
    for path, build in FLOWS.items():
        (EXPORTS / f"{path}.json").write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")
        print(f"wrote n8n_workflows/{path}.json")


if __name__ == "__main__":
    main()
