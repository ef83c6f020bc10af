"""The receiver's aiohttp application: accept, store, then acknowledge.

``bytes -> decode -> store (committed) -> encode Rsp -> reply``. The MMSC gets its
``DeliveryReportRsp`` / ``DeliverRsp`` / ``ReadReplyRsp`` with status 1000 only after the store
said the item is durable; when storing fails it gets a SOAP Fault (3000) and resends later.

Requests are accepted in any MM7 namespace and form. Answers are written in the form the
request arrived in (its namespace URI, MM7Version, qualified or unqualified children) with the
configured carrier profile's encoding (default LGT, EUC-KR); ``answer_form`` forces a style
(``"lgt"``, ``"default-ns"``, ``"prefixed"``; ``"mirror"`` is the default). A fault echoes the
request's TransactionID whenever its SOAP header was readable.

Faults (always a SOAP Fault body, never a traceback; every one is logged with the peer, the
Content-Type, the length and a preview of the body):

=====================================  ==========  =====================================
situation                              HTTP        MM7 status
=====================================  ==========  =====================================
peer not in the IP allow-list          403         4007 Service denied
missing / wrong HTTP Basic credentials 401         4001 Improper identification
Content-Type not XML or multipart (*)  415         2007 Message format corrupt
body larger than the limit             413         2007 Message format corrupt
body shorter than its Content-Length   400         2007 Message format corrupt
body slower than its time allowance    408         2007 Message format corrupt
unreadable MIME / XML, XML bombs       500         2007 (from ``ParseError.status_code``)
truncated multipart (no closing        500         2007 Message format corrupt (not stored)
delimiter, a part cut in its header)
missing mandatory element              500         4004 Validation error
not a request a VASP receives          500         4003 Unsupported operation
the store failed                       500         3000 Server Error
=====================================  ==========  =====================================

(*) a missing Content-Type or ``application/octet-stream`` is accepted: the codec finds the
envelope (or the MIME boundary from the body's first line) itself.

The checks, the StatusTexts and the fault bodies are the server side shared with the mock
(:mod:`mm7client.server`); an empty Basic user or password is refused when configured.

Mount it in your own application with ``app.add_subapp("/mm7/", create_receiver_app(store))``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from aiohttp import web

from mm7client.codec import Limits, decode, encode, find_transaction_id
from mm7client.errors import ParseError
from mm7client.model import (
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    DeliveryReportResponse,
    MessageForm,
    MM7Message,
    ReadReplyRequest,
    ReadReplyResponse,
    Response,
    Status,
)
from mm7client.observability import ServerObserver
from mm7client.profiles import LGT, CarrierProfile, get_profile
from mm7client.receiver.store import AddResult, ReceiverStore, StoredItem
from mm7client.server import (
    ANSWER_FORMS,
    BodyPolicy,
    IPNetwork,
    Refusal,
    ServerLimits,
    answer_form,
    check_basic_auth,
    check_media_type,
    check_peer,
    parse_error_refusal,
    parse_networks,
    refusal_answer,
)
from mm7client.server_aiohttp import (
    OBSERVER_KEY,
    RequestRefused,
    add_ops_routes,
    observed,
    read_body,
    request_record,
)

__all__ = ["ItemCallback", "ReceiverConfig", "create_receiver_app", "receiver_config_key"]

log = logging.getLogger(__name__)

#: Called with each newly stored item (not with duplicates). Return ``True`` to mark the item
#: handled; anything else (or an exception) leaves it pending for a later consumer.
ItemCallback = Callable[[StoredItem], Awaitable[object]]

_PREVIEW_BYTES = 256
_OPERATIONS = {
    DeliveryReportRequest: "DeliveryReportReq",
    DeliverRequest: "DeliverReq",
    ReadReplyRequest: "ReadReplyReq",
}


@dataclass(slots=True)
class ReceiverConfig:
    """Everything the receiver's handler needs (kept on the application)."""

    store: ReceiverStore
    profile: CarrierProfile = LGT
    basic_auth: tuple[str, str] | None = None
    allow_networks: tuple[IPNetwork, ...] | None = None
    limits: Limits = field(default_factory=Limits)
    server_limits: ServerLimits = field(default_factory=ServerLimits)
    answer_form: str = "mirror"
    on_item: ItemCallback | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def body_policy(self) -> BodyPolicy:
        """The HTTP body bound: ``limits.max_body_bytes`` (413 with 2007 beyond it), read in
        the time ``server_limits`` allows (408 with 2007 beyond it)."""
        return self.server_limits.body_policy(self.limits.max_body_bytes)


