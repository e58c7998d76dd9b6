"""The one shape of a sandbox service's refusal: an HTTP status and the service's message.

Each service (the upload endpoint, the exchange, Fulcio, Rekor) raises its own
subclass, so a handler catches only its own refusals and renders them in that
service's error format.
"""

from __future__ import annotations


class Refusal(Exception):
    """A sandbox service refuses the request with ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


__all__ = ["Refusal"]
