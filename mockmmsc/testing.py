"""Helpers for tests that talk to the mock over HTTP: build LGT-form requests, post, decode.

These are the building blocks of the mock's own integration tests; they use the shared codec,
so a request built here is what :mod:`mm7client` sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from mm7client.codec import EncodedMessage, decode, encode
from mm7client.model import Address, MM7Message, Part, SoapFault, SubmitRequest
from mm7client.profiles import LGT, CarrierProfile

__all__ = ["Answer", "lgt_submit", "post_mm7"]


def lgt_submit(
    *to: str,
    vas_id: str = "VAS001",
    vasp_id: str = "VASP01",
    kisa_orig_code: str | None = "123456789",
    delivery_report: bool | None = True,
    subject: str | None = "test",
    content: list[Part] | None = None,
    **fields: Any,
) -> SubmitRequest:
    """A SubmitRequest with LGT's required fields filled in."""
    return SubmitRequest(
        to=[Address(number) for number in to or ("01012345678",)],
        vasp_id=vasp_id,
        vas_id=vas_id,
        sender_address=fields.pop("sender_address", "15881234"),
        callback=fields.pop("callback", "15881234"),
        kisa_orig_code=kisa_orig_code,
        delivery_report=delivery_report,
        subject=subject,
        content=content if content is not None else [Part.from_text("안녕하세요")],
        **fields,
    )


@dataclass(slots=True)
class Answer:
    """An HTTP answer of the mock, decoded."""

    http_status: int
    body: bytes
    content_type: str
    message: MM7Message | None

    @property
    def status_code(self) -> int | None:
        """The MM7 StatusCode of the answer (Rsp or fault)."""
        status = getattr(self.message, "status", None)
        return status.code_int if status is not None else None

    @property
    def status_text(self) -> str | None:
        """The MM7 StatusText of the answer."""
        status = getattr(self.message, "status", None)
        return status.text if status is not None else None

    @property
    def is_fault(self) -> bool:
        """True for a SOAP Fault."""
        return isinstance(self.message, SoapFault)


async def post_mm7(
    session: aiohttp.ClientSession,
    url: str,
    message: MM7Message | EncodedMessage | bytes,
    *,
    profile: CarrierProfile = LGT,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST a message (model, encoded, or raw bytes with ``content_type``) and decode the answer."""
    if isinstance(message, bytes):
        body, ctype = message, content_type or 'text/xml; charset="euc-kr"'
    else:
        encoded = message if isinstance(message, EncodedMessage) else encode(message, profile)
        body, ctype = encoded.body, encoded.content_type
    sent = {"Content-Type": ctype, "SOAPAction": '""', **(headers or {})}
    async with session.post(url, data=body, headers=sent) as response:
        data = await response.read()
        answer_type = response.headers.get("Content-Type", "")
        try:
            decoded: MM7Message | None = decode(data, answer_type)
        except Exception:
            decoded = None
        return Answer(response.status, data, answer_type, decoded)


class ReportSink:
    """A tiny VASP-side report receiver on 127.0.0.1 for tests.

    Answers DeliveryReportRsp 1000 (encoded with the codec), except for the first ``fail_first``
    requests, which get ``fail_with``: ``"http500"`` (an HTML error page), ``"status4000"`` (a
    DeliveryReportRsp with 4000) or ``"empty200"`` (an empty HTTP 200).
    """

    def __init__(
        self, fail_first: int = 0, fail_with: str = "http500", profile: CarrierProfile = LGT
    ) -> None:
        self.fail_first = fail_first
        self.fail_with = fail_with
        self.profile = profile
        self.received: list[MM7Message] = []
        self.raw: list[bytes] = []
        self.requests = 0
        self._runner: Any = None
        self.url = ""

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        from mm7client.model import DeliveryReportResponse, Status

        body = await request.read()
        self.requests += 1
        self.raw.append(body)
        message = decode(body, request.headers.get("Content-Type"))
        if self.requests <= self.fail_first:
            if self.fail_with == "empty200":
                return web.Response(status=200)
            if self.fail_with == "status4000":
                rsp = DeliveryReportResponse(
                    transaction_id=message.transaction_id, status=Status.of(4000, "nope")
                )
                encoded = encode(rsp, self.profile)
                return web.Response(body=encoded.body, headers=encoded.headers)
            return web.Response(status=500, text="<html>oops</html>", content_type="text/html")
        self.received.append(message)
        rsp = DeliveryReportResponse(
            transaction_id=message.transaction_id, status=Status.of(1000, "Success")
        )
        encoded = encode(rsp, self.profile)
        return web.Response(body=encoded.body, headers={"Content-Type": encoded.content_type})

    async def __aenter__(self) -> ReportSink:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()
