"""Errors raised by order services. Each carries a sentence for people and the canonical
SMM API v2 sentence the v2 endpoint answers with."""

from __future__ import annotations

from collections.abc import Mapping

from panel.smmapi.protocol import Error


class OrderError(Exception):
    """``message`` is the English sentence. With ``params`` the sentence given is a template
    (``"“%(field)s” must be …"``): ``template`` and ``params`` let a page translate it."""

    def __init__(
        self,
        message: str,
        *,
        api_error: str,
        field: str | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> None:
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.api_error = api_error
        self.field = field


class PlacementError(OrderError):
    """The order was refused; nothing was written and nothing charged."""


class RefillError(OrderError):
    pass


class CancelError(OrderError):
    pass


__all__ = ["CancelError", "Error", "OrderError", "PlacementError", "RefillError"]
