"""digest.daily as a ready schedule: `make dev` makes `digest-daily` only when DIGEST_SCHEDULE_CRON asks."""

from __future__ import annotations

import subprocess

from gateway.schedules import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from worker.check_config import check_settings
from worker.devserver import temporal_binary


async def test_without_the_setting_no_schedule_is_made(client, settings):
    assert await ensure_digest_schedule(client, settings) is None


async def test_the_opt_in_digest_schedule_is_made_once_kept_in_step_and_listed_by_temporal(client, settings, made):
    made.append(DIGEST_SCHEDULE_ID)
    wanted = settings.model_copy(
        update={"digest_schedule_cron": "0 8 * * 1-5", "digest_schedule_timezone": "Europe/Paris"}
    )

    view = await ensure_digest_schedule(client, wanted)
    again = await ensure_digest_schedule(client, wanted)  # every `make dev` start: no error, no second schedule
    assert view is not None and again is not None
    assert (view.schedule_id, view.intent, view.cron, view.timezone) == (
        "digest-daily",
        "digest.daily",
        "0 8 * * 1-5",
        "Europe/Paris",
    )
    assert again.created_at == view.created_at and len(view.next_run_times) == 5

    moved = await ensure_digest_schedule(client, wanted.model_copy(update={"digest_schedule_cron": "30 7 * * 1-5"}))
    assert moved is not None and moved.cron == "30 7 * * 1-5" and moved.created_at == view.created_at

    listed = subprocess.run(
        [temporal_binary(), "schedule", "list", "--address", settings.temporal_address, "--namespace", "default"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert DIGEST_SCHEDULE_ID in listed


def test_check_config_names_a_bad_digest_cron_or_time_zone(settings):
    report = check_settings(
        settings.model_copy(update={"digest_schedule_cron": "0 25 * * *", "digest_schedule_timezone": "Moon/Base"})
    )
    assert any(p.startswith("DIGEST_SCHEDULE_CRON:") for p in report.problems), report.problems
    assert any(p.startswith("DIGEST_SCHEDULE_TIMEZONE:") for p in report.problems), report.problems
