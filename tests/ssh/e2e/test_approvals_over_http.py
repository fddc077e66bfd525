"""An operator asks for something destructive: it waits for a human, who approves or rejects it, or nobody answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from temporalio.api.enums.v1 import EventType

from tests.ssh.e2e.conftest import activity_runs, dangerous, eventually, history_events
from tests.support.stack import poll_job
from workflows import search_attributes as sa


async def ask(http, command: str, **inputs) -> dict:
    resp = await http.post(
        "/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": "web-1", "command": command, **inputs}}
    )
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "awaiting_approval", body
    return body


async def test_a_dangerous_command_waits_for_a_human_who_approves_it(ssh_stack, client, marker, doomed_dir):
    command = dangerous(marker, doomed_dir)
    async with ssh_stack() as (http, _):
        waiting = await ask(http, command)
        assert waiting["command"] == command and waiting["host"] == "web-1" and waiting["intent"] == "ssh.exec"
        assert waiting["risk"] == [f"rm removes {doomed_dir}, outside the writable area ({marker.parent})"]
        expires_at = datetime.fromisoformat(waiting["expires_at"])
        assert timedelta(minutes=14) < expires_at - datetime.now(timezone.utc) <= timedelta(minutes=15)
        job_id = waiting["job_id"]

        job = (await http.get(f"/jobs/{job_id}")).json()
        assert job["status"] == "awaiting_approval" and job["risk"] == waiting["risk"]
        assert not marker.exists() and doomed_dir.exists(), "nothing runs before the decision"

        approved = await http.post(f"/jobs/{job_id}/approve", json={"approver": "alice", "reason": "planned cleanup"})
        assert approved.status_code == 200, approved.text
        assert approved.json()["result"]["exit_status"] == 0
        # The approver is the deciding key's name (the bootstrap key here); what the body says is a note.
        assert (
            approved.json()["approval"]["decision"] == "approved"
            and approved.json()["approval"]["approver"] == "api-key"
        )
        assert approved.json()["approval"]["note"] == "alice"
        assert marker.exists() and not doomed_dir.exists(), "the approved command ran"

        again = await http.post(f"/jobs/{job_id}/approve", json={"approver": "mallory"})
        assert again.status_code == 409 and again.json()["error"]["type"] == "NotAwaitingApproval"

        job = (await http.get(f"/jobs/{job_id}")).json()
        assert job["status"] == "success"
        assert job["approval"]["decision"] == "approved" and job["approval"]["approver"] == "api-key"

    # Search attributes: an auditor can list approved jobs and see who approved them.
    async def listed():
        return [w async for w in client.list_workflows(f"Approval='approved' AND WorkflowId='{job_id}'")]

    assert await eventually(listed)
    desc = await client.get_workflow_handle(job_id).describe()
    assert desc.typed_search_attributes.get(sa.APPROVAL) == "approved"
    assert desc.typed_search_attributes.get(sa.APPROVER) == "api-key"
    assert (
        desc.typed_search_attributes.get(sa.REQUESTED_BY) == "api-key"
        and desc.typed_search_attributes.get(sa.TENANT) == "default"
    )

    # History: the update (who, why) and the decision handed to the command (who, what, when).
    [update] = await history_events(client, job_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    request = update.workflow_execution_update_accepted_event_attributes.accepted_request
    assert request.input.name == "approve"
    [decision_arg] = await client.data_converter.decode(request.input.args.payloads)
    assert decision_arg == {"approver": "api-key", "note": "alice", "reason": "planned cleanup", "fingerprint": None}
    [scheduled] = [
        e for e in await history_events(client, job_id, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        if e.activity_task_scheduled_event_attributes.activity_type.name == "ssh.exec"
    ]  # fmt: skip
    _, approval = await client.data_converter.decode(scheduled.activity_task_scheduled_event_attributes.input.payloads)
    assert approval["decision"] == "approved" and approval["approver"] == "api-key" and approval["note"] == "alice"
    assert approval["reason"] == "planned cleanup" and approval["decided_at"] and approval["fingerprint"]
    [run] = await activity_runs(client, job_id, "ssh.exec")
    assert run.attempt == 1


async def test_a_rejected_command_never_runs(ssh_stack, marker, doomed_dir):
    async with ssh_stack() as (http, _):
        job_id = (await ask(http, dangerous(marker, doomed_dir)))["job_id"]
        rejected = await http.post(
            f"/jobs/{job_id}/reject", json={"approver": "bob", "reason": "not during business hours"}
        )
        assert rejected.status_code == 200, rejected.text
        body = rejected.json()
        assert body["status"] == "rejected" and body["job_id"] == job_id
        assert body["approval"]["decision"] == "rejected" and body["approval"]["approver"] == "api-key"
        assert body["approval"]["reason"] == "not during business hours" and body["approval"]["fingerprint"]

        job = (await http.get(f"/jobs/{job_id}")).json()
        assert job["status"] == "rejected"
        assert job["error"]["type"] == "Rejected" and "not during business hours" in job["error"]["message"]
        assert job["approval"] == {"decision": "rejected", "approver": "api-key"}
        assert (await http.post(f"/jobs/{job_id}/approve", json={})).status_code == 409
    assert not marker.exists() and doomed_dir.exists()


async def test_a_command_nobody_decides_on_expires_without_running(ssh_stack, marker, doomed_dir):
    async with ssh_stack(ssh_approval_timeout_s=2) as (http, _):
        waiting = await ask(http, dangerous(marker, doomed_dir))
        job = await poll_job(http, waiting["job_id"], until=("expired", "success", "error"), timeout=20)
    assert job["status"] == "expired"
    assert job["error"]["type"] == "ApprovalExpired" and "nothing was run" in job["error"]["message"]
    assert job["approval"]["decision"] == "expired"
    assert not marker.exists() and doomed_dir.exists()


async def test_confirm_dangerous_is_ignored_unless_the_operator_allows_it(ssh_stack, marker, doomed_dir):
    command = dangerous(marker, doomed_dir)
    async with ssh_stack(ssh_allow_inline_confirm=False) as (http, _):
        waiting = await ask(http, command, confirm_dangerous=True)
        assert not marker.exists()
        rejected = await http.post(f"/jobs/{waiting['job_id']}/reject", json={"reason": "cleanup"})
        assert rejected.status_code == 200 and rejected.json()["approval"]["decision"] == "rejected"
    assert not marker.exists() and doomed_dir.exists()


async def test_with_inline_confirm_allowed_confirm_dangerous_runs_at_once_and_is_recorded(
    ssh_stack, marker, doomed_dir
):
    inputs = {"host": "web-1", "command": dangerous(marker, doomed_dir), "confirm_dangerous": True}
    async with ssh_stack(ssh_allow_inline_confirm=True) as (http, _):
        resp = await http.post("/orchestrate", json={"intent": "ssh.exec", "inputs": inputs})
        assert resp.status_code == 200, resp.text
        assert marker.exists() and not doomed_dir.exists()
        job = (await http.get(f"/jobs/{resp.json()['job_id']}")).json()
    assert job["approval"]["decision"] == "inline_confirmed"
    assert job["approval"]["approver"] == "caller (confirm_dangerous)"


async def test_a_write_inside_the_hosts_writable_area_runs_at_once(ssh_stack, marker):
    async with ssh_stack() as (http, _):
        resp = await http.post(
            "/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": "web-1", "command": f"touch {marker}"}}
        )
    assert resp.status_code == 200, resp.text
    assert marker.exists()


async def test_chatgpt_is_told_that_approving_is_consequential(ssh_stack):
    async with ssh_stack(with_worker=False) as (http, _):
        schema = (await http.get("/openapi.json")).json()
    assert schema["paths"]["/jobs/{job_id}/approve"]["post"]["x-openai-isConsequential"] is True
    assert schema["paths"]["/jobs/{job_id}/reject"]["post"]["x-openai-isConsequential"] is True
