"""One trace per request: the gateway's HTTP span is the parent of the workflow start, the workflow run
and its activity, so an operator follows a slow ChatGPT call from the HTTP request into the worker."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from infra import tracing
from infra.temporal import connect
from tests.support.stack import isolated_stack


async def test_a_request_span_links_to_the_workflow_and_its_activity(settings, unique):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # explicit, never the global provider: other tests stay untraced
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced = await connect(settings, interceptors=tracing.temporal_interceptors(provider))

    async with isolated_stack(traced, settings, tracer_provider=provider) as (http, _):
        resp = await http.post(
            "/orchestrate",
            json={"intent": "memory.write", "inputs": {"text": f"trace me {unique}"}},
            headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        )
        assert resp.status_code == 200, resp.text

    spans = {span.name: span for span in exporter.get_finished_spans()}
    http_span = spans["POST /orchestrate"]
    assert http_span.kind == SpanKind.SERVER
    assert http_span.attributes["http.route"] == "/orchestrate"
    assert http_span.attributes["http.response.status_code"] == 200
    # The caller's trace continues (W3C traceparent), and every hop below hangs off its parent.
    assert format(http_span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    # temporalio's TracingInterceptor hangs the workflow's own spans off the span that started it.
    parent_of = {
        "StartWorkflow:IntentWorkflow": "POST /orchestrate",
        "RunWorkflow:IntentWorkflow": "StartWorkflow:IntentWorkflow",
        "StartActivity:memory.write": "StartWorkflow:IntentWorkflow",
        "RunActivity:memory.write": "StartActivity:memory.write",
        "CompleteWorkflow:IntentWorkflow": "StartWorkflow:IntentWorkflow",
    }
    for child, parent in parent_of.items():
        assert child in spans, f"missing span {child}; got {sorted(spans)}"
        assert spans[child].parent.span_id == spans[parent].context.span_id, f"{child} is not a child of {parent}"
        assert spans[child].context.trace_id == http_span.context.trace_id


async def test_tracing_is_off_unless_an_otlp_endpoint_is_configured(settings):
    assert tracing.tracer_provider(settings, "gpt-orchestrator-gateway") is None
    assert tracing.temporal_interceptors(None) == []
    on = settings.model_copy(update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318/"})
    assert tracing.traces_url(on.otel_exporter_otlp_endpoint) == "http://127.0.0.1:4318/v1/traces"
    assert tracing.tracer_provider(on, "svc") is tracing.tracer_provider(on, "svc"), "one provider per process"
