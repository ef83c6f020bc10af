"""The mock in tests: :class:`MockMMSC` (start it, script it, assert on what it received) and
helpers to talk to it over HTTP (build LGT-form requests, post, decode; a report sink).

:class:`MockMMSC` puts together the three parts of a mock: its state
(:class:`~mockmmsc.state.MockState`), its application (:func:`mockmmsc.app.build_app`) and a
runner (:class:`~mockmmsc.runner.MockRunner`); what it adds is the assertion API. The helpers
use the shared codec, so a request built here is what :mod:`mm7client` sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from mm7client.codec import EncodedMessage, decode, encode
from mm7client.model import (
    Address,
    DeliveryReportResponse,
    MM7Message,
    Part,
    SoapFault,
    Status,
    SubmitRequest,
)
from mm7client.profiles import LGT, CarrierProfile
from mm7client.throttle.clock import Clock
from mockmmsc.app import ENDPOINT_KEY, REPORTS_KEY, build_app
from mockmmsc.endpoint import MM7Endpoint
from mockmmsc.faults import FaultBook
from mockmmsc.reports import ReportDispatcher
from mockmmsc.runner import MockRunner
from mockmmsc.scenarios import Rule, RuleBook
from mockmmsc.settings import MockSettings
from mockmmsc.state import MockState
from mockmmsc.store import ReceivedRequest, ReportRecord, Store
from mockmmsc.throttle import OverloadWindows, TpsContracts

__all__ = ["Answer", "MockMMSC", "ReportSink", "lgt_submit", "post_mm7"]


class MockMMSC:
    """An LGT-like MMS Relay/Server for tests: ``async with MockMMSC(settings) as mmsc``.

    ``clock``: the monotonic clock of 4030 windows and TPS contracts (a
    :class:`~mm7client.throttle.FakeClock` in tests that move time by hand).

    Attributes:
        state: the :class:`~mockmmsc.state.MockState` (settings, store, rules, faults, windows,
            TPS contracts, report URLs); the properties below are its parts.
        app: the aiohttp application; runner: what serves it.
    """

    def __init__(
        self, settings: MockSettings | None = None, *, clock: Clock | None = None, **overrides: Any
    ) -> None:
        self.state = MockState(settings, clock=clock, **overrides)
        self.app: web.Application = build_app(self.state)
        settings = self.state.settings
        self.runner = MockRunner(self.app, settings.host, settings.port, settings.server_limits)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> MockMMSC:
        """Start serving; returns self."""
        await self.runner.start()
        return self

    async def stop(self) -> None:
        """Stop serving (pending reports stay in the store file, if any)."""
        await self.runner.stop()

    async def __aenter__(self) -> MockMMSC:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port served on."""
        return self.runner.port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``."""
        return self.runner.base_url

    @property
    def url(self) -> str:
        """The MM7 endpoint URL (``.../mm7``; ``POST /`` works too)."""
        return self.runner.url

    # -- the parts -------------------------------------------------------------------------

    @property
    def settings(self) -> MockSettings:
        """The settings in force."""
        return self.state.settings

    @property
    def profile(self) -> CarrierProfile:
        """The carrier profile answers and reports are encoded with."""
        return self.state.profile

    @property
    def store(self) -> Store:
        """What was received, and the event bus."""
        return self.state.store

    @property
    def rules(self) -> RuleBook:
        """The rules."""
        return self.state.rules

    @property
    def faults(self) -> FaultBook:
        """The global faults."""
        return self.state.faults

    @property
    def tps(self) -> TpsContracts:
        """Per-VASID TPS contracts."""
        return self.state.tps

    @property
    def overload_windows(self) -> OverloadWindows:
        """The 4030 windows."""
        return self.state.overload_windows

    @property
    def report_urls(self) -> dict[str, str]:
        """Per-VASID report URLs set at run time."""
        return self.state.report_urls

    @property
    def endpoint(self) -> MM7Endpoint:
        """The MM7 endpoint (``endpoint.faults`` is :attr:`faults`)."""
        return self.app[ENDPOINT_KEY]

    @property
    def reports(self) -> ReportDispatcher:
        """The delivery-report dispatcher."""
        return self.app[REPORTS_KEY]

    # -- what was received -----------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedRequest]:
        """Every received request, oldest first."""
        return self.state.store.messages

    def received(
        self,
        *,
        operation: str | None = None,
        recipient: str | None = None,
        vas_id: str | None = None,
        status_code: int | None = None,
    ) -> list[ReceivedRequest]:
        """Received requests whose fields equal the given ones (``recipient``: one of them)."""
        return self.state.received(
            operation=operation, recipient=recipient, vas_id=vas_id, status_code=status_code
        )

    def assert_received(self, count: int | None = None, **filters: Any) -> list[ReceivedRequest]:
        """Assert that requests matching ``filters`` arrived (exactly ``count`` if given)."""
        found = self.received(**filters)
        if count is None:
            assert found, f"no request matching {filters} among {len(self.messages)} received"
        else:
            assert len(found) == count, (
                f"expected {count} request(s) matching {filters}, got {len(found)}: "
                f"{[m.summary() for m in found]}"
            )
        return found

    async def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Wait until at least ``n`` requests arrived and return them all (a copy, oldest
        first); raises TimeoutError saying how many arrived."""
        store = self.state.store
        if not await store.wait_until(lambda: len(store.messages) >= n, timeout):
            raise TimeoutError(f"waited {timeout} s for {n} request(s), got {len(store.messages)}")
        return list(store.messages)

    async def wait_for_reports(
        self, n: int, timeout: float = 5.0, acknowledged: bool = True
    ) -> list[ReportRecord]:
        """Wait for ``n`` reports: acknowledged ones, or (``acknowledged=False``) ones sent at
        least once. Raises TimeoutError saying how far it got."""
        store = self.state.store

        def chosen() -> list[ReportRecord]:
            if acknowledged:
                return [r for r in store.reports if r.acknowledged]
            return [r for r in store.reports if r.attempts > 0]

        if not await store.wait_until(lambda: len(chosen()) >= n, timeout):
            states = [
                (r.recipient, r.attempts, r.acknowledged, r.last_error) for r in store.reports
            ]
            raise TimeoutError(
                f"waited {timeout} s for {n} {'acknowledged ' if acknowledged else ''}report(s), "
                f"got {len(chosen())}; reports: {states}"
            )
        return chosen()

    def requests_during_overload(self, vas_id: str | None) -> int:
        """SubmitReqs of ``vas_id`` that arrived in a 4030 window after its first 4030 answer."""
        return self.state.requests_during_overload(vas_id)

    # -- scenarios -------------------------------------------------------------------------

    def add_rule(self, rule: Rule | Mapping[str, Any] | None = None, **fields: Any) -> str:
        """Add a rule (a :class:`Rule`, its dict form, or keyword fields); returns its id."""
        return self.state.add_rule(rule, **fields)

    def remove_rule(self, rule_id: str) -> bool:
        """Remove a rule by id; False when there is none."""
        return self.state.remove_rule(rule_id)

    def reset_rules(self) -> None:
        """Remove every rule."""
        self.state.reset_rules()

    def set_tps(self, vas_id: str, tps: float | None) -> None:
        """Contract ``tps`` for ``vas_id`` (requests above it get 7103); None = unlimited."""
        self.state.set_tps(vas_id, tps)

    def overload(
        self, seconds: float, vas_id: str | None = None, *, answered: str | None = None
    ) -> None:
        """Answer 4030 to every SubmitReq of ``vas_id`` (None: everyone) for ``seconds``
        (scaled by the time scale). ``answered``: a VASID already answered 4030 for it."""
        self.state.overload(seconds, vas_id, answered=answered)

    def end_overload(self, vas_id: str | None = None, *, everything: bool = False) -> None:
        """Close the 4030 window of ``vas_id`` (or every window)."""
        self.state.end_overload(vas_id, everything=everything)

    def set_report_url(self, vas_id: str, url: str | None) -> None:
        """Where reports of ``vas_id`` go (None: back to the default)."""
        self.state.set_report_url(vas_id, url)

    def report_url_for(self, vas_id: str | None) -> str | None:
        """The report URL of ``vas_id``: its own, its account's, else the default."""
        return self.state.report_url_for(vas_id)

    def reset(self) -> None:
        """Forget received requests, rules, global faults, overload windows and counts."""
        self.state.reset()


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
