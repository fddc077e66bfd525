"""The one exception a policy raises: a request it refuses, with the reason and the field to name."""

from __future__ import annotations

from typing import Any


class Refusal(ValueError):
    """Refused by a policy. `field` names the request field (e.g. `inputs.command`) for the 4xx body."""

    def __init__(self, message: str, *, field: str | None = None, details: Any = None):
        super().__init__(message)
        self.field = field
        self.details = details