receiver_config_key = web.AppKey("mm7_receiver_config", ReceiverConfig)


def create_receiver_app(
    store: ReceiverStore,
    *,
    path: str = "/",
    basic_auth: tuple[str, str] | None = None,
    allow_ips: Iterable[str | IPNetwork] | None = None,
    limits: Limits | None = None,
    on_item: ItemCallback | None = None,
    profile: CarrierProfile | str = LGT,
    server_limits: ServerLimits | None = None,
    answer_form: str = "mirror",
    ops_routes: bool = True,
) -> web.Application:
    """The receiver as an aiohttp application (run it, or mount it with ``add_subapp``).

    Each POST is counted in the application's own Prometheus registry and logged on one line
    (logger ``mm7client.receiver.requests``, INFO) by a
    :class:`~mm7client.observability.ServerObserver` (``app[OBSERVER_KEY]``).

    Args:
        store: where items go; an item is acknowledged only once ``store.add`` returned.
        path: the URL path accepting POSTs (relative to the mount point).
        basic_auth: ``(user, password)`` required as HTTP Basic credentials (else 401).
        allow_ips: addresses / networks (``"10.0.0.0/8"``) allowed to post (else 403);
            ``None`` allows everyone. The TCP peer address is checked (no proxy headers).
        limits: size bounds; ``limits.max_body_bytes`` caps the HTTP body (checked from
            Content-Length before reading and while reading).
        on_item: async callback run for each newly stored item, after it is stored; return
            ``True`` to mark the item handled.
        profile: carrier profile (or its name) the answers are encoded in (default LGT).
        server_limits: the body read's time bounds (``body_timeout``, ``body_min_rate``,
            ``body_grace``); the connection bounds apply where the app is served
            (:class:`~mm7client.receiver.ReceiverServer`).
        answer_form: ``"mirror"`` (answer in the request's form) or a style to force
            (``"lgt"``, ``"default-ns"``, ``"prefixed"``); see
            :func:`mm7client.server.answer_form`.
        ops_routes: serve ``GET /metrics`` (Prometheus), ``/healthz`` (liveness) and
            ``/readyz`` (readiness: the store answers a read) - without the credentials or
            the address check of the POSTs; ``False`` leaves them out.
    """
    if answer_form not in ANSWER_FORMS:
        raise ValueError(f"answer_form={answer_form!r}: expected one of {', '.join(ANSWER_FORMS)}")
    if basic_auth is not None and not all(basic_auth):
        raise ValueError(
            f"basic_auth for user {basic_auth[0]!r}: the user and the password must not be empty"
        )
    config = ReceiverConfig(
        store=store,
        profile=get_profile(profile),
        basic_auth=basic_auth,
        allow_networks=None if allow_ips is None else parse_networks(allow_ips),
        limits=limits or Limits(),
        server_limits=server_limits or ServerLimits(),
        answer_form=answer_form,
        on_item=on_item,
    )
    app = web.Application()
    app[receiver_config_key] = config
    observer = ServerObserver("receiver", "mm7client.receiver.requests")
    app[OBSERVER_KEY] = observer
    app.router.add_post(path, observed(handle_request, observer))
    if ops_routes:
        add_ops_routes(app, observer, ready=lambda: store.get(0))
    app.on_shutdown.append(_drain_callbacks)
    return app


async def _drain_callbacks(app: web.Application) -> None:
    tasks = app[receiver_config_key].tasks
    if tasks:
        await asyncio.wait(list(tasks), timeout=5.0)
        for task in tasks:
            task.cancel()


# ---------------------------------------------------------------------------------------------


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise RequestRefused(refusal)


def _fault_response(
    config: ReceiverConfig,
    refusal: Refusal,
    *,
    transaction_id: str | None = None,
    form: MessageForm | None = None,
) -> web.Response:
    # the receiver is the VASP: a VASPErrorRsp, with the reason as the faultstring too
    answer = refusal_answer(
        refusal,
        profile=config.profile,
        detail_kind="VASPErrorRsp",
        transaction_id=transaction_id,
        reason_as_fault_string=True,
        form=answer_form(config.answer_form, form, config.profile),
    )
    return web.Response(status=answer.http_status, body=answer.body, headers=answer.headers)


def _preview(body: bytes) -> str:
    shown = repr(body[:_PREVIEW_BYTES])
    return shown + (f"... ({len(body)} bytes)" if len(body) > _PREVIEW_BYTES else "")


