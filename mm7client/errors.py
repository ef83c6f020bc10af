"""Exceptions raised by the MM7 toolkit.

Every error carries the offending value in its message so a log line alone is enough to debug.
Carrier status codes are *never* raised: they become normalized results. Exceptions are for
programming errors (an invalid message, caught before anything is sent) and for bytes that are
not MM7 at all.
"""

from __future__ import annotations


class MM7Error(Exception):
    """Base class of every exception raised by this package."""


class ValidationError(MM7Error, ValueError):
    """A message breaks a rule of its carrier profile; raised before anything is sent.

    Attributes:
        field: the MM7 field at fault, e.g. ``"KisaOrigCode"`` or ``"Recipients/To[0]"``.
        value: the offending value (truncated in the message when long).
        reason: what is wrong with it.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}={shown}: {reason}")


class ParseError(MM7Error, ValueError):
    """Bytes that cannot be read as the expected MM7 message.

    Attributes:
        status_code: the MM7 status code a peer should answer with (2007 "Message format
            corrupt" for broken MIME/XML or a truncated body, 4004 "Validation error" for
            missing fields, 4003 for an unsupported operation).
        transaction_id: the TransactionID of the refused message when its SOAP header was
            readable (``None`` otherwise), so a fault can echo it. :func:`mm7client.codec.decode`
            and :func:`~mm7client.codec.summarize_request` fill it in.
    """

    def __init__(
        self, message: str, *, status_code: int = 2007, transaction_id: str | None = None
    ) -> None:
        self.status_code = status_code
        self.transaction_id = transaction_id
        super().__init__(message)


class BodyTooLargeError(ParseError):
    """A body, part or XML document exceeds a configured size limit."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"{what} of {size} bytes exceeds the limit of {limit} bytes")
