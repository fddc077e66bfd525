"""Tenants cannot see each other's work. The tenant is part of every job ID, another tenant's job is a 404
byte for byte like no job at all (read, approve, reject, cancel; GPT workflows and fleets too), lists
are per tenant, child jobs (GPT steps) inherit their parent's tenant, and the tenant an intent sees
is the key's, whatever the request said. Admin keys see every tenant."""

from __future__ import annotations

import contextlib
import json

from infra.logs import JsonFormatter
from intents import registry
from tests.auth.conftest import Keyed, keyed_gateway
from tests.gpt.helpers import create, steps_of, wait_for
from tests.ops.test_logs import captured
from tests.support import tenant_echo
from tests.support.stack import poll_job
from worker.run import build_worker
from workflows import search_attributes as sa

NO_SUCH_JOB = "orch-" + "e" * 64


async def nothing_there(http, method: str, url: str, **kwargs) -> tuple[int, dict]:
    resp = await http.request(method, url, **kwargs)
    return resp.status_code, resp.json()


def same_answer_as_no_job(theirs: tuple[int, dict], none: tuple[int, dict]) -> bool:
    return theirs == none and theirs[0] == 404


async def gate(http, message: str) -> str:
    started = await http.post(
        "/orchestrate", json={"intent": "approval.request", "inputs": {"message": message}, "async": True}
    )
    assert started.status_code == 202, started.text
    return started.json()["job_id"]


async def test_the_same_request_from_two_tenants_is_two_jobs_each_invisible_to_the_other(keyed, client, unique):
    async with (
        keyed.as_("acme-gpt") as acme,
        keyed.as_("globex-gpt") as globex,
        keyed.as_("globex-lead") as globex_lead,
    ):
        mine, theirs = await gate(acme, f"deploy {unique}?"), await gate(globex, f"deploy {unique}?")
        assert mine != theirs
        job = await poll_job(acme, mine, until=("awaiting_approval",))
        assert (job["requested_by"], job["tenant"]) == ("acme-gpt", "acme")

        desc = await client.get_workflow_handle(mine).describe()
        assert desc.typed_search_attributes.get(sa.REQUESTED_BY) == "acme-gpt"
        assert desc.typed_search_attributes.get(sa.TENANT) == "acme"

        for method, path, kwargs in [
            ("GET", "/jobs/{}", {}),
            ("POST", "/jobs/{}/cancel", {}),
        ]:
            assert same_answer_as_no_job(
                await nothing_there(globex, method, path.format(mine), **kwargs),
                await nothing_there(globex, method, path.format(NO_SUCH_JOB), **kwargs),
            ), (method, path)
        for verb in ("approve", "reject"):
            assert same_answer_as_no_job(
                await nothing_there(globex_lead, "POST", f"/jobs/{mine}/{verb}", json={}),
                await nothing_there(globex_lead, "POST", f"/jobs/{NO_SUCH_JOB}/{verb}", json={}),
            ), verb
        assert (await acme.get(f"/jobs/{mine}")).json()["status"] == "awaiting_approval", "nothing happened to it"

    async with keyed.as_("acme-ops") as admin:
        assert (await admin.get(f"/jobs/{theirs}")).json()["tenant"] == "globex", "admins see every tenant"
        assert (await admin.post(f"/jobs/{theirs}/cancel")).status_code == 200
    async with keyed.as_("acme-gpt") as acme:
        assert (await acme.post(f"/jobs/{mine}/cancel")).status_code == 200


async def test_gpt_workflows_and_their_lists_are_per_tenant(keyed, unique):
    definition = {
        "name": f"Tenant check {unique}",
        "steps": [{"stepId": "gate", "action": "approval.request", "params": {"message": f"go {unique}?"}}],
    }
    async with keyed.as_("acme-gpt") as acme, keyed.as_("globex-gpt") as globex, keyed.as_("acme-ops") as admin:
        workflow_id = await create(acme, definition)
        other = await create(globex, definition)
        for method, path in [
            ("GET", "/api/gpt-workflows/{}"),
            ("POST", "/api/gpt-workflows/{}/execute"),
            ("POST", "/api/gpt-workflows/{}/cancel"),
        ]:
            theirs = await nothing_there(globex, method, path.format(workflow_id))
            none = await nothing_there(globex, method, path.format("gptwf-" + "e" * 32))
            assert same_answer_as_no_job(theirs, none), (method, path, theirs, none)

        named = {"name": definition["name"]}
        assert [w["workflow_id"] for w in (await acme.get("/api/gpt-workflows", params=named)).json()] == [workflow_id]
        assert [w["workflow_id"] for w in (await globex.get("/api/gpt-workflows", params=named)).json()] == [other]
        both = {w["workflow_id"] for w in (await admin.get("/api/gpt-workflows", params=named)).json()}
        assert both == {workflow_id, other}
        only = (await admin.get("/api/gpt-workflows", params=named | {"tenant": "globex"})).json()
        assert [w["workflow_id"] for w in only] == [other]
        asked = (await acme.get("/api/gpt-workflows", params=named | {"tenant": "globex"})).json()
        assert [w["workflow_id"] for w in asked] == [workflow_id], "only admins choose the tenant"

        # Its step runs as its own job, in the same tenant: the other tenant can neither see nor decide it.
        assert (await acme.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 0})).status_code == 202
        status = await wait_for(acme, workflow_id, lambda s: steps_of(s)["gate"]["state"] == "awaiting_approval")
        step_job = steps_of(status)["gate"]["job_id"]
        step = (await acme.get(f"/jobs/{step_job}")).json()
        assert (step["tenant"], step["requested_by"]) == ("acme", "acme-gpt")
        async with keyed.as_("globex-lead") as globex_lead, keyed.as_("acme-lead") as acme_lead:
            assert (await globex_lead.post(f"/jobs/{step_job}/approve", json={})).status_code == 404
            assert (await acme_lead.post(f"/jobs/{step_job}/approve", json={})).status_code == 200
        for wf in (workflow_id, other):
            await admin.post(f"/api/gpt-workflows/{wf}/cancel")


