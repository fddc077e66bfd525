"""An approval is bound to what the human reviewed: the exact command, host and user, and a fingerprint
of the inputs. A different request can never slip in under the same job, and nothing runs without
the reviewed approval. The recorder host proves what reached the host: it only writes commands down."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from intents.canonical import fingerprint
from tests.support.sshd import RealSshd

RECORDER = "recorder"


def doomed(tag: str) -> str:
    """A command the classifier holds for a human (sent only to the recorder host, so it never runs)."""
    return f"rm -rf /tmp/approvals-{tag}"


async def ask(http, command: str, *, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return await http.post(
        "/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": RECORDER, "command": command}}, headers=headers
    )


def ran(sshd: RealSshd, tag: str) -> list[str]:
    return [c for c in sshd.recorded_commands() if tag in c]


async def test_an_idempotency_key_cannot_swap_the_command_after_a_cancel(ssh_stack, sshd):
    tag, key = uuid.uuid4().hex, f"K-{uuid.uuid4().hex}"
    async with ssh_stack() as (http, _):
        first = await ask(http, doomed(f"{tag}/A"), key=key)
        assert first.status_code == 202 and first.json()["status"] == "awaiting_approval", first.text
        job_id = first.json()["job_id"]
        assert (await http.post(f"/jobs/{job_id}/cancel")).status_code == 200

        swapped = await ask(http, doomed(f"{tag}/B"), key=key)
        assert swapped.status_code == 409, swapped.text
        assert swapped.json()["error"]["type"] == "IdempotencyKeyReused"
        assert (await http.post(f"/jobs/{job_id}/approve", json={})).status_code == 409

        same_again = await ask(http, doomed(f"{tag}/A"), key=key)  # the same request may retry after a cancel
        assert same_again.status_code == 202 and same_again.json()["job_id"] == job_id
        await http.post(f"/jobs/{job_id}/cancel")
    assert ran(sshd, tag) == [], "nothing reached the host"


async def test_the_approver_sees_exactly_what_will_run_and_who_asked(ssh_stack, sshd):
    command = doomed(uuid.uuid4().hex)
    async with ssh_stack() as (http, _):
        waiting = (await ask(http, command)).json()
        job = (await http.get(f"/jobs/{waiting['job_id']}")).json()
        await http.post(f"/jobs/{waiting['job_id']}/reject", json={"reason": "only looking"})

    assert job["status"] == "awaiting_approval"
    review = job["approval_request"]
    assert review == waiting["approval_request"], "the 202 and GET /jobs show the same review"
    assert (review["intent"], review["command"], review["host"], review["user"]) == (
        "ssh.exec",
        command,
        RECORDER,
        sshd.user,
    )
    assert review["risks"] == job["risk"] and review["risks"]
    assert review["requested_by"] == "api-key"
    requested_at, expires_at = (
        datetime.fromisoformat(review["requested_at"]),
        datetime.fromisoformat(review["expires_at"]),
    )
    assert abs(datetime.now(timezone.utc) - requested_at) < timedelta(minutes=1)
    assert expires_at - requested_at == timedelta(seconds=900)
    inputs = {"host": RECORDER, "command": command, "confirm_dangerous": False}
    assert review["fingerprint"] == fingerprint("ssh.exec", inputs)


async def test_an_approval_for_other_inputs_is_refused_and_the_reviewed_one_runs(ssh_stack, sshd):
    tag = uuid.uuid4().hex
    async with ssh_stack() as (http, _):
        waiting = (await ask(http, doomed(tag))).json()
        job_id, reviewed = waiting["job_id"], waiting["approval_request"]["fingerprint"]
        other = fingerprint(
            "ssh.exec", {"host": RECORDER, "command": doomed("something-else"), "confirm_dangerous": False}
        )

        wrong = await http.post(f"/jobs/{job_id}/approve", json={"approver": "alice", "fingerprint": other})
        assert wrong.status_code == 409, wrong.text
        assert wrong.json()["error"]["type"] == "ApprovalMismatch" and wrong.json()["error"]["field"] == "fingerprint"
        assert (await http.get(f"/jobs/{job_id}")).json()["status"] == "awaiting_approval", "the job still waits"
        assert ran(sshd, tag) == []

        right = await http.post(f"/jobs/{job_id}/approve", json={"approver": "alice", "fingerprint": reviewed})
        assert right.status_code == 200, right.text
        assert right.json()["approval"]["fingerprint"] == reviewed
        assert right.json()["result"]["exit_status"] == 0
    assert ran(sshd, tag) == [doomed(tag)]


async def test_a_rejection_answers_with_the_recorded_decision(ssh_stack, sshd):
    tag = uuid.uuid4().hex
    async with ssh_stack() as (http, _):
        waiting = (await ask(http, doomed(tag))).json()
        rejected = await http.post(f"/jobs/{waiting['job_id']}/reject", json={"approver": "bob", "reason": "not today"})
        job = (await http.get(f"/jobs/{waiting['job_id']}")).json()
    assert rejected.status_code == 200, rejected.text
    decision = rejected.json()["approval"]
    assert (decision["decision"], decision["approver"], decision["reason"]) == ("rejected", "api-key", "not today")
    assert decision["fingerprint"] == waiting["approval_request"]["fingerprint"]
    assert job["status"] == "rejected"
    assert ran(sshd, tag) == []
