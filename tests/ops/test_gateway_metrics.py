"""An operator points Prometheus at the gateway's /metrics and sees traffic by route and status,
latency, and how many jobs each intent started (a re-sent request that attaches is not a new job)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.support.gateway import api_client
from tests.support.stack import isolated_stack


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_requests_by_route_latency_and_jobs_started(client, settings, unique):
    async with isolated_stack(client, settings) as (http, _):
        write = {"intent": "memory.write", "inputs": {"text": f"metrics {unique}"}}
        first = await http.post("/orchestrate", json=write)
        again = await http.post("/orchestrate", json=write)  # idempotent: attaches to the same job
        assert first.status_code == again.status_code == 200
        assert (await http.get(f"/jobs/{first.json()['job_id']}")).status_code == 200
        assert (await http.get("/no/such/path")).status_code == 404

        resp = await http.get("/metrics")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
        scraped = samples(resp.text)

    assert value(scraped, "gateway_requests_total", route="/orchestrate", method="POST", status="200") == 2
    # Routes are templates, never raw IDs or paths, so label cardinality stays bounded.
    assert value(scraped, "gateway_requests_total", route="/jobs/{job_id}", method="GET", status="200") == 1
    assert value(scraped, "gateway_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert value(scraped, "gateway_request_duration_seconds_count", route="/orchestrate", method="POST") == 2
    assert value(scraped, "gateway_request_duration_seconds_sum", route="/orchestrate", method="POST") > 0
    assert value(scraped, "gateway_jobs_started_total", intent="memory.write", mode="agent") == 1


async def test_metrics_token_guards_the_endpoint_and_is_not_the_api_key(client, settings):
    async with isolated_stack(client, settings, with_worker=False, metrics_token=SecretStr("scrape-secret")) as (
        http,
        _,
    ):
        assert (await http.get("/metrics")).status_code == 401  # the API key does not open it
        async with api_client(str(http.base_url), "scrape-secret") as scraper:
            resp = await scraper.get("/metrics")
        assert resp.status_code == 200 and "gateway_requests_total" in resp.text
        schema = (await http.get("/openapi.json")).json()
        assert "/metrics" not in schema["paths"], "ChatGPT Actions must not see the operators' endpoint"
