"""An attacker's corpus through the real gateway: every evasive command waits for a human; none reaches the host.

The `recorder` host's login only appends the command it was sent to a log and runs nothing, so a
command that slipped through would show up there without ever running anywhere.
"""

from __future__ import annotations

import asyncio
import json

from tests.ssh.exec_corpus import ALL, BENIGN, WITHIN_THE_AREA


async def send(http, command: str):
    # ASCII-escaped JSON, so commands holding lone surrogates reach the gateway as a client could send them.
    body = json.dumps({"intent": "ssh.exec", "inputs": {"host": "recorder", "command": command}})
    return await http.post("/orchestrate", content=body, headers={"Content-Type": "application/json"})


async def test_no_evasive_command_runs_unapproved(ssh_stack, sshd):
    before = sshd.recorded_commands()
    limit = asyncio.Semaphore(8)
    async with ssh_stack() as (http, _):

        async def attempt(command: str):
            async with limit:
                return command, await send(http, command)

        answers = await asyncio.gather(*(attempt(c) for c in ALL))
        ran = [c for c, resp in answers if resp.status_code == 200]
        held = [resp.json()["job_id"] for _, resp in answers if resp.status_code == 202]
        for command, resp in answers:
            if resp.status_code == 202:
                body = resp.json()
                assert body["status"] == "awaiting_approval" and body["risk"], (command, body)
            else:
                assert resp.status_code in (400, 422), (command, resp.status_code, resp.text)
        await asyncio.gather(*(http.post(f"/jobs/{job_id}/cancel") for job_id in held))
    assert ran == []
    assert sshd.recorded_commands() == before, "an evasive command reached the host"


async def test_reads_and_the_operators_allowances_still_run_at_once(ssh_stack, sshd):
    async with ssh_stack() as (http, _):
        for command in [*BENIGN, *WITHIN_THE_AREA]:
            resp = await send(http, command)
            assert resp.status_code == 200, (command, resp.text)
    assert sshd.recorded_commands()[-len(BENIGN) - len(WITHIN_THE_AREA) :] == [*BENIGN, *WITHIN_THE_AREA]
