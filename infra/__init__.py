"""Process plumbing the gateway and the worker share: the one Temporal client, JSON logs, tracing.

It talks to Temporal and OpenTelemetry, so it is not part of the pure floors; it imports only `config`.
"""
