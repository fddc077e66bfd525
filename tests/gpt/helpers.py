"""Small verbs the GPT workflow stories share."""

import asyncio
from datetime import datetime


async def create(http, definition: dict) -> str:
    resp = await http.post("/api/gpt-workflows/create", json=definition)
    assert resp.status_code == 201, resp.text
    return resp.json()["workflow_id"]


async def run(http, definition: dict, wait: float = 60) -> dict:
    workflow_id = await create(http, definition)
    resp = await http.post(f"/api/gpt-workflows/{workflow_id}/execute", params={"wait": wait})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def wait_for(http, workflow_id: str, predicate, timeout: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        resp = await http.get(f"/api/gpt-workflows/{workflow_id}")
        status = resp.json()
        # A 503 (the worker did not answer the status query in time, e.g. on a loaded machine) is asked again.
        if resp.status_code != 503 and predicate(status):
            return status
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.1)


def steps_of(status: dict) -> dict[str, dict]:
    return {s["step_id"]: s for s in status["steps"]}


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def chat(step_id: str, gpt: str, message: str = "go", **extra) -> dict:
    return {"stepId": step_id, "gpt": gpt, "action": "message", "params": {"message": message}, **extra}
