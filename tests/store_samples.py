"""What the receiver store tests feed a store: a delivery report and a client submit result."""

from __future__ import annotations

from dataclasses import dataclass

from mm7client.codes import NormalizedResult
from mm7client.model import Address, DeliveryReportRequest


def report(
    message_id: str = "MSG-1",
    recipient: str = "01088880001",
    mm_status: str = "Retrieved",
    status_text: str | None = "OK",
    transaction_id: str | None = "tid-1",
) -> DeliveryReportRequest:
    return DeliveryReportRequest(
        transaction_id=transaction_id,
        message_id=message_id,
        recipient=Address(recipient),
        sender=Address("15881234"),
        mm_status=mm_status,
        status_text=status_text,
    )


@dataclass(frozen=True)
class FakeSubmitResult:
    """Duck-typed like the client's SubmitResult (only what record_submit reads)."""

    message_id: str | None
    transaction_id: str | None
    normalized: NormalizedResult | None
    attempts: int | None = None
