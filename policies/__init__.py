"""Pure safety engines: what may run, where a callback may go, what must never leave (no I/O).

Bottom floor: imports nothing of ours except `config` types. Each engine answers with data (a list
of risks) or raises `policies.refusal.Refusal`; the caller decides which typed error that becomes.
"""
