"""Validation of outgoing requests against a carrier profile, before anything is sent.

Each rule raises :class:`~mm7client.errors.ValidationError` naming the MM7 field and the value.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

from mm7client.errors import ValidationError
from mm7client.model import Address, AddressKind, Part, ReplaceRequest, SubmitRequest
from mm7client.profiles import CarrierProfile

__all__ = ["validate_content", "validate_replace", "validate_submit"]

_NUMBER = re.compile(r"\+?[0-9]{3,20}")
_SHORT_CODE = re.compile(r"[0-9A-Za-z]{2,20}")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+")
_KISA = re.compile(r"[0-9]{9}")
_CALLBACK = re.compile(r"[0-9]{4,16}")
_SVCCODE = re.compile(r"[0-9]{12}")

# Korean numbering (profiles with korean_numbering). A mobile: 010 + 8 digits, 011/016/017/018/019
# + 7 or 8 digits, also written +82 / 82 without the leading 0.
_KR_MOBILE = r"(?:0|\+?82)(?:10[0-9]{8}|1[16789][0-9]{7,8})"
_KOREAN_MOBILE = re.compile(_KR_MOBILE)
# What a sender may show (SenderAddress, CallBack): a mobile; a landline (02 + 7-8 digits, an area
# code 031-033/041-044/051-055/061-064 + 7-8 digits); 070 (internet phone) + 8 digits; 080
# (free call) + 7-8 digits; 0502-0508 (personal numbers) + 7-8 digits; a representative number
# 15xx/16xx/18xx + 4 digits.
_KOREAN_SENDER = re.compile(
    _KR_MOBILE + r"|02[0-9]{7,8}|0(?:3[1-3]|4[1-4]|5[1-5]|6[1-4])[0-9]{7,8}"
    r"|070[0-9]{8}|080[0-9]{7,8}|050[2-8][0-9]{7,8}|1[568][0-9]{6}"
)
_KOREAN_MOBILE_RULE = (
    "a recipient is a Korean mobile number: 010 + 8 digits, or 011/016/017/018/019 + 7-8 digits"
)
_KOREAN_SENDER_RULE = (
    "a sender shows a Korean mobile number, a landline number with its area code, 070, 080, "
    "050x, or a 15xx/16xx/18xx representative number (8 digits)"
)


_ADDRESS_FORMS = {
    AddressKind.NUMBER: _NUMBER,
    AddressKind.SHORT_CODE: _SHORT_CODE,
    AddressKind.EMAIL: _EMAIL,
}


def _check_address(
    where: str, address: Address, korean: re.Pattern[str] | None = None, rule: str = ""
) -> None:
    """The address's form; with ``korean``, a Number must match that numbering rule instead
    (a narrower form)."""
    kind = address.kind
    if korean is not None and kind is AddressKind.NUMBER:
        if not korean.fullmatch(address.value):
            raise ValidationError(where, address.value, f"not a valid {kind.value}: {rule}")
    elif not _ADDRESS_FORMS[kind].fullmatch(address.value):
        raise ValidationError(where, address.value, f"not a valid {kind.value}")


def _check_encodable(field: str, text: str, profile: CarrierProfile, limit: int | None) -> None:
    try:
        encoded = text.encode(profile.codec)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValidationError(
            field,
            text,
            f"character {bad!r} (U+{ord(bad[0]):04X}) cannot be encoded in "
            f"{profile.charset}, the charset of profile {profile.name!r}",
        ) from None
    if _EUC_KR_FILLER in encoded and codecs.lookup(profile.codec).name == "euc_kr":
        _refuse_composed_hangul(field, text, profile)
    if limit is not None and len(encoded) > limit:
        raise ValidationError(
            field, text, f"{len(encoded)} bytes in {profile.charset}, over the limit of {limit}"
        )


# Python's EUC-KR codec writes a Hangul syllable outside KS X 1001's 2,350 (e.g. U+B620) as an
# 8-byte jamo sequence starting with the Hangul filler 0xA4D4; receivers (which decode EUC-KR as
# CP949) show four loose jamo instead. Such syllables are refused like emoji.
_EUC_KR_FILLER = b"\xa4\xd4"


def _refuse_composed_hangul(field: str, text: str, profile: CarrierProfile) -> None:
    for char in text:
        if "\uac00" <= char <= "\ud7a3" and len(char.encode(profile.codec)) > 2:
            raise ValidationError(
                field,
                text,
                f"character {char!r} (U+{ord(char):04X}) is not among the 2,350 KS X 1001 Hangul "
                f"syllables of {profile.charset}, the charset of profile {profile.name!r}",
            )


def validate_content(parts: Sequence[Part], profile: CarrierProfile) -> None:
    """Check every content part: charset, text size, image type and size, part headers."""
    total = 0
    for index, part in enumerate(parts):
        where = f"Content[{index}]"
        if part.text is not None:
            limit = profile.text_max_bytes if part.content_type == "text/plain" else None
            _check_encodable(where, part.text, profile, limit)
            total += len(part.text) * 2
        else:
            total += len(part.data)
        if part.content_type.startswith("image/"):
            if profile.allowed_image_types and part.content_type not in profile.allowed_image_types:
                allowed = ", ".join(sorted(profile.allowed_image_types))
                raise ValidationError(
                    where + ".content_type",
                    part.content_type,
                    f"image type refused by profile {profile.name!r} (allowed: {allowed})",
                )
            if profile.max_image_bytes is not None and len(part.data) > profile.max_image_bytes:
                raise ValidationError(
                    where,
                    f"{part.filename or part.content_type} ({len(part.data)} bytes)",
                    f"image larger than the profile's limit of {profile.max_image_bytes} bytes",
                )
        for name, value in part.headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValidationError(f"{where}.headers[{name!r}]", value, "line break in header")
            if not (name.isascii() and value.isascii()):
                raise ValidationError(f"{where}.headers[{name!r}]", value, "MIME headers are ASCII")
            if name.lower() == "x-kmms-svccode" and not _SVCCODE.fullmatch(value):
                raise ValidationError(f"{where}.headers[{name}]", value, "must be 12 digits")
        if part.filename is not None and (
            any(c in part.filename for c in '\r\n"') or not part.filename.isascii()
        ):
            raise ValidationError(
                where + ".filename",
                part.filename,
                "a file name is written in MIME headers: ASCII without quotes or line breaks",
            )
    if profile.max_message_bytes is not None and total > profile.max_message_bytes:
        raise ValidationError(
            "Content", f"{total} bytes", f"over the limit of {profile.max_message_bytes}"
        )


def validate_submit(request: SubmitRequest, profile: CarrierProfile) -> None:
    """Check a SubmitReq against ``profile``; raises :class:`ValidationError` on the first fault."""
    recipients = request.recipients
    if not recipients:
        raise ValidationError("Recipients", [], "at least one recipient is required")
    if profile.max_recipients is not None and len(recipients) > profile.max_recipients:
        raise ValidationError(
            "Recipients",
            [r.value for r in recipients],
            f"profile {profile.name!r} allows {profile.max_recipients} recipient(s) per SubmitReq",
        )
    korean = profile.korean_numbering
    mobile = _KOREAN_MOBILE if korean else None
    for kind, addresses in (("To", request.to), ("Cc", request.cc), ("Bcc", request.bcc)):
        for index, address in enumerate(addresses):
            _check_address(f"Recipients/{kind}[{index}]", address, mobile, _KOREAN_MOBILE_RULE)
    if request.sender_address is not None:
        _check_address(
            "SenderAddress",
            request.sender_address,
            _KOREAN_SENDER if korean else None,
            _KOREAN_SENDER_RULE,
        )
    if profile.require_vas_id and not request.vas_id:
        raise ValidationError("VASID", request.vas_id, f"required by profile {profile.name!r}")
    if request.kisa_orig_code is not None or profile.require_kisa_orig_code:
        if request.kisa_orig_code is None:
            raise ValidationError(
                "KisaOrigCode", None, f"required by profile {profile.name!r} (9 digits)"
            )
        if not _KISA.fullmatch(request.kisa_orig_code):
            raise ValidationError(
                "KisaOrigCode", request.kisa_orig_code, "must be exactly 9 digits"
            )
    if request.callback is not None:
        if not _CALLBACK.fullmatch(request.callback):
            raise ValidationError("CallBack", request.callback, "must be 4 to 16 digits")
        if korean and not _KOREAN_SENDER.fullmatch(request.callback):
            raise ValidationError(
                "CallBack", request.callback, f"not a valid number: {_KOREAN_SENDER_RULE}"
            )
    if request.subject is not None:
        _check_encodable("Subject", request.subject, profile, profile.subject_max_bytes)
    if request.reply_charging and (request.reply_charging.reply_charging_size or 0) < 0:
        raise ValidationError(
            "ReplyCharging.replyChargingSize",
            request.reply_charging.reply_charging_size,
            "must not be negative",
        )
    validate_content(request.content, profile)


def validate_replace(request: ReplaceRequest, profile: CarrierProfile) -> None:
    """Check a ReplaceReq against ``profile``."""
    if not request.message_id:
        raise ValidationError("MessageID", request.message_id, "required")
    validate_content(request.content, profile)
