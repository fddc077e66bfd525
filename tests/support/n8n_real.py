"""Real n8n for the flow tests: installed once into a cache outside the clone (scripts/n8n-install.sh),
then run per session on a free loopback port with its own user folder, the shipped workflows imported
and activated, and dummy credentials. Gmail, Slack, Google Calendar, Notion, Todoist, GitHub and OpenAI
cannot be reached with those credentials (and
outbound traffic goes to a dead proxy), so every call to them fails: the tests prove that a failure
always comes back as the canonical error envelope.

Network: telemetry, version checks, templates, licence renewal and community packages are off.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "n8n-install.sh"
EXPORTS = REPO / "n8n_workflows"
HEADER = "X-Orchestrator-Secret"
ENCRYPTION_KEY = "gpt-orchestrator-tests-not-a-secret"
# Copies of the shipped flows whose Webhook has no header-auth credential: the state right after
# `import:workflow` when nobody has created the credential yet. They answer under /webhook/<prefix>/<path>.
NO_CREDENTIAL_PREFIX = "no-credential"


def install() -> Path:
    """The cache directory holding n8n and node 22 (installs on first use: several minutes)."""
    done = subprocess.run([str(INSTALL_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True, timeout=1800)
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dummy_credentials(secret: str) -> list[dict]:
    """Credentials under the ids the exports refer to; the services' ones are well-formed but useless."""
    return [
        {
            "id": "orchestratorHeaderAuth",
            "name": "Orchestrator webhook secret",
            "type": "httpHeaderAuth",
            "data": {"name": HEADER, "value": secret},
        },
        {
            "id": "orchestratorGmail",
            "name": "Gmail account",
            "type": "gmailOAuth2",
            "data": {
                "clientId": "dummy.apps.googleusercontent.com",
                "clientSecret": "dummy",
                "oauthTokenData": {
                    "access_token": "dummy",
                    "refresh_token": "dummy",
                    "token_type": "Bearer",
                    "expires_in": 3599,
                },
            },
        },
        {
            "id": "orchestratorSlack",
            "name": "Slack bot token",
            "type": "slackApi",
            "data": {"accessToken": "xoxb-dummy"},
        },
        {
            "id": "orchestratorGoogleCalendar",
            "name": "Google Calendar account",
            "type": "googleCalendarOAuth2Api",
            "data": {
                "clientId": "dummy.apps.googleusercontent.com",
                "clientSecret": "dummy",
                "oauthTokenData": {
                    "access_token": "dummy",
                    "refresh_token": "dummy",
                    "token_type": "Bearer",
                    "expires_in": 3599,
                },
            },
        },
        {
            "id": "orchestratorNotion",
            "name": "Notion integration",
            "type": "notionApi",
            "data": {"apiKey": "secret_dummy"},
        },
        {"id": "orchestratorTodoist", "name": "Todoist API token", "type": "todoistApi", "data": {"apiKey": "dummy"}},
        {
            "id": "orchestratorGitHub",
            "name": "GitHub token",
            "type": "githubApi",
            "data": {"server": "https://api.github.com", "user": "dummy", "accessToken": "ghp_dummy"},
        },
        {
            "id": "orchestratorOpenAi",
            "name": "OpenAI API key",
            "type": "openAiApi",
            "data": {"apiKey": "sk-dummy", "url": "https://api.openai.com/v1"},
        },
    ]


def without_webhook_credential(flow: dict) -> dict:
    """A copy of a shipped flow under its own id and path, its Webhook missing the header-auth credential."""
    flow = copy.deepcopy(flow)
    flow["id"] = (flow["id"][:-1] + "X")[:16]
    flow["name"] += " (no credential)"
    for node in flow["nodes"]:
        node["id"] = node["id"][:-4] + "beef"
        if node["type"] == "n8n-nodes-base.webhook":
            node["parameters"]["path"] = f"{NO_CREDENTIAL_PREFIX}/{node['parameters']['path']}"
            node["webhookId"] = node["webhookId"][:-4] + "beef"
            node.pop("credentials", None)
    return flow


