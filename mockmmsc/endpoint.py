"""The MM7 endpoint, a thin aiohttp shell: read -> summarize -> decide -> apply -> faults -> reply.

For each ``POST /`` or ``POST /mm7``:

1. HTTP Basic auth when ``basic_auth`` is set -> HTTP 401 without it (compared in constant
   time; an empty user or password never matches).
2. Body over ``max_body_bytes`` -> HTTP 413 with a SOAP Fault (RSErrorRsp 2004 "Multimedia
   content refused,"), refused from Content-Length before reading, or as soon as a body without
   Content-Length grows past the limit. (Without reading the body there is no TransactionID to
   echo, so the answer is a fault, not a SubmitRsp.) A Content-Type that is neither XML nor
   multipart (``application/json``, ``text/html``...) -> HTTP 415 with a 2007 fault, unread; a
   missing one or ``application/octet-stream`` is sniffed by the codec. A body that ends short
   of its Content-Length is truncated: HTTP 500 with a 2007 fault (when the connection still
   takes an answer), recorded, never acknowledged.
3. The envelope's fields are read with the shared codec (``summarize_request``; the whole
   message is decoded when first read, or here with ``check_content``). Unreadable body ->
   HTTP 500 with a SOAP Fault (RSErrorRsp 2007 / 4004 / 4003 from the codec's ParseError;
   a truncated multipart, without its closing delimiter or cut in a part, is 2007); any other
   operation than SubmitReq/CancelReq/ReplaceReq -> 4003 fault. A fault echoes the request's
   TransactionID whenever its SOAP header was readable, and the record keeps it.
4. :func:`mockmmsc.decide.decide` says what to answer (accounts, KisaOrigCode, 4030 windows,
   TPS, rules, magic numbers) and what that changes; the effects are applied at once.
5. Faults (:mod:`mockmmsc.faults`): a global ``reset_before_body`` fault acts before step 2;
   the answer and delivery-report faults of the deciding rule, else the global ones, act on
   the answer decided and on the reports it schedules.
6. The request is counted in the traffic meter (:mod:`mockmmsc.traffic`, by the status
   answered), stored, its reports scheduled, and the answer (encoded once per status and
   form, rendered with the request's ids) sent.

Answers (Rsps and faults) are written in the form the request arrived in - its MM7 namespace,
MM7Version, prefixed or unqualified children - unless ``answer_form`` forces one.

"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import time
from collections.abc import Iterator

from aiohttp import web

from mm7client.codec import (
    Limits,
    PreparedResponse,
    RequestSummary,
    decode,
    find_transaction_id,
    summarize_request,
)
from mm7client.errors import MM7Error, ParseError
from mm7client.model import (
    CancelResponse,
    MessageForm,
    MM7Message,
    ReplaceResponse,
    Response,
    Status,
    SubmitResponse,
)
from mm7client.server import (
    answer_form,
    check_basic_auth,
    check_media_type,
    fault_answer,
    parse_basic_auth,
    parse_error_refusal,
    status_text,
)
from mm7client.server_aiohttp import RequestRefused, read_body, request_record
from mockmmsc.decide import (
    STATUS_CORRUPT,
    STATUS_SERVER_ERROR,
    STATUS_TOO_LARGE,
    STATUS_UNSUPPORTED_OPERATION,
    decide,
)
from mockmmsc.effects import ScheduleReports
from mockmmsc.faults import Fault, FaultBook, HoldRegistry, html_error_page, malform
from mockmmsc.reports import ReportDispatcher
from mockmmsc.state import MockState
from mockmmsc.store import HttpHead, ReceivedRequest, ReportRecord

__all__ = ["MM7Endpoint"]

log = logging.getLogger(__name__)

_OPERATIONS = frozenset({"SubmitReq", "CancelReq", "ReplaceReq"})
#: Prepared answers kept (statuses x texts x forms; the oldest is dropped beyond it).
_MAX_PREPARED = 1024


class MM7Endpoint:
    """The POST handler of ``/`` and ``/mm7``."""

    def __init__(self, state: MockState, reports: ReportDispatcher) -> None:
        self.state = state
        self.reports = reports
        self.settings = state.settings
        self.profile = state.profile
        self.limits = Limits(max_body_bytes=self.settings.max_body_bytes)
        # the size bound, and the time a body read may take (408 + 2007 beyond it)
        self.body_policy = self.settings.server_limits.body_policy(
            self.settings.max_body_bytes, status_code=STATUS_TOO_LARGE
        )
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(2).hex().upper()
        self._stamp_second = -1
        self._stamp = ""
        #: connections held by ``no_answer`` faults (released when the mock stops)
        self.holds = HoldRegistry()
        #: answers encoded once per (operation, status, text, MessageID or not, form's fields)
        self._prepared_responses: dict[
            tuple[str, int, str, bool, str, str, str], PreparedResponse
        ] = {}

    @property
    def faults(self) -> FaultBook:
        """The global faults (``settings.faults``, the API's ``/api/faults``): the state's."""
        return self.state.faults

    def new_message_id(self) -> str:
        """A fresh MessageID (unique per process, timestamped)."""
        now = int(self.state.wall_clock())
        if now != self._stamp_second:  # formatted once a second, not per message
            self._stamp_second = now
            self._stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(now)) + self._id_prefix
        return f"{self._stamp}{next(self._ids):07d}"

    # -- answers ---------------------------------------------------------------------------

    def form_for(self, envelope: RequestSummary | None) -> MessageForm:
        """The form to answer a request in (:func:`mm7client.server.answer_form`, as the
        receiver's): the request's own (its namespace, MM7Version and style), in the style
        ``answer_form`` forces if any; for an unreadable body, the profile's."""
        request_form = envelope.form if envelope is not None else None
        setting = self.settings.answer_form
        if setting == "mirror" and request_form is not None:
            return request_form  # the default, per request: no call
        return answer_form(setting, request_form, self.profile)

    def _prepared(
        self, operation: str, code: int, text: str, with_message_id: bool, form: MessageForm
    ) -> PreparedResponse:
        """The Rsp of ``operation`` with this status in ``form``, encoded once (a few dozen
        statuses in a few forms are answered over and over; rules with their own texts and
        peers with their own MM7Versions may add more: up to a bound, oldest dropped)."""
        # the form's fields, not the form: a dataclass's hash is a Python call
        key = (operation, code, text, with_message_id, form.namespace, form.version, form.style)
        prepared = self._prepared_responses.get(key)
        if prepared is None:
            status = Status(str(code), text)
            rsp: Response
            if operation == "SubmitReq":
                rsp = SubmitResponse(status=status, message_id="" if with_message_id else None)
            elif operation == "CancelReq":
                rsp = CancelResponse(status=status)
            else:
                rsp = ReplaceResponse(status=status)
            prepared = PreparedResponse(rsp, self.profile, form=form)
            if len(self._prepared_responses) >= _MAX_PREPARED:
                del self._prepared_responses[next(iter(self._prepared_responses))]
            self._prepared_responses[key] = prepared
        return prepared

    def _fault(
        self,
        code: int,
        detail: str,
        transaction_id: str | None,
        http_status: int = 500,
        envelope: RequestSummary | None = None,
    ) -> web.Response:
        answer = fault_answer(
            code,
            detail,
            profile=self.profile,
            detail_kind="RSErrorRsp",
            http_status=http_status,
            transaction_id=transaction_id,
            headers={"SOAPAction": '""'},
            form=self.form_for(envelope),
        )
        return web.Response(body=answer.body, status=http_status, headers=answer.headers)

    def _rejected_unread(
        self,
        request: web.Request,
        code: int,
        detail: str,
        http_status: int,
        transaction_id: str | None = None,
    ) -> web.Response:
        response = self._fault(code, detail, transaction_id, http_status)
        response.force_close()  # the rest of the body is never read
        self._record_failure(
            request, b"", "refused", code, http_status, detail, None, transaction_id
        )
        return response

    def _record_failure(
        self,
        request: web.Request,
        body: bytes,
        operation: str,
        code: int,
        http_status: int,
        error: str,
        envelope: RequestSummary | None = None,
        transaction_id: str | None = None,
    ) -> None:
        """Store a refused request; ``transaction_id``: the one its fault echoed (the
        envelope's, or one found in a body the codec refused)."""
        item = self._received(request, body, operation, envelope)
        item.status_code = code
        item.status_text = status_text(code)
        item.http_status = http_status
        if transaction_id is None and envelope is not None:
            transaction_id = envelope.transaction_id
        item.transaction_id = transaction_id
        item.error = error
        vas_id = envelope.vas_id if envelope is not None else None
        self.state.traffic.count(vas_id, code, self.state.clock.now())
        self.state.store.add(item)
        _note(request, item)

    def _received(
        self,
        request: web.Request,
        body: bytes,
        operation: str,
        envelope: RequestSummary | None,
        message: MM7Message | None = None,
    ) -> ReceivedRequest:
        """The record of a request, before its answer is known (decoded when first read,
        unless ``message`` is already the decoded one)."""
        return ReceivedRequest(
            id=self.state.store.next_id(),
            received_at=self.state.wall_clock(),
            operation=operation,
            envelope=envelope,
            raw_body=body,
            content_type=request.headers.get("Content-Type", ""),
            message=message,
            decode_pending=envelope is not None and message is None,
            http_head=HttpHead.of(request),
        )

    # -- the handler -----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one MM7 request (never raises, never shows a traceback)."""
        settings = self.settings
        faults = self.state.faults
        if len(faults):
            early = faults.before_read()
            if early is not None:
                await self._fault_wait(early)
                log.info("fault %s (%s): dropping the connection unread", early.id, early.kind)
                _drop(request)
                return web.Response(status=204)  # never written: the connection is gone
        if settings.basic_auth is not None:
            refusal = check_basic_auth(
                request.headers.get("Authorization"), settings.basic_auth, realm="mockmmsc"
            )
            if refusal is not None:  # plain HTTP 401 with the challenge, as a web server does
                request_record(request).operation = "refused"
                return web.Response(
                    status=refusal.http_status, text=refusal.reason + "\n", headers=refusal.headers
                )
        content_type = request.headers.get("Content-Type", "")
        read_tid: str | None = None  # the TransactionID in what was read of a refused body
        refusal = check_media_type(content_type)
        if refusal is None:
            try:  # (a Content-Length over the limit is refused before any byte is read)
                body = await read_body(request, self.body_policy)
            except RequestRefused as exc:
                refusal = exc.refusal
                if refusal.http_status == 400:
                    # it ended short of its Content-Length, or with its connection: truncated,
                    # refused as the codec refuses a truncated multipart (2007, HTTP 500)
                    refusal = dataclasses.replace(refusal, http_status=500)
                read_tid = find_transaction_id(exc.body) if exc.body else None
        if refusal is not None:
            return self._rejected_unread(
                request, refusal.status_code, refusal.reason, refusal.http_status, read_tid
            )
        message: MM7Message | None = None
        try:
            # the answer needs only the envelope's fields; the message is decoded when first
            # read (ReceivedRequest.request), unless check_content asks for it now
            envelope = summarize_request(body, content_type, self.limits)
            if settings.check_content:
                message = decode(body, content_type, self.limits)
        except ParseError as exc:
            # a truncated body (a multipart without its closing delimiter, a part cut
            # mid-header) is refused here too: never acknowledged, so the sender retries
            code = parse_error_refusal(exc, too_large_code=STATUS_TOO_LARGE).status_code
            tid = exc.transaction_id  # the header's, when it was readable
            log.info("undecodable MM7 request (%d): %s", code, exc)
            self._record_failure(request, body, "invalid", code, 500, str(exc), None, tid)
            return self._fault(code, str(exc), tid)
        except MM7Error as exc:  # pragma: no cover - the codec raises only ParseError
            tid = find_transaction_id(body)
            self._record_failure(request, body, "invalid", STATUS_CORRUPT, 500, str(exc), None, tid)
            return self._fault(STATUS_CORRUPT, str(exc), tid)
        operation = envelope.operation
        if operation not in _OPERATIONS:
            detail = f"{operation} is not an operation a VASP sends to the MMSC"
            self._record_failure(
                request, body, operation, STATUS_UNSUPPORTED_OPERATION, 500, detail, envelope
            )
            return self._fault(
                STATUS_UNSUPPORTED_OPERATION, detail, envelope.transaction_id, 500, envelope
            )
        try:
            return await self._answer(request, body, envelope, message)
        except Exception as exc:  # the mock's own bug: still an MM7 answer, logged
            log.exception("mock failure answering %s", operation)
            request_record(request).status_code = STATUS_SERVER_ERROR
            detail = f"mock internal error: {type(exc).__name__}"
            return self._fault(STATUS_SERVER_ERROR, detail, envelope.transaction_id, 500, envelope)

    async def _fault_wait(self, fault: Fault) -> None:
        seconds = self.settings.scaled(fault.wait_seconds(self.faults.random))
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def _answer(
        self,
        request: web.Request,
        body: bytes,
        envelope: RequestSummary,
        message: MM7Message | None,
    ) -> web.StreamResponse:
        state = self.state
        operation = envelope.operation
        vas_id = envelope.vas_id
        item = self._received(request, body, operation, envelope, message)
        now = state.clock.now()
        # the Basic credentials matter to accounts only (a password may come from there)
        credentials = _basic_credentials(request) if state.settings.accounts is not None else None
        outcome = decide(envelope, credentials, state, now, content_types=_ContentTypes(item))
        if outcome.effects:
            state.apply(outcome.effects, now)  # before any await: the next request sees them
        answer = outcome.answer
        rule_faults = answer.action.fault if answer.action is not None else []
        fault: Fault | None = None
        report_fault: Fault | None = None
        if rule_faults or len(state.faults):
            fault = state.faults.pick(rule_faults, operation, vas_id, report=False)
            report_fault = state.faults.pick(rule_faults, operation, vas_id, report=True)
        if fault is not None:
            log.info("fault %s (%s) on %s", fault.id, fault.kind, operation)
            if fault.kind == "soap_fault":
                code = fault.status or STATUS_SERVER_ERROR
                answer = dataclasses.replace(
                    answer, code=code, text=status_text(code), http_status=fault.http_status or 500
                )
            elif fault.kind == "http_error":
                answer = dataclasses.replace(
                    answer,
                    code=STATUS_SERVER_ERROR,
                    text=status_text(STATUS_SERVER_ERROR),
                    http_status=fault.http_status or 503,
                )
        if answer.delay > 0:
            await asyncio.sleep(answer.delay)
        if fault is not None:
            await self._fault_wait(fault)
        submit = operation == "SubmitReq"
        message_id: str | None
        if submit:
            message_id = self.new_message_id() if answer.accepted else None
        else:  # CancelReq, ReplaceReq
            message_id = envelope.message_id
        transaction_id = envelope.transaction_id or uuid_hex()
        answered_tid = transaction_id
        if fault is not None and fault.kind == "wrong_transaction_id":
            answered_tid = "WRONG" + uuid_hex()
        item.status_code = answer.code
        item.status_text = answer.text
        item.http_status = answer.http_status
        item.message_id = message_id
        item.transaction_id = transaction_id
        item.rule_id = answer.rule_id
        response: web.StreamResponse
        if answer.http_status >= 400:
            response = self._fault(answer.code, "", answered_tid, answer.http_status, envelope)
        else:
            # a SubmitRsp carries the new MessageID; a CancelRsp or ReplaceRsp none
            answered_id = message_id if submit else None
            prepared = self._prepared(
                operation,
                answer.code,
                answer.text,
                answered_id is not None,
                self.form_for(envelope),
            )
            encoded = prepared.render(answered_tid, answered_id)
            response = web.Response(
                body=encoded.body,
                status=answer.http_status,
                headers={"Content-Type": encoded.content_type, "SOAPAction": '""'},
            )
        state.traffic.count(vas_id, answer.code, now)
        state.store.add(item)
        _note(request, item)
        reports = outcome.reports() if outcome.effects else None
        # a fault that turned the answer into a refusal cancels the reports
        if reports is not None and answer.accepted and submit and message_id is not None:
            self._schedule_reports(item, envelope, message_id, reports, report_fault)
        if fault is not None:
            return await self._damage(request, response, fault)
        return response

    async def _damage(
        self, request: web.Request, response: web.StreamResponse, fault: Fault
    ) -> web.StreamResponse:
        """The answer as ``fault`` spoils it (the request was already handled and stored)."""
        kind = fault.kind
        if kind == "http_error":
            status = response.status
            return web.Response(
                status=status, text=html_error_page(status), content_type="text/html"
            )
        if kind in ("no_answer", "reset_after_body"):
            if kind == "no_answer":
                limit = self.settings.fault_max_hold
                seconds = limit if fault.hold is None else min(fault.hold, limit)
                await self.holds.hold(seconds, lambda: _gone(request))
            _drop(request)
            return web.Response(status=204)  # never written: the connection is gone
        if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
            return response
        body = response.body
        headers = {"Content-Type": response.headers.get("Content-Type", "text/xml")}
        if kind == "truncated":
            return web.Response(
                body=body[: len(body) // 2], status=response.status, headers=headers
            )
        if kind == "malformed":
            return web.Response(body=malform(body), status=response.status, headers=headers)
        if kind == "slow_body":
            return await self._dribble(request, response.status, headers, body, fault)
        return response  # delay, soap_fault, wrong_transaction_id: already in the answer

    async def _dribble(
        self,
        request: web.Request,
        status: int,
        headers: dict[str, str],
        body: bytes,
        fault: Fault,
    ) -> web.StreamResponse:
        stream = web.StreamResponse(status=status, headers=headers)
        stream.content_length = len(body)
        interval = self.settings.scaled(fault.chunk_interval)
        try:
            await stream.prepare(request)
            for start in range(0, len(body), fault.chunk_size):
                if _gone(request):
                    return stream
                await stream.write(body[start : start + fault.chunk_size])
                if interval > 0:
                    await asyncio.sleep(interval)
            await stream.write_eof()
        except (ConnectionError, RuntimeError) as exc:  # the client gave up mid-body
            log.info("slow answer abandoned by the client: %s", exc)
        return stream

    def _schedule_reports(
        self,
        item: ReceivedRequest,
        envelope: RequestSummary,
        message_id: str,
        planned: ScheduleReports,
        fault: Fault | None = None,
    ) -> None:
        settings = self.settings
        vas_id = envelope.vas_id
        url = self.state.report_url_for(vas_id)
        sender = envelope.sender_address
        if sender is None:
            sender = envelope.callback
        kind = fault.kind if fault is not None else None
        gap = 0.0
        if fault is not None:
            gap = settings.scaled(fault.delay or (1.0 if kind == "out_of_order_reports" else 0.1))
        count = len(planned.reports)
        due = settings.scaled(planned.delay)
        for index, report in enumerate(planned.reports):
            record = ReportRecord(
                id=f"{message_id}-{index}",
                message_id=message_id,
                recipient=report.recipient,
                mm_status=report.mm_status,
                status_text=report.status_text,
                vas_id=vas_id,
                sender=sender,
                url=url,
                request_id=item.id,
            )
            delay = due
            if kind == "out_of_order_reports":  # held back: later reports overtake it
                delay += gap * (count - index)
            self.reports.schedule(record, delay)
            if kind == "duplicate_report":
                copy = dataclasses.replace(record, id=record.id + "-dup")
                self.reports.schedule(copy, delay + gap)
            if kind == "unknown_message_id_report" and index == 0:
                unknown = "UNKNOWN" + self.new_message_id()
                stray = dataclasses.replace(
                    record, id=f"{message_id}-unknown", message_id=unknown, request_id=None
                )
                self.reports.schedule(stray, delay)


class _ContentTypes:
    """A request's content types for rule matching, decoded only if a rule asks for them."""

    __slots__ = ("item",)

    def __init__(self, item: ReceivedRequest) -> None:
        self.item = item

    def __iter__(self) -> Iterator[str]:
        return iter(self.item.content_types)


def _note(request: web.Request, item: ReceivedRequest) -> None:
    """Tell the request's observer (metrics, request log line) what ``item`` says; the HTTP
    status is the one actually sent (a fault may change it)."""
    record = request_record(request)
    record.operation = item.operation
    record.status_code = item.status_code
    record.transaction_id = item.transaction_id
    record.detail = item.error or (f"rule {item.rule_id}" if item.rule_id else None)
    envelope = item.envelope
    if envelope is not None:
        record.vas_id = envelope.vas_id
        record.set_recipients(envelope.recipients)


def _gone(request: web.Request) -> bool:
    """True when the client closed the connection."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _drop(request: web.Request) -> None:
    """Close the connection at once, without an answer (a TCP reset when possible)."""
    record = request_record(request)
    record.http_status = 0  # no answer: not the 204 the handler returns to aiohttp
    record.detail = "connection dropped without an answer (fault)"
    transport = request.transport
    if transport is not None:
        transport.abort()


def uuid_hex() -> str:
    """A fresh TransactionID for requests that came without one."""
    return os.urandom(16).hex()


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    return parse_basic_auth(request.headers.get("Authorization"))
