"""An approver who has never seen curl signs in, finds the pending `rm -rf` in the inbox, reads exactly
what it will do and on which host, approves it with a reason, and sees the job finish. A decision made
elsewhere (curl) takes its card out of the inbox while she watches."""

from __future__ import annotations

from tests.console.conftest import DESKTOP, PHONE, browser_was_clean, shots_dir, sign_in
from tests.support.stack import poll_job

CARD = "document.querySelector('.inbox:not(.decided) article[data-job-id=\"{job}\"]')"


async def ask(http, command: str) -> str:
    resp = await http.post("/orchestrate", json={"intent": "ssh.exec", "inputs": {"host": "web-1", "command": command}})
    assert resp.status_code == 202 and resp.json()["status"] == "awaiting_approval", resp.text
    return resp.json()["job_id"]


async def test_an_approver_approves_the_pending_rm_rf_from_the_inbox_and_sees_it_run(
    console, browser, sshd, marker, tmp_path
):
    doomed = sshd.root / f"doomed-{marker.name}"
    (doomed / "inner").mkdir(parents=True)
    command = f"touch {marker} && rm -rf {doomed}"
    async with console.as_("chatgpt") as gpt:
        job_id = await ask(gpt, command)
        other = await ask(gpt, f"rm -rf {doomed}/inner")

    await sign_in(browser, console, "alice")
    await browser.wait_for("location.hash === '#/approvals'", what="an approver lands on the inbox")
    card = CARD.format(job=job_id)
    await browser.wait_for(f"!!{card}", what="the pending job's card")
    shown = await browser.evaluate(f"""(() => {{
        const card = {card};
        const facts = Object.fromEntries([...card.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent]));
        return {{command: card.querySelector('pre.command').textContent, facts,
                 risks: [...card.querySelectorAll('.risks li')].map(li => li.textContent),
                 buttons: [...card.querySelectorAll('button')].map(b => b.textContent)}};
    }})()""")
    assert shown["command"] == command, "exactly the command that will run"
    assert shown["facts"]["Host"] == "web-1" and shown["facts"]["User"] == sshd.user
    assert shown["facts"]["Requested by"] == "chatgpt" and shown["facts"]["Intent"] == "ssh.exec"
    assert "min" in shown["facts"]["Expires in"], "an expiry countdown"
    assert any("rm removes" in r for r in shown["risks"]), shown["risks"]
    assert shown["buttons"] == ["Approve", "Reject"]
    await browser.screenshot(shots_dir(tmp_path) / "console-approvals.png")

    # Decided elsewhere: the other card leaves the inbox by itself.
    await browser.wait_for("!!" + CARD.format(job=other))
    async with console.as_("ops") as ops:
        assert (await ops.post(f"/jobs/{other}/reject", json={"reason": "not today"})).status_code == 200
    await browser.wait_for(f"!{CARD.format(job=other)}", timeout=15, what="the card decided by curl leaves the inbox")
    assert await browser.evaluate("document.querySelector('.live-status').textContent.includes('decided elsewhere')")

    # Approve with a reason, from the keyboard's point of view: the reason field is labelled.
    await browser.evaluate(f"""(() => {{
        const card = {card};
        const reason = card.querySelector('textarea[name=reason]');
        if (!card.querySelector('label[for="' + reason.id + '"]')) throw new Error('unlabelled reason');
        reason.focus();
    }})()""")
    await browser.insert_text("planned cleanup")
    await browser.evaluate(f"{card}.querySelector('button.approve').click()")
    outcome = await browser.wait_for(
        f"document.querySelector('.decided article[data-job-id=\"{job_id}\"] .outcome')?.textContent",
        timeout=30,
        what="the decision",
    )
    assert "approved by alice" in outcome

    async with console.as_("alice") as alice:
        job = await poll_job(alice, job_id)
    assert job["status"] == "success" and job["approval"]["approver"] == "alice"
    assert marker.exists() and not doomed.exists(), "the approved command ran on the host"

    # The job page shows it finished, with who approved it and why.
    await browser.open(f"{console.page}#/jobs/{job_id}")
    text = await browser.wait_for_text("success", "Decision", "planned cleanup", "alice")
    assert "Open in the Temporal Web UI" in text
    await browser.screenshot(shots_dir(tmp_path) / "console-job.png")

    await browser.viewport(*PHONE, mobile=True)
    await browser.open(f"{console.page}#/jobs/{job_id}")
    await browser.wait_for_text("planned cleanup")
    assert await browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
        "no sideways scrolling at phone width"
    )
    await browser.screenshot(shots_dir(tmp_path) / "console-phone.png")
    await browser.viewport(*DESKTOP)
    browser_was_clean(browser, console)
