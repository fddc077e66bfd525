"""`make record-histories`: record one golden history per workflow scenario, through the real gateway,
worker, Temporal dev server and sshd. The replay test runs today's workflow code against them.

Re-record only for a deliberate, compatible change (see the README's rule for changing workflow code).
Histories recorded by older code paths that must keep replaying live in `frozen/`; this never rewrites them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import httpx

from activities.budget import utc_day
from config import Settings
from gateway.app import create_app
from infra.temporal import connect
from intents.budget import ledger_id
from tests.support.gateway import LiveServer
from tests.support.sshd import RealSshd
from worker.devserver import DevServer
from worker.run import build_worker

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"
DANGEROUS = "rm -rf /srv/golden-cleanup"


async def _job(http: httpx.AsyncClient, body: dict) -> dict:
    resp = await http.post("/orchestrate", json=body)
    assert resp.status_code in (200, 202), resp.text
    return resp.json()


async def _gpt(http: httpx.AsyncClient, definition: dict) -> str:
    created = (await http.post("/api/gpt-workflows/create", json=definition)).json()
    resp = await http.post(f"/api/gpt-workflows/{created['workflow_id']}/execute", params={"wait": 30})
    assert resp.status_code == 200, resp.text
    return created["workflow_id"]


async def scenarios(http: httpx.AsyncClient) -> dict[str, str]:
    """name -> workflow id, one per behaviour worth pinning."""
    ids: dict[str, str] = {}
    ids["intent_memory_write"] = (
        await _job(http, {"intent": "memory.write", "inputs": {"text": "I prefer Python", "tags": ["golden"]}})
    )["job_id"]
    ids["gpt_sequential"] = await _gpt(http, json.loads((EXAMPLES / "travel-blog.json").read_text()))
    ids["gpt_parallel_skipped"] = await _gpt(
        http,
        {
            "name": "Audit with a skipped alarm",
            "parallel": True,
            "steps": [
                {"stepId": "scan", "gpt": "Aegis Sentinel", "action": "message", "params": {"message": "scan"}},
                {"stepId": "audit", "gpt": "Sentinel Audit Nexus", "action": "message", "params": {"message": "audit"}},
                {
                    "stepId": "alarm",
                    "gpt": "Shield Core",
                    "action": "message",
                    "params": {"message": "alarm"},
                    "waitFor": ["scan"],
                    "condition": "steps.scan.status == 'failed'",
                },
                {
                    "stepId": "report",
                    "gpt": "Shield Core",
                    "action": "message",
                    "params": {"message": "{{steps.scan.output}} {{steps.audit.output}}"},
                    "waitFor": ["scan", "audit"],
                },
            ],
        },  # fmt: skip
    )
    fleet = await http.post("/api/gpt-fleets/Creative/orchestrate", params={"wait": 30},
                            json={"objective": "Create marketing campaign for new feature", "synthesize": "ShowBuilder GPT"})  # fmt: skip
    ids["fleet"] = fleet.json()["workflow_id"]
    for decision in ("approve", "reject"):
        waiting = await _job(
            http, {"intent": "ssh.exec", "inputs": {"host": "golden", "command": f"{DANGEROUS}-{decision}"}}
        )
        assert waiting["status"] == "awaiting_approval", waiting
        resp = await http.post(
            f"/jobs/{waiting['job_id']}/{decision}", json={"approver": "golden-recorder", "reason": "recording"}
        )
        assert resp.status_code in (200, 409), resp.text
        ids["approval_approved" if decision == "approve" else "approval_rejected"] = waiting["job_id"]
    # remember: true, and a query step that recalls only this workflow's memories.
    ids["gpt_remember"] = await _gpt(http, {
        "name": "Remembered", "remember": True, "steps": [
            {"stepId": "idea", "gpt": "Wanderweave", "action": "message", "params": {"message": "a weekend in Porto"}},
            {"stepId": "recall", "gpt": "Wanderweave", "action": "query", "params": {"query": "Porto", "recall_from": "self"},
             "waitFor": ["idea"], "remember": False},
        ],
    })  # fmt: skip
    # A step whose own job waits for a human: that job tells the workflow (signals), both ways.
    gated = (await http.post("/api/gpt-workflows/create", json={"name": "Gated", "steps": [
        {"stepId": "gate", "action": "approval.request", "params": {"message": "Publish?", "expires_s": 600}},
        {"stepId": "publish", "gpt": "ShowBuilder GPT", "action": "message", "params": {"message": "go"}, "waitFor": ["gate"]},
    ]})).json()["workflow_id"]  # fmt: skip
    await http.post(f"/api/gpt-workflows/{gated}/execute", params={"wait": 0})
    for _ in range(100):
        gate = (await http.get(f"/api/gpt-workflows/{gated}")).json()["steps"][0]
        if gate["state"] == "awaiting_approval":
            break
        await asyncio.sleep(0.1)
    resp = await http.post(f"/jobs/{gated}.gate/approve", json={"approver": "golden-recorder"})
    assert resp.status_code in (200, 202), resp.text
    assert (await http.post(f"/api/gpt-workflows/{gated}/execute", params={"wait": 30})).status_code == 409
    for _ in range(100):
        if (await http.get(f"/api/gpt-workflows/{gated}")).json()["state"] == "succeeded":
            break
        await asyncio.sleep(0.1)
    ids["gpt_approval_step"], ids["gpt_approval_step_child"] = gated, f"{gated}.gate"
    # The daily token budget's ledger (recorded while open: it runs until the day is over).
    ids["token_ledger"] = ledger_id("default", utc_day())
    # A gate whose handler runs on the fast path (a local activity) once a human approved.
    gate = await _job(
        http, {"intent": "approval.request", "inputs": {"message": "Publish the golden notes?", "expires_s": 600}}
    )
    assert gate["status"] == "awaiting_approval", gate
    resp = await http.post(
        f"/jobs/{gate['job_id']}/approve", json={"approver": "golden-recorder", "reason": "recording"}
    )
    assert resp.status_code == 200, resp.text
    ids["approval_request_approved"] = gate["job_id"]
    return ids


async def record(out_dir: Path = HERE) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = await DevServer(ui_port=None).start()
        try:
            with RealSshd(root / "sshd") as sshd:
                inventory = RealSshd.write_inventory(root / "hosts.yaml", {"golden": sshd.recorder_entry()})
                settings = Settings(
                    api_key="golden", temporal_address=server.address, task_queue="golden", data_dir=root / "data", workflow_sandbox=True,
                    ssh_hosts_file=inventory, llm_provider=None, llm_base_url=None, llm_offline_latency_ms=0, agents_file=None,
                    llm_daily_token_budget=10_000_000,  # so the chats feed the ledger (the token_ledger scenario)
                    allow_self_approval=True,  # the recorder is both the requester and the approver
                )  # fmt: skip
                client = await connect(settings)
                async with build_worker(client, settings), LiveServer(create_app(settings, client=client)) as gw:
                    async with httpx.AsyncClient(
                        base_url=gw.url, headers={"Authorization": "Bearer golden"}, timeout=60
                    ) as http:
                        ids = await scenarios(http)
                    written = []
                    for name, workflow_id in ids.items():
                        history = await client.get_workflow_handle(workflow_id).fetch_history()
                        path = out_dir / f"{name}.json"
                        path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
                        written.append(path)
                    return written
        finally:
            server.stop()


if __name__ == "__main__":
    for path in asyncio.run(record(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)):
        print(f"recorded {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
