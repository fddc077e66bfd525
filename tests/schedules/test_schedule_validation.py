"""Bad schedule requests are refused before anything is created: a 4xx naming the field, never a 500."""

from __future__ import annotations

import pytest

from intents.schedules import check_cron, parse_every

GOOD = {"intent": "memory.search", "inputs": {"query": "x"}, "cron": "0 8 * * 1-5"}


def without(*keys: str, **extra) -> dict:
    return {k: v for k, v in GOOD.items() if k not in keys} | extra


CASES = [
    ("bad cron", without(cron="61 * * * *"), 422, "cron"),
    ("cron of words", without(cron="every morning"), 422, "cron"),
    ("cron with seconds", without(cron="*/1 * * * * *"), 422, "cron"),
    ("quartz L", without(cron="0 0 L * *"), 422, "cron"),
    ("both day fields", without(cron="0 8 1 * 1"), 422, "cron"),
    ("no when", without("cron"), 422, "cron"),
    ("cron and every", without(every="1h"), 422, "every"),
    ("unknown timezone", without(timezone="Mars/Olympus"), 422, "timezone"),
    ("path-like timezone", without(timezone="../../etc/passwd"), 422, "timezone"),
    ("bad overlap", without(overlap="sometimes"), 422, "overlap"),
    ("too frequent", without("cron", every="1s"), 422, "every"),
    ("sub-second", without("cron", every="500ms"), 422, "every"),
    ("zero", without("cron", every=0), 422, "every"),
    ("negative", without("cron", every=-5), 422, "every"),
    ("fractional", without("cron", every=2.5), 422, "every"),
    ("too rare", without("cron", every="400d"), 422, "every"),
    ("astronomical", without("cron", every=1e300), 422, "every"),
    ("huge digits", without("cron", every="9999999d"), 422, "every"),
    ("boolean every", without("cron", every=True), 422, "every"),
    ("gibberish every", without("cron", every="soon"), 422, "every"),
    ("negative jitter", without(jitter_s=-1), 422, "jitter_s"),
    ("end before start", without(start_at="2030-01-02T00:00:00Z", end_at="2030-01-01T00:00:00Z"), 422, "end_at"),
    ("ended already", without(end_at="2020-01-01T00:00:00Z"), 422, "end_at"),
    ("naive start", without(start_at="2030-01-01T00:00:00"), 422, "start_at"),
    ("unknown intent", without(intent="memory.wirte"), 400, "intent"),
    ("nothing to run", without("intent", "inputs"), 422, "intent"),
    ("two things to run", without(fleet={"category": "Creative", "objective": "x"}), 422, "fleet"),
    ("inputs with a fleet", without("intent", fleet={"category": "Creative", "objective": "x"}), 422, "inputs"),
    ("bad inputs", without(inputs={"query": ""}), 422, "inputs.query"),
    ("unknown input", without(inputs={"query": "x", "url": "http://169.254.169.254/"}), 422, "inputs.url"),
    ("bad fleet", without("intent", "inputs", fleet={"category": "Nope", "objective": "x"}), 400, "fleet.category"),
    ("bad workflow", without("intent", "inputs", workflow={"name": "w", "steps": []}), 422, "workflow.steps"),
    ("bad id", without(schedule_id="../etc"), 422, "schedule_id"),
    ("long id", without(schedule_id="a" * 65), 422, "schedule_id"),
    ("unknown field", without(webhook="http://x"), 422, "webhook"),
    ("huge note", without(note="n" * 501), 422, "note"),
    ("huge inputs", without(inputs={"query": "q" * 5000}), 422, "inputs.query"),
    ("unsafe callback", without(callback_url="http://169.254.169.254/latest"), 400, "callback_url"),
]


@pytest.mark.parametrize("case, body, status, field", CASES, ids=[c[0] for c in CASES])
async def test_a_bad_schedule_is_a_4xx_naming_the_field(api, client, case, body, status, field):
    resp = await api.post("/schedules", json=body)

    assert resp.status_code == status, resp.text
    assert resp.json()["status"] == "error" and resp.json()["error"]["field"] == field, resp.json()


async def test_a_refused_request_creates_no_schedule(api, client, unique):
    resp = await api.post("/schedules", json=without(schedule_id=f"refused-{unique}", timezone="Nowhere/Land"))
    assert resp.status_code == 422
    assert (await api.get(f"/schedules/refused-{unique}")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/schedules/nope",
        "/schedules/..%2F..",
        "/schedules/" + "x" * 300,
        "/schedules/nope/pause",
        "/schedules/nope/trigger",
    ],
)
async def test_an_unknown_schedule_is_404_without_echo(api, path):
    resp = await (api.get(path) if path.count("/") == 2 else api.post(path))
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["type"] == "NotFound" and "nope" not in resp.text and "x" * 50 not in resp.text


async def test_body_of_a_huge_request_is_413(api):
    resp = await api.post("/schedules", json=without(inputs={"query": "q" * 200_000}))
    assert resp.status_code == 413


async def test_a_backfill_window_is_checked(api, made, unique):
    made.append(f"bf-{unique}")
    created = await api.post("/schedules", json=without(schedule_id=f"bf-{unique}", paused=True))
    assert created.status_code == 201, created.text
    for body, field in [
        ({"start_at": "2026-01-02T00:00:00Z", "end_at": "2026-01-01T00:00:00Z"}, "end_at"),
        ({"start_at": "2026-01-01T00:00:00Z", "end_at": "2026-03-01T00:00:00Z"}, "end_at"),
        ({"start_at": "2020-01-01T00:00:00Z", "end_at": "2099-01-02T00:00:00Z"}, "end_at"),
        ({"start_at": "2026-01-01T00:00:00Z"}, "end_at"),
    ]:
        resp = await api.post(f"/schedules/bf-{unique}/backfill", json=body)
        assert resp.status_code == 422 and resp.json()["error"]["field"] == field, resp.text


@pytest.mark.parametrize("text", ["@daily", "0 8 * * 1-5", "*/15 9-17 * * mon-fri", "0 0 1 jan *", "30 7 1,15 * *"])
def test_good_cron_expressions_pass(text):
    assert check_cron(text) == text


@pytest.mark.parametrize(
    "text, seconds", [("2s", 2), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1d", 86400), (3600, 3600)]
)
def test_intervals_read_as_durations(text, seconds):
    assert parse_every(text).total_seconds() == seconds


def test_a_run_id_is_a_job_id_and_names_its_scheduled_time():
    from datetime import datetime, timezone

    from intents.canonical import JOB_ID_PATTERN
    from intents.schedules import run_id_base, scheduled_time_of

    longest = "a" * 64
    run = f"{run_id_base(longest)}-2026-11-30T07:00:00Z"  # what Temporal makes of the action's workflow id
    assert JOB_ID_PATTERN.match(run) and len(run) <= 200
    assert scheduled_time_of(run, longest) == datetime(2026, 11, 30, 7, tzinfo=timezone.utc)
    assert scheduled_time_of(run, "a") is None