def _answer(message: MM7Message) -> Response:
    success = Status.of(1000, "Success")
    tid = message.transaction_id
    if isinstance(message, DeliveryReportRequest):
        return DeliveryReportResponse(status=success, transaction_id=tid)
    if isinstance(message, ReadReplyRequest):
        return ReadReplyResponse(status=success, transaction_id=tid)
    return DeliverResponse(status=success, transaction_id=tid)


async def handle_request(request: web.Request) -> web.StreamResponse:
    """Handle one POST from the MMSC (the receiver's only route); never raises."""
    config = request.config_dict[receiver_config_key]
    try:
        return await _handle(config, request)
    except Exception:
        log.exception("unexpected failure handling an MM7 request from %s", request.remote)
        request_record(request).status_code = 3000
        return _fault_response(config, Refusal(500, 3000, "internal error in the receiver"))


async def _handle(config: ReceiverConfig, request: web.Request) -> web.StreamResponse:
    content_type = request.headers.get("Content-Type")
    body = b""
    # what a fault echoes: the request's TransactionID and form, once known
    transaction_id: str | None = None
    form: MessageForm | None = None
    record = request_record(request)
    record.operation = "refused"
    try:
        _refuse(check_peer(request.remote, config.allow_networks))
        if config.basic_auth is not None:
            authorization = request.headers.get("Authorization")
            _refuse(check_basic_auth(authorization, config.basic_auth, realm="mm7-receiver"))
        _refuse(check_media_type(content_type))
        body = await read_body(request, config.body_policy)
        record.operation = "invalid"
        try:
            message = await asyncio.to_thread(decode, body, content_type, config.limits)
        except ParseError as exc:
            transaction_id = exc.transaction_id
            raise RequestRefused(parse_error_refusal(exc)) from None
        transaction_id, form = message.transaction_id, message.form
        record.operation = _OPERATIONS.get(type(message), type(message).__name__)
        record.transaction_id = transaction_id
        if not isinstance(message, DeliveryReportRequest | DeliverRequest | ReadReplyRequest):
            raise RequestRefused(
                Refusal(
                    500,
                    4003,
                    f"{type(message).__name__} is not a request a VASP receives "
                    "(expected DeliveryReportReq, DeliverReq or ReadReplyReq)",
                )
            )
    except RequestRefused as exc:
        refused = exc.refusal
        body = body or exc.body
        if transaction_id is None and body:  # a body cut or refused after its SOAP header
            transaction_id = find_transaction_id(body)
        log.warning(
            "refused MM7 request from %s: %s (HTTP %d, status %d; Content-Type %r, "
            "Content-Length %s, body %s)",
            request.remote,
            refused.reason,
            refused.http_status,
            refused.status_code,
            content_type,
            request.content_length,
            _preview(body),
        )
        record.status_code = refused.status_code
        record.transaction_id = transaction_id
        record.detail = refused.reason
        return _fault_response(config, refused, transaction_id=transaction_id, form=form)
    try:
        result = await config.store.add(message, raw_body=body, content_type=content_type)
    except Exception as exc:
        # an unreachable database is logged once by its store; each report gets one line here
        report = log.info if isinstance(exc, ConnectionError) else log.exception
        report(
            "could not store %s (tid=%s) from %s; answered 3000 so the MMSC resends it",
            type(message).__name__,
            message.transaction_id,
            request.remote,
        )
        record.status_code = 3000
        record.detail = "the store failed"
        return _fault_response(
            config,
            Refusal(500, 3000, "the receiver could not store the request; resend it later"),
            transaction_id=message.transaction_id,
            form=message.form,
        )
    item = result.item
    record.status_code = 1000
    record.set_recipients([item.recipient] if item.recipient else [])
    request.config_dict[OBSERVER_KEY].count_item(item.kind, result.created)
    record.detail = (
        f"{'stored' if result.created else 'duplicate of'} {item.kind} #{item.id} "
        f"message_id={item.message_id} mm_status={item.mm_status}/{item.status_text}"
    )
    if result.created and config.on_item is not None:
        _schedule_callback(config, result)
    form = answer_form(config.answer_form, message.form, config.profile)
    encoded = encode(_answer(message), config.profile, form=form)
    return web.Response(body=encoded.body, headers={"Content-Type": encoded.content_type})


def _schedule_callback(config: ReceiverConfig, result: AddResult) -> None:
    callback = config.on_item
    assert callback is not None

    async def run() -> None:
        try:
            handled = await callback(result.item)
            if handled is True:
                await config.store.mark_handled(result.item.id)
        except Exception:
            log.exception("on_item callback failed for item #%d; it stays pending", result.item.id)

    task = asyncio.get_running_loop().create_task(run())
    config.tasks.add(task)
    task.add_done_callback(config.tasks.discard)
