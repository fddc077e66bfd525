"""Tenants and the live features: a key watches and finds only its own tenant's jobs (another tenant's
stream is the 404 of no job, and GET /jobs never lists them), an admin may list one tenant's, and the
token budget and usage metrics are the tenant's own."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.gpt.helpers import chat
from tests.live.sse import read_events, steps


async def test_a_key_watches_and_finds_only_its_own_tenants_jobs(keyed, unique):
    since = datetime.now(timezone.utc).isoformat()
    definition = {"name": f"Tenant stream {unique}", "steps": [chat("only", "Wanderweave", "hi")]}
    async with keyed.as_("acme-gpt") as acme, keyed.as_("globex-gpt") as globex, keyed.as_("acme-ops") as admin:
        created = await acme.post("/api/gpt-workflows/create", json=definition)
        workflow_id = created.json()["workflow_id"]
        assert (await acme.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 30})).status_code == 200
        written = await globex.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"globex {unique}"}}
        )
        assert written.status_code == 200, written.text

        mine = await read_events(acme, f"/jobs/{workflow_id}/events", last_event_id="0")
        assert steps(mine) == [("only", "started"), ("only", "succeeded")] and mine[-1].data["status"] == "success"
        for path in (f"/jobs/{workflow_id}/events", f"/api/gpt-workflows/{workflow_id}/events"):
            theirs = await globex.get(path)
            assert theirs.status_code == 404 and theirs.json()["error"]["type"] == "NotFound", (
                "another tenant's job is no job"
            )

        acme_jobs = {j["job_id"] for j in (await acme.get("/jobs", params={"since": since})).json()["jobs"]}
        globex_jobs = {j["job_id"] for j in (await globex.get("/jobs", params={"since": since})).json()["jobs"]}
        assert workflow_id in acme_jobs and workflow_id not in globex_jobs
        assert written.json()["job_id"] in globex_jobs and written.json()["job_id"] not in acme_jobs
        listed = (await acme.get("/jobs", params={"since": since})).json()["jobs"]
        assert {j["requested_by"] for j in listed} == {"acme-gpt"}

        # An admin sees every tenant's, or one tenant's; a caller cannot widen its own view.
        everyone = {j["job_id"] for j in (await admin.get("/jobs", params={"since": since})).json()["jobs"]}
        assert {workflow_id, written.json()["job_id"]} <= everyone
        only_globex = {
            j["job_id"] for j in (await admin.get("/jobs", params={"since": since, "tenant": "globex"})).json()["jobs"]
        }
        assert written.json()["job_id"] in only_globex and workflow_id not in only_globex
        widened = {
            j["job_id"] for j in (await acme.get("/jobs", params={"since": since, "tenant": "globex"})).json()["jobs"]
        }
        assert written.json()["job_id"] not in widened
        bad = await admin.get("/jobs", params={"tenant": "Globex' OR 'x'='x"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "tenant"
