"""Pieces every writer shares: times, addresses, Status (with the TS 23.140 texts),
SenderIdentification."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from mm7client.codec.soap import XmlWriter
from mm7client.model import Address, Status, TimeValue
from mm7client.profiles import CarrierProfile


def time_text(value: TimeValue) -> str:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{sign}P{days}DT{hours}H{minutes}M{secs}S"
    return value.isoformat(timespec="seconds")


def write_timestamp(w: XmlWriter, timestamp: datetime | None, raw: str | None) -> None:
    """TimeStamp: the date-time, else the text a peer sent that could not be read."""
    if timestamp is not None:
        w.element("TimeStamp", time_text(timestamp))
    elif raw:
        w.element("TimeStamp", raw)


def write_address(w: XmlWriter, address: Address) -> None:
    attrs = f' displayOnly="{w.boolean(True)}"' if address.display_only else ""
    w.element(address.kind.value, address.value, attrs)


#: TS 23.140 status texts, written when a Status has no text (StatusText is mandatory).
STANDARD_STATUS_TEXTS: dict[int, str] = {
    1000: "Success",
    1100: "Partial success",
    2000: "Client error",
    2001: "Operation restricted",
    2002: "Address Error",
    2003: "Address Not Found",
    2004: "Multimedia content refused",
    2005: "Message ID Not found",
    2006: "LinkedID not found",
    2007: "Message format corrupt",
    2008: "Application ID not found",
    2009: "Reply Application ID not found",
    3000: "Server Error",
    3001: "Not Possible",
    3002: "Message rejected",
    3003: "Multiple addresses not supported",
    3004: "Application Addressing not supported",
    4000: "General service error",
    4001: "Improper identification",
    4002: "Unsupported version",
    4003: "Unsupported operation",
    4004: "Validation error",
    4005: "Service error",
    4006: "Service unavailable",
    4007: "Service denied",
    4008: "Application denied",
}


def standard_status_text(code: str) -> str:
    """The TS 23.140 text of ``code`` (the x000 text of its class for an unknown code)."""
    try:
        value = int(code.strip())
    except ValueError:
        return ""
    text = STANDARD_STATUS_TEXTS.get(value)
    if text is None:
        text = STANDARD_STATUS_TEXTS.get(value // 1000 * 1000, "Server Error")
    return text


def write_sender(w: XmlWriter, sender: Address | None) -> None:
    if sender is not None:
        w.open("Sender")
        write_address(w, sender)
        w.close("Sender")


def write_recipients(
    w: XmlWriter, to: list[Address], cc: list[Address], bcc: list[Address]
) -> None:
    w.open("Recipients")
    for kind, addresses in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if addresses:
            w.open(kind)
            for address in addresses:
                write_address(w, address)
            w.close(kind)
    w.close("Recipients")


def write_status(w: XmlWriter, status: Status) -> None:
    w.open("Status")
    w.element("StatusCode", status.code)
    w.element(
        "StatusText", status.text if status.text is not None else standard_status_text(status.code)
    )
    w.element("Details", status.details)
    w.close("Status")


def write_bool(w: XmlWriter, name: str, value: bool | None) -> None:
    if value is not None:
        w.element(name, w.boolean(value))


def write_enum(w: XmlWriter, name: str, value: StrEnum | str | None) -> None:
    if value is not None:
        w.element(name, str(value))


def write_sender_identification(
    w: XmlWriter,
    profile: CarrierProfile,
    vasp_id: str | None,
    vas_id: str | None,
    sender: Address | None,
    callback: str | None,
    password: str | None,
) -> None:
    w.open("SenderIdentification")
    w.element("VASPID", vasp_id)
    w.element("VASID", vas_id)
    if sender is not None:
        if profile.sender_address_wrapped:
            w.open("SenderAddress")
            write_address(w, sender)
            w.close("SenderAddress")
        else:
            w.element("SenderAddress", sender.value)
    if profile.lgt_extensions and profile.callback_in_sender_identification:
        w.element("CallBack", callback)
    if profile.password_element:
        w.element(profile.password_element, password)
    w.close("SenderIdentification")
