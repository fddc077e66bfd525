"""A first visit: a wrong key is refused and nothing is kept; the right one signs in and lives only in the
tab's sessionStorage; every page is reachable from the keyboard and every field has a label; an intent is
tried from a form generated from its schema (the bad field is named at the field); a fleet is launched and
each agent's answer appears; pages that need a newer gateway stay hidden (Schedules, shown here because this gateway has them)."""

from __future__ import annotations

from tests.console.conftest import browser_was_clean, console_stack, shots_dir, sign_in
from tests.support.browser import Browser

UNLABELLED = """[...document.querySelectorAll('main input, main select, main textarea')]
  .filter(el => el.type !== 'hidden' && !(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 60))"""


async def test_first_visit_keyboard_labels_intents_and_a_fleet(client, settings, tmp_path, sshd):
    async with (
        console_stack(client, settings, tmp_path, sshd, llm_offline_latency_ms=300) as console,
        Browser() as browser,
    ):
        await browser.viewport(1280, 800)
        await browser.open(console.page)
        await browser.wait_for("document.activeElement?.id === 'api-key'")
        await browser.insert_text("gpo_not-a-real-key")
        await browser.press("Enter")
        refused = await browser.wait_for("document.querySelector('#sign-in-error')?.textContent", what="the refusal")
        assert "refused" in refused
        assert await browser.evaluate("sessionStorage.length") == 0 and await browser.evaluate("document.cookie") == ""

        await sign_in(browser, console, "ops")
        assert await browser.evaluate("sessionStorage.getItem('gpt-orchestrator.console.key')") == console.tokens["ops"]
        assert (
            console.tokens["ops"] not in await browser.evaluate("location.href")
            and await browser.evaluate("document.cookie") == ""
        )
        nav = await browser.evaluate("[...document.querySelectorAll('#nav a')].map(a => a.textContent)")
        assert nav == ["Jobs", "Approvals", "GPT workflows", "Fleets", "Intents", "Schedules"], (
            "the Schedules page lights up because this gateway has GET /schedules"
        )

        # The keyboard reaches the skip link first, then every page of the navigation, in order.
        await browser.evaluate("document.activeElement.blur(); window.focus()")
        reached = []
        for _ in range(len(nav) + 2):
            await browser.press("Tab")
            reached.append(await browser.evaluate("document.activeElement.textContent.trim()"))
        assert reached[: len(nav) + 1] == ["Skip to content", *nav], reached

        for page in (
            "#/jobs",
            "#/approvals",
            "#/gpt",
            "#/fleets",
            "#/schedules",
            "#/intents",
            "#/intents?name=memory.write",
        ):
            await browser.open(f"{console.page}{page}")
            await browser.wait_for(
                "document.querySelector('main h1') && !document.querySelector('main h1').textContent.includes('Loading')"
            )
            await browser.wait_for("!!document.querySelector('main h1')")
            assert await browser.evaluate(UNLABELLED) == [], page

        # Intents: the form comes from memory.write's schema; an empty text is named at its field.
        await browser.evaluate("document.querySelector('#in-text').value = ''")
        await browser.evaluate("document.querySelector('main form button[type=submit]').click()")
        error = await browser.wait_for(
            "document.querySelector('[data-field=text] .field-error')?.textContent", what="the error at the text field"
        )
        assert (
            error
            and await browser.evaluate("document.querySelector('#in-text').getAttribute('aria-invalid')") == "true"
        )
        await browser.evaluate("document.querySelector('#in-text').value = 'Deploys happen on Thursdays'")
        await browser.evaluate("document.querySelector('main form button[type=submit]').click()")
        await browser.wait_for("!!document.querySelector('.try-result a')", what="the started job's link")
        await browser.evaluate("document.querySelector('.try-result a').click()")
        await browser.wait_for_text("Deploys happen on Thursdays", "success")

        # Fleets: launch one; each agent's answer appears.
        await browser.open(f"{console.page}#/fleets")
        await browser.wait_for("!!document.querySelector('#fleet-objective')")
        await browser.evaluate("document.querySelector('#fleet-category').value = 'Creative'")
        await browser.evaluate("document.querySelector('#fleet-objective').value = 'Name the new feature'")
        await browser.evaluate("document.querySelector('#fleet-objective').form.querySelector('button').click()")
        answers = await browser.wait_for(
            "document.querySelectorAll('.agent[data-state=succeeded]').length === 3 && [...document.querySelectorAll('.agent')].map(a => a.textContent)",
            timeout=60, what="three agents' answers",
        )  # fmt: skip
        assert all("[offline:" in a for a in answers), answers
        await browser.screenshot(shots_dir(tmp_path) / "console-fleet.png")
        browser_was_clean(browser, console)
