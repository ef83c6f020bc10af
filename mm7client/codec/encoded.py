"""What the writers give: an encoded MM7 message (body and HTTP headers); fresh TransactionIDs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    """An encoded MM7 message, ready to be sent as an HTTP body."""

    body: bytes
    content_type: str
    transaction_id: str

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers for a request or response carrying this body (never chunked)."""
        return {
            "Content-Type": self.content_type,
            "Content-Length": str(len(self.body)),
            "SOAPAction": '""',
        }


def new_transaction_id() -> str:
    """A fresh TransactionID."""
    return uuid.uuid4().hex
