"""A response encoded once and rendered per request with its ids (the servers' hot path)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from mm7client.codec.encoded import EncodedMessage, new_transaction_id
from mm7client.codec.soap import splices_text, text_bytes
from mm7client.codec.writers import encode
from mm7client.model import MessageForm, Response, SubmitResponse
from mm7client.profiles import THREEGPP, CarrierProfile


class PreparedResponse:
    """A response encoded once, with its TransactionID (and a SubmitRsp's MessageID) left open.

    For peers that answer many requests with the same status (an MMSC, a VASP's receiver):
    :meth:`render` splices each request's ids into the bytes :func:`encode` wrote once, giving
    exactly the bytes :func:`encode` gives the response with those ids. The ids of
    ``response`` itself are not used; a SubmitRsp with a MessageID renders with one, a SubmitRsp
    without it (a refusal) renders without. Profiles whose charset cannot be written piece by
    piece (UTF-16, UTF-32) are encoded whole on every render.

    ``form`` writes the response in that :class:`~mm7client.model.MessageForm` instead of the
    profile's (one PreparedResponse per form a server answers in: the form of a request is
    :attr:`RequestSummary.form <mm7client.codec.RequestSummary.form>`).
    """

    __slots__ = (
        "_pieces",
        "_response",
        "content_type",
        "form",
        "has_message_id",
        "profile",
    )

    def __init__(
        self,
        response: Response,
        profile: CarrierProfile = THREEGPP,
        *,
        form: MessageForm | None = None,
    ) -> None:
        if not isinstance(response, Response):
            raise TypeError(f"response={type(response).__name__!r}: not an MM7 response")
        self.profile = profile
        #: the form the response is written in
        self.form = form if form is not None else profile.form
        #: whether :meth:`render` takes a MessageID (a SubmitRsp that has one)
        self.has_message_id = isinstance(response, SubmitResponse) and (
            response.message_id is not None
        )
        # the response written once with marks where the ids go, then cut at the marks
        tid_mark = f"PreparedTransactionID{uuid.uuid4().hex}"
        mid_mark = f"PreparedMessageID{uuid.uuid4().hex}"
        ids: dict[str, Any] = {"transaction_id": tid_mark}
        if self.has_message_id:
            ids["message_id"] = mid_mark
        self._response = replace(response, **ids)
        encoded = encode(self._response, profile, form=self.form)
        self.content_type = encoded.content_type
        self._pieces: tuple[bytes, ...] | None = None
        # the TransactionID (in the SOAP Header) comes before the MessageID (in the Body)
        body = encoded.body
        marks = [mark.encode("ascii") for mark in ids.values()]
        positions = [body.find(mark) for mark in marks]
        once = all(body.count(mark) == 1 for mark in marks)
        if splices_text(profile.codec) and once and positions == sorted(positions):
            pieces, start = [], 0
            for mark, position in zip(marks, positions, strict=True):
                pieces.append(body[start:position])
                start = position + len(mark)
            pieces.append(body[start:])
            self._pieces = tuple(pieces)

    def render(self, transaction_id: str, message_id: str | None = None) -> EncodedMessage:
        """The response with these ids, encoded (an empty TransactionID gets a fresh one)."""
        if (message_id is not None) != self.has_message_id:
            wanted = "a MessageID" if self.has_message_id else "no MessageID"
            raise ValueError(f"message_id={message_id!r}: this response takes {wanted}")
        tid = transaction_id or new_transaction_id()
        pieces = self._pieces
        if pieces is None:
            ids: dict[str, Any] = {"transaction_id": tid}
            if message_id is not None:
                ids["message_id"] = message_id
            return encode(replace(self._response, **ids), self.profile, form=self.form)
        codec = self.profile.codec
        tid_bytes = text_bytes("TransactionID", tid, codec)
        if message_id is None:
            return EncodedMessage(pieces[0] + tid_bytes + pieces[1], self.content_type, tid)
        mid_bytes = text_bytes("MessageID", message_id, codec)
        body = b"".join((pieces[0], tid_bytes, pieces[1], mid_bytes, pieces[2]))
        return EncodedMessage(body, self.content_type, tid)
