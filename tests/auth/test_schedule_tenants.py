"""Schedules are an admin's to make (issue 11: admin does "everything, including keys, schedules"), and
belong to the key that made them: its runs carry that key's name and tenant, another tenant sees none
of it (404, as for none), and a caller or approver key may read its tenant's schedules but not make one."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.service import RPCError


async def test_a_schedule_runs_as_its_creator_and_is_invisible_to_another_tenant(keyed, client, unique):
    schedule_id = f"tenant-{unique}"
    body = {"schedule_id": schedule_id, "intent": "memory.search", "inputs": {"query": unique}, "every": "2s"}
    try:
        async with keyed.as_("acme-ops") as acme:
            made = await acme.post("/schedules", json=body)
            assert made.status_code == 201, made.text
            assert (made.json()["requested_by"], made.json()["tenant"]) == ("acme-ops", "acme")
            for _ in range(80):
                runs = (await acme.get(f"/schedules/{schedule_id}")).json()["recent_runs"]
                if any(r["status"] == "success" for r in runs):
                    break
                await asyncio.sleep(0.25)
            run = next(r for r in runs if r["status"] == "success")
            job = (await acme.get(f"/jobs/{run['job_id']}")).json()
            assert (job["requested_by"], job["tenant"], job["schedule_id"]) == ("acme-ops", "acme", schedule_id), job
            await acme.post(f"/schedules/{schedule_id}/pause")

        async with keyed.as_("globex-gpt") as globex:
            for path in (f"/schedules/{schedule_id}", f"/jobs/{run['job_id']}"):
                hidden = await globex.get(path)
                assert hidden.status_code == 404 and hidden.json()["error"]["type"] == "NotFound", hidden.text
            assert schedule_id not in {s["schedule_id"] for s in (await globex.get("/schedules")).json()["schedules"]}

        for name in ("acme-gpt", "acme-lead"):  # may read their tenant's schedules, may not make or change one
            async with keyed.as_(name) as reader:
                refused = await reader.post("/schedules", json={**body, "schedule_id": f"{name}-{unique}"})
                assert refused.status_code == 403 and refused.json()["error"]["type"] == "Forbidden", refused.text
                assert (await reader.post(f"/schedules/{schedule_id}/trigger")).status_code == 403
                assert (await reader.get(f"/schedules/{schedule_id}")).status_code == 200

        async with keyed.as_("api-key") as admin:  # admins see every tenant's
            assert (await admin.get(f"/schedules/{schedule_id}")).status_code == 200
            taken = await admin.post("/schedules", json={**body, "inputs": {"query": "other"}})  # the id is taken
            assert (
                taken.status_code == 409 and "acme" not in taken.text and unique not in taken.json()["error"]["message"]
            )
    finally:
        with contextlib.suppress(RPCError):
            await client.get_schedule_handle(schedule_id).delete()
