"""What the platform says about a closed run is true: the GPT workflow's state follows Temporal's close
status, the Web UI's Current Details are final words, a reused Idempotency-Key with another definition
is a 409 on every create route, and a decision answers 200 with what was recorded."""

from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.gpt.helpers import chat, create, run, wait_for

ONE_STEP = {"name": "Says hello", "steps": [chat("hello", "Wanderweave", "hello")]}


async def current_details(client, workflow_id: str) -> str:
    """What the Web UI shows as Current Details (the SDK's built-in metadata query)."""
    meta = await client.get_workflow_handle(workflow_id).query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return meta.current_details


async def test_a_terminated_gpt_workflow_reads_terminated_not_created(api, client):
    workflow_id = await create(api, ONE_STEP)
    await wait_for(api, workflow_id, lambda s: s.get("state") == "created")
    await client.get_workflow_handle(workflow_id).terminate(reason="operator stopped it")

    status = await api.get(f"/api/gpt-workflows/{workflow_id}")
    assert status.status_code == 200, status.text
    assert status.json()["state"] == "terminated"
    listed = await api.get("/api/gpt-workflows", params={"status": "terminated", "name": ONE_STEP["name"]})
    assert listed.status_code == 200, listed.text
    assert workflow_id in {w["workflow_id"] for w in listed.json()}


async def test_current_details_are_final_at_close(api, client):
    written = await api.post("/orchestrate", json={"intent": "memory.write", "inputs": {"text": "final words"}})
    assert written.status_code == 200, written.text
    details = await current_details(client, written.json()["job_id"])
    assert details.startswith("succeeded in ") and details.endswith(" ms"), details

    finished = await run(api, ONE_STEP)
    assert (await current_details(client, finished["workflow_id"])).startswith("succeeded in ")

    cancelled = await create(api, ONE_STEP)
    assert (await api.post(f"/api/gpt-workflows/{cancelled}/cancel")).status_code == 202
    await wait_for(api, cancelled, lambda s: s["state"] == "cancelled")
    assert await current_details(client, cancelled) == "cancelled"

    fleet = await api.post(
        "/api/gpt-fleets/Creative/orchestrate", json={"objective": "final details"}, params={"wait": 30}
    )
    assert fleet.status_code == 200, fleet.text
    assert (await current_details(client, fleet.json()["workflow_id"])).startswith("succeeded in ")


async def test_a_decision_answers_200_with_what_was_recorded_and_details_say_who(api, client):
    ask = {"intent": "approval.request", "inputs": {"message": "Ship it?", "expires_s": 600}}
    waiting = await api.post("/orchestrate", json=ask | {"inputs": {**ask["inputs"], "message": "Ship it? (no)"}})
    assert waiting.status_code == 202, waiting.text
    job_id = waiting.json()["job_id"]

    rejected = await api.post(f"/jobs/{job_id}/reject", json={"approver": "editor", "reason": "not yet"})
    assert rejected.status_code == 200, rejected.text
    # Who decided is the key's name (the bootstrap key's here); the body's `approver` is kept as a note.
    assert (
        rejected.json()["approval"]["decision"] == "rejected" and rejected.json()["approval"]["approver"] == "api-key"
    )
    assert rejected.json()["approval"]["note"] == "editor"
    job = await api.get(f"/jobs/{job_id}")
    assert job.json()["status"] == "rejected"
    assert await current_details(client, job_id) == "rejected by api-key"

    waiting = await api.post("/orchestrate", json=ask | {"inputs": {**ask["inputs"], "message": "Ship it? (yes)"}})
    approved = await api.post(f"/jobs/{waiting.json()['job_id']}/approve", json={"approver": "lead"})
    assert approved.status_code == 200, approved.text
    assert (
        approved.json()["approval"]["decision"] == "approved" and approved.json()["approval"]["approver"] == "api-key"
    )


async def test_an_idempotency_key_reused_with_another_definition_is_409_on_every_create_route(api, unique):
    key = {"Idempotency-Key": f"create-{unique}"}
    first = await api.post("/api/gpt-workflows/create", json=ONE_STEP, headers=key)
    same = await api.post("/api/gpt-workflows/create", json=ONE_STEP, headers=key)
    other = await api.post("/api/gpt-workflows/create", json=ONE_STEP | {"name": "Another"}, headers=key)
    assert first.status_code == 201 and same.json()["workflow_id"] == first.json()["workflow_id"]
    assert other.status_code == 409 and other.json()["error"]["type"] == "IdempotencyKeyReused", other.text

    key = {"Idempotency-Key": f"fleet-{unique}"}
    first = await api.post(
        "/api/gpt-fleets/Creative/orchestrate", json={"objective": "one"}, headers=key, params={"wait": 30}
    )
    other = await api.post(
        "/api/gpt-fleets/Creative/orchestrate", json={"objective": "two"}, headers=key, params={"wait": 30}
    )
    assert first.status_code == 200, first.text
    assert other.status_code == 409 and other.json()["error"]["type"] == "IdempotencyKeyReused", other.text