@dataclass
class RealN8n:
    home: Path  # the install cache
    folder: Path  # N8N_USER_FOLDER: database, config, logs of this run only
    secret: str = "real-n8n-test-secret-0123456789"
    port: int = field(default_factory=free_port)
    header: str = HEADER
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/webhook"

    def env(self) -> dict[str, str]:
        node_bin = self.home / "node22" / "node_modules" / "node" / "bin"
        keep = {k: os.environ[k] for k in ("HOME", "LANG", "TZ") if k in os.environ}
        return keep | {
            "PATH": f"{node_bin}:/usr/bin:/bin",
            "N8N_USER_FOLDER": str(self.folder),
            "N8N_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "N8N_PORT": str(self.port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_PROTOCOL": "http",
            "WEBHOOK_URL": f"{self.url}/",
            "DB_TYPE": "sqlite",
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_DIAGNOSTICS_CONFIG_FRONTEND": "",
            "N8N_DIAGNOSTICS_CONFIG_BACKEND": "",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_HIRING_BANNER_ENABLED": "false",
            "N8N_COMMUNITY_PACKAGES_ENABLED": "false",
            "N8N_LICENSE_AUTO_RENEW_ENABLED": "false",
            "N8N_AI_ENABLED": "false",
            "N8N_PUBLIC_API_DISABLED": "true",
            "N8N_SECURE_COOKIE": "false",
            "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "false",
            "N8N_RUNNERS_ENABLED": "true",
            "N8N_RUNNERS_MODE": "internal",
            "EXECUTIONS_MODE": "regular",
            "N8N_LOG_LEVEL": "warn",
            "N8N_LOG_OUTPUT": "console,file",
            "N8N_LOG_FILE_LOCATION": str(self.folder / "n8n.log"),
            "N8N_NO_BROWSER": "true",
            # Anything that still tries the internet (Gmail, Slack, OAuth refresh) meets a closed port.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def cli(self, *args: str, timeout: float = 180) -> str:
        node = self.home / "node22" / "node_modules" / "node" / "bin" / "node"
        n8n = self.home / "node_modules" / "n8n" / "bin" / "n8n"
        done = subprocess.run(
            [str(node), str(n8n), *args],
            env=self.env(),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"n8n {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def flows(self) -> list[dict]:
        shipped = [json.loads(p.read_text()) for p in sorted(EXPORTS.glob("*.json"))]
        return shipped + [without_webhook_credential(f) for f in shipped]

    def prepare(self) -> None:
        """Import every flow (and the no-credential copies) and the dummy credentials, then activate."""
        staging = self.folder / "import"
        staging.mkdir(parents=True, exist_ok=True)
        flows = self.flows()
        for flow in flows:
            (staging / f"{flow['id']}.json").write_text(json.dumps(flow))
        creds = self.folder / "credentials.json"
        creds.write_text(json.dumps(dummy_credentials(self.secret)))
        self.cli("import:credentials", f"--input={creds}")
        creds.unlink()
        self.cli("import:workflow", "--separate", f"--input={staging}")
        # n8n 1.x (the pinned line); 2.x dropped `--all` and activates with `publish:workflow --id=...`.
        self.cli("update:workflow", "--all", "--active=true")

    def start(self, timeout: float = 180) -> RealN8n:
        node = self.home / "node22" / "node_modules" / "node" / "bin" / "node"
        n8n = self.home / "node_modules" / "n8n" / "bin" / "n8n"
        self.proc = subprocess.Popen(
            [str(node), str(n8n), "start"],
            env=self.env(),
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=open(self.folder / "stdout.log", "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"n8n exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200 and self._webhooks_ready():
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"n8n did not become healthy in {timeout}s:\n{self.log()}")

    def _webhooks_ready(self) -> bool:
        # Active workflows register their webhooks just after /healthz answers: a 404 means not yet.
        return httpx.post(f"{self.base_url}/gmail-search", json={}, timeout=5).status_code != 404

    def log(self) -> str:
        out = []
        for name in ("stdout.log", "n8n.log"):
            path = self.folder / name
            if path.exists():
                out.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(out)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
