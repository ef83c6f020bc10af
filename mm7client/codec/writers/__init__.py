"""Writers: one module per message family, and :func:`encode` choosing among them.

* :mod:`.submit` - SubmitReq;
* :mod:`.requests` - CancelReq, ReplaceReq, DeliverReq, DeliveryReportReq, ReadReplyReq;
* :mod:`.responses` - every *Rsp and SOAP faults;
* :mod:`.common` and :mod:`.content` - the pieces they share (addresses, Status, MIME content).
"""

from __future__ import annotations

from mm7client.codec.encoded import EncodedMessage, new_transaction_id
from mm7client.codec.writers.requests import (
    encode_cancel,
    encode_deliver,
    encode_replace,
    encode_report,
)
from mm7client.codec.writers.responses import encode_fault, encode_response
from mm7client.codec.writers.submit import encode_submit
from mm7client.model import (
    CancelRequest,
    DeliverRequest,
    DeliveryReportRequest,
    MessageForm,
    MM7Message,
    ReadReplyRequest,
    ReplaceRequest,
    Response,
    SoapFault,
    SubmitRequest,
)
from mm7client.profiles import THREEGPP, CarrierProfile


def encode(
    message: MM7Message, profile: CarrierProfile = THREEGPP, *, form: MessageForm | None = None
) -> EncodedMessage:
    """Encode ``message`` for ``profile``.

    Requests are validated first (:class:`~mm7client.errors.ValidationError` names the field).
    A message without ``transaction_id`` gets a fresh one; the result says which was used.

    ``form`` overrides the profile's :class:`~mm7client.model.MessageForm` (namespace,
    MM7Version, style); a server answers in the form a request arrived in with
    ``form=request.form``. The message's own ``mm7_version``, when set, still wins.
    """
    tid = message.transaction_id or new_transaction_id()
    if form is None:
        form = profile.form
    if isinstance(message, SubmitRequest):
        return encode_submit(message, profile, form, tid)
    if isinstance(message, Response):
        return encode_response(message, profile, form, tid)
    if isinstance(message, SoapFault):
        return encode_fault(message, profile, form, tid)
    if isinstance(message, CancelRequest):
        return encode_cancel(message, profile, form, tid)
    if isinstance(message, ReplaceRequest):
        return encode_replace(message, profile, form, tid)
    if isinstance(message, DeliverRequest):
        return encode_deliver(message, profile, form, tid)
    if isinstance(message, DeliveryReportRequest | ReadReplyRequest):
        return encode_report(message, profile, form, tid)
    raise TypeError(f"message={type(message).__name__!r}: not an MM7 message this codec encodes")
