"""What a configuration lookup raises when a request names something that is not configured.

config/ is the bottom floor: it knows nothing of intents or HTTP. Callers translate `NotConfigured`
into their own typed errors (intents.spec.rejected_lookup -> a 400 naming the field).
"""

from __future__ import annotations


class NotConfigured(LookupError):
    """`kind` ('host', 'agent', 'category') named `name`, which the configuration does not have."""

    def __init__(
        self, kind: str, name: str, message: str, *, field: str, known: list[str], suggestions: list[str] | None = None
    ):
        super().__init__(message)
        self.kind, self.name, self.field = kind, name, field
        self.known, self.suggestions = known, list(suggestions or [])
