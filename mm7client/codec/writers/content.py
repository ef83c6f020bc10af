"""Content parts: the MIME entities of a message's content (SMIL generated when needed), and the
multipart/related package around the SOAP envelope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mm7client.codec import mime
from mm7client.codec.encoded import EncodedMessage
from mm7client.codec.smil import generate_smil
from mm7client.codec.soap import XmlWriter, xml_escape
from mm7client.errors import ValidationError
from mm7client.model import Part
from mm7client.profiles import CarrierProfile


@dataclass(frozen=True, slots=True)
class EncodedContent:
    """The encoded content part: its MIME entity and Content-ID."""

    entity: bytes
    content_id: str


def encode_parts(
    parts: Sequence[Part], profile: CarrierProfile, smil: bool | None
) -> EncodedContent:
    entities: list[bytes] = []
    listed: list[tuple[str, str]] = []
    smil_id: str | None = None
    common = profile.part_headers
    for part in parts:
        cid = part.content_id or mime.new_content_id("p")
        headers: list[tuple[str, str]]
        if part.text is not None:
            try:
                body = part.text.encode(profile.codec)
            except UnicodeEncodeError as exc:
                raise ValidationError(
                    f"Content[{len(entities)}]",
                    part.text,
                    f"cannot be encoded in {profile.charset}: {exc.reason}",
                ) from None
            ctype = f'{part.content_type}; charset="{profile.charset}"'
            encoding = "8bit" if any(b > 127 for b in body) else "7bit"
            if part.is_smil:
                smil_id = cid
        else:
            body = mime.encode_base64_lines(part.data)
            ctype = part.content_type
            encoding = "base64"
            if part.filename:
                ctype += f'; name="{part.filename}"'
        headers = [
            ("Content-Type", ctype),
            ("Content-ID", f"<{cid}>"),
            ("Content-Transfer-Encoding", encoding),
        ]
        if part.filename:
            headers.append(("Content-Location", part.filename))
        headers.extend(common)
        headers.extend(part.headers.items())
        entities.append(mime.build_part(headers, body))
        if not part.is_smil:
            listed.append((cid, part.content_type))
    if smil_id is None and smil is not False and listed:
        smil_id = mime.new_content_id("smil")
        document = generate_smil(listed).encode("utf-8")
        entities.insert(
            0,
            mime.build_part(
                [
                    ("Content-Type", 'application/smil; charset="utf-8"'),
                    ("Content-ID", f"<{smil_id}>"),
                    ("Content-Transfer-Encoding", "7bit"),
                    ("Content-Location", "presentation.smil"),
                ],
                document,
            ),
        )
    boundary = mime.new_boundary()
    if smil_id is not None:
        ctype = (
            f'multipart/related; boundary="{boundary}"; type="application/smil"; '
            f'start="<{smil_id}>"'
        )
    else:
        ctype = f'multipart/mixed; boundary="{boundary}"'
    content_id = mime.new_content_id("content")
    entity = mime.build_part(
        [("Content-Type", ctype), ("Content-ID", f"<{content_id}>")],
        mime.build_multipart(boundary, entities),
    )
    return EncodedContent(entity, content_id)


def package(
    envelope: bytes, profile: CarrierProfile, transaction_id: str, content: EncodedContent | None
) -> EncodedMessage:
    if content is None:
        return EncodedMessage(envelope, f'text/xml; charset="{profile.charset}"', transaction_id)
    soap_id = mime.new_content_id("soap")
    boundary = mime.new_boundary()
    soap_entity = mime.build_part(
        [
            ("Content-Type", f'text/xml; charset="{profile.charset}"'),
            ("Content-ID", f"<{soap_id}>"),
        ],
        envelope,
    )
    body = mime.build_multipart(boundary, [soap_entity, content.entity])
    ctype = f'multipart/related; boundary="{boundary}"; type="text/xml"; start="<{soap_id}>"'
    return EncodedMessage(body, ctype, transaction_id)


def write_content_element(
    w: XmlWriter, profile: CarrierProfile, content: EncodedContent | None, allow: bool | None
) -> None:
    if content is None:
        return
    attrs = f' href="{xml_escape(profile.href_prefix + content.content_id)}"'
    if allow is not None:
        attrs += f' allowAdaptations="{w.boolean(allow)}"'
    w.empty("Content", attrs)
