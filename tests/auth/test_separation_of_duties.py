"""Identity is recorded, not declared: the approver is the deciding key's name (a body can only add a
note), and a key cannot decide on a job it requested unless the deployment allows it."""

from __future__ import annotations

from tests.auth.conftest import keyed_gateway
from tests.support.stack import poll_job


async def gate(http, unique: str) -> str:
    started = await http.post(
        "/orchestrate", json={"intent": "approval.request", "inputs": {"message": f"publish {unique}?"}}
    )
    assert started.status_code == 202, started.text
    assert started.json()["approval_request"]["requested_by"] in ("acme-gpt", "acme-ops")
    return started.json()["job_id"]


async def test_the_approver_is_the_keys_name_and_the_body_only_adds_a_note(keyed, unique):
    async with keyed.as_("acme-gpt") as gpt, keyed.as_("acme-lead") as lead:
        job_id = await gate(gpt, unique)
        approved = await lead.post(
            f"/jobs/{job_id}/approve", json={"approver": "security-team-lead (MFA verified)", "reason": "reviewed"}
        )
        assert approved.status_code == 200, approved.text
        decision = approved.json()["approval"]
        assert decision["approver"] == "acme-lead" and decision["note"] == "security-team-lead (MFA verified)"
        job = await poll_job(lead, job_id, until=("success",))
        assert job["approval"]["approver"] == "acme-lead"
        assert job["requested_by"] == "acme-gpt" and job["tenant"] == "acme"


async def test_a_key_cannot_approve_what_it_requested(keyed, unique):
    async with keyed.as_("acme-ops") as ops, keyed.as_("acme-lead") as lead:
        job_id = await gate(ops, unique)  # an admin may both ask and approve, but not both on one job
        for verb in ("approve", "reject"):
            refused = await ops.post(f"/jobs/{job_id}/{verb}", json={"reason": "LGTM"})
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["type"] == "SelfApproval"
        assert (await ops.get(f"/jobs/{job_id}")).json()["status"] == "awaiting_approval", "nothing was decided"
        assert (await lead.post(f"/jobs/{job_id}/approve", json={})).json()["approval"]["approver"] == "acme-lead"


async def test_allow_self_approval_is_a_deployment_choice(client, settings, worker, tmp_path, unique):
    async with keyed_gateway(client, settings, tmp_path / "keys.yaml", allow_self_approval=True) as keyed:
        async with keyed.as_("acme-ops") as ops:
            job_id = await gate(ops, unique)
            approved = await ops.post(f"/jobs/{job_id}/approve", json={})
            assert approved.status_code == 200 and approved.json()["approval"]["approver"] == "acme-ops"


async def test_the_bootstrap_key_is_held_to_the_rule_too(keyed, unique):
    """The root key handed to a GPT must not approve its own request: another key decides."""
    async with keyed.as_("api-key") as root, keyed.as_("acme-ops") as admin:  # an admin sees every tenant
        started = await root.post(
            "/orchestrate", json={"intent": "approval.request", "inputs": {"message": f"dev {unique}"}}
        )
        job_id = started.json()["job_id"]
        refused = await root.post(f"/jobs/{job_id}/approve", json={"approver": "me"})
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "SelfApproval", refused.text
        approved = await admin.post(f"/jobs/{job_id}/approve", json={})
        assert approved.status_code == 200 and approved.json()["approval"]["approver"] == "acme-ops"