async def test_fleets_are_per_tenant(keyed, unique):
    body = {"objective": f"tenant fleet {unique}"}
    async with keyed.as_("acme-gpt") as acme, keyed.as_("globex-gpt") as globex:
        ran = await acme.post("/api/gpt-fleets/Creative/orchestrate", params={"wait": 30}, json=body)
        assert ran.status_code == 200, ran.text
        workflow_id = ran.json()["workflow_id"]
        again = await globex.post("/api/gpt-fleets/Creative/orchestrate", params={"wait": 30}, json=body)
        assert again.json()["workflow_id"] != workflow_id, "the same request from another tenant is its own run"
        assert (await acme.get(f"/jobs/{workflow_id}")).json()["tenant"] == "acme"
        assert same_answer_as_no_job(
            await nothing_there(globex, "GET", f"/jobs/{workflow_id}"),
            await nothing_there(globex, "GET", f"/jobs/{NO_SUCH_JOB}"),
        )


@contextlib.asynccontextmanager
async def echo_stack(client, settings, tmp_path):
    """A keyed gateway and a worker that also runs the tenant-scoped test intent, on a queue of their own."""
    local = settings.model_copy(update={"task_queue": f"tenants-{tmp_path.name[-12:]}"})
    async with build_worker(client, local, activities=[tenant_echo.tenant_echo]):
        async with keyed_gateway(client, local, tmp_path / "keys.yaml") as keyed:
            yield keyed


async def test_a_tenant_scoped_intent_gets_the_keys_tenant_whatever_the_request_says(
    client, settings, tmp_path, unique
):
    async with echo_stack(client, settings, tmp_path) as keyed:
        keyed: Keyed
        async with keyed.as_("acme-gpt") as acme:
            direct = await acme.post(
                "/orchestrate", json={"intent": "test.tenant_echo", "inputs": {"text": unique, "tenant": "globex"}}
            )
            assert direct.status_code == 200, direct.text
            assert direct.json()["result"] == {"text": unique, "tenant": "acme"}

            listed = (await acme.get("/intents", params={"prefix": "test.tenant_echo"})).json()["intents"][0]
            assert "tenant" not in listed["input_schema"]["properties"], "not the client's to set"

            # Inside a GPT workflow, a step's params cannot point it elsewhere either.
            definition = {"name": f"echo {unique}", "steps": [
                {"stepId": "echo", "action": "test.tenant_echo", "params": {"text": unique, "tenant": "globex"}}
            ]}  # fmt: skip
            workflow_id = await create(acme, definition)
            done = (await acme.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": 30})).json()
            assert steps_of(done)["echo"]["output"] == {"text": unique, "tenant": "acme"}


async def test_a_memory_search_never_returns_another_tenants_memories(keyed, unique):
    assert all(registry.get(n).tenant_scoped for n in registry.names() if n.startswith("memory."))
    async with keyed.as_("acme-gpt") as acme, keyed.as_("globex-gpt") as globex:
        wrote = await acme.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": f"acme secret {unique}"}}
        )
        assert wrote.status_code == 200, wrote.text
        query = {"intent": "memory.search", "inputs": {"query": f"secret {unique}", "k": 10}}
        assert unique in str((await acme.post("/orchestrate", json=query)).json()["result"])
        sneaky = {"intent": "memory.search", "inputs": {"query": f"secret {unique}", "k": 10, "tenant": "acme"}}
        found = await globex.post("/orchestrate", json=query)
        assert found.status_code == 200 and unique not in str(found.json()["result"])
        refused = await globex.post("/orchestrate", json=sneaky)  # the tenant is not an input a client has
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "inputs.tenant"


async def test_logs_say_which_key_and_tenant(client, settings, tmp_path, unique):
    """The gateway's access line names the key and its tenant; the worker's lines for the job, who asked and the tenant."""
    with (
        captured("gpt_orchestrator.gateway.access", JsonFormatter()) as access,
        captured("temporalio.activity", JsonFormatter()) as worker,
    ):
        async with echo_stack(client, settings, tmp_path) as keyed:
            async with keyed.as_("acme-gpt") as acme:
                done = await acme.post("/orchestrate", json={"intent": "test.tenant_echo", "inputs": {"text": unique}})
                assert done.status_code == 200, done.text
    [line] = [json.loads(x) for x in access.getvalue().splitlines() if '"/orchestrate"' in x]
    assert (line["key_name"], line["tenant"], line["job_id"]) == ("acme-gpt", "acme", done.json()["job_id"])
    [echoed] = [json.loads(x) for x in worker.getvalue().splitlines() if "echoing for tenant" in x]
    assert (echoed["tenant"], echoed["requested_by"], echoed["job_id"]) == ("acme", "acme-gpt", done.json()["job_id"])
