"""Errors raised by order services. Each carries a sentence for people and the canonical
SMM API v2 sentence the v2 endpoint answers with."""

from __future__ import annotations

from panel.smmapi.protocol import Error


class OrderError(Exception):
    def __init__(self, message: str, *, api_error: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.api_error = api_error
        self.field = field


class PlacementError(OrderError):
    """The order was refused; nothing was written and nothing charged."""


class RefillError(OrderError):
    pass


class CancelError(OrderError):
    pass


__all__ = ["CancelError", "Error", "OrderError", "PlacementError", "RefillError"]
