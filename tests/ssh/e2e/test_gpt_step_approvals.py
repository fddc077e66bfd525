"""A GPT workflow reaches a dangerous ssh.exec step: the workflow shows the step awaiting approval with
its own job id and the same review as any job; approving that job lets the workflow finish."""

from __future__ import annotations

import uuid

from tests.gpt.helpers import create, steps_of, wait_for


def cleanup_workflow(command: str) -> dict:
    return {
        "name": "Cleanup with a human in the loop",
        "steps": [
            {"stepId": "cleanup", "action": "ssh.exec", "params": {"host": "recorder", "command": command}},
            {"stepId": "report", "gpt": "Shield Core", "action": "message",
             "params": {"message": "cleanup exit {{steps.cleanup.output.exit_status}}"}, "waitFor": ["cleanup"]},
        ],
    }  # fmt: skip


async def test_a_gated_step_is_approved_on_its_own_job_id(ssh_stack, sshd):
    command = f"rm -rf /tmp/gpt-step-{uuid.uuid4().hex}"
    async with ssh_stack() as (http, _):
        workflow_id = await create(http, cleanup_workflow(command))
        assert (await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})).status_code == 202

        status = await wait_for(http, workflow_id, lambda s: steps_of(s)["cleanup"]["state"] == "awaiting_approval")
        step = steps_of(status)["cleanup"]
        assert steps_of(status)["report"]["state"] == "pending"
        assert step["job_id"] == f"{workflow_id}.cleanup"
        assert (step["approval"]["command"], step["approval"]["host"], step["approval"]["user"]) == (
            command,
            "recorder",
            sshd.user,
        )
        assert step["approval"]["requested_by"] == "api-key"

        job = (await http.get(f"/jobs/{workflow_id}")).json()
        assert job["status"] == "running"
        [waiting] = job["steps_awaiting_approval"]
        assert waiting["step_id"] == "cleanup" and waiting["job_id"] == step["job_id"]
        assert waiting["approval"] == step["approval"]

        child = (await http.get(f"/jobs/{step['job_id']}")).json()
        assert child["status"] == "awaiting_approval" and child["intent"] == "ssh.exec"
        assert child["approval_request"] == step["approval"]
        assert command not in sshd.recorded_commands(), "nothing ran before the decision"

        approved = await http.post(
            f"/jobs/{step['job_id']}/approve",
            json={"approver": "alice", "fingerprint": step["approval"]["fingerprint"]},
        )
        assert approved.status_code == 200, approved.text
        done = await wait_for(http, workflow_id, lambda s: s["state"] != "running")

    assert done["state"] == "succeeded", done
    assert steps_of(done)["cleanup"]["output"]["command"] == command
    assert steps_of(done)["report"]["state"] == "succeeded"
    assert command in sshd.recorded_commands()
