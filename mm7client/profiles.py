"""Carrier profiles: everything that differs between MMSCs, in one frozen dataclass.

A profile fixes the MM7 namespace and version, how the XML is written (its
:class:`~mm7client.model.MessageForm` style, boolean spelling), the charset, the carrier's
extension elements and the limits that validation enforces before anything is sent.

Two profiles ship: :data:`LGT` (LG U+ direct link: REL-5-MM7-1-2, 5.3.0, EUC-KR, unqualified
children, KisaOrigCode and CallBack) and :data:`THREEGPP` (standards-conformant REL-6-MM7-1-4,
6.8.0, UTF-8, the MM7 namespace as the default namespace). Make your own with
:func:`dataclasses.replace` or by constructing :class:`CarrierProfile`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from mm7client.model import FormStyle, MessageForm

__all__ = [
    "LGT",
    "MM7_NAMESPACE_PREFIX",
    "THREEGPP",
    "CarrierProfile",
    "get_profile",
    "register_profile",
]

#: Every MM7 schema namespace starts with this; the release suffix follows.
MM7_NAMESPACE_PREFIX = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/"


@dataclass(frozen=True, slots=True)
class CarrierProfile:
    """How to speak MM7 to one carrier.

    Attributes:
        name: short name, e.g. ``"lgt"``.
        namespace: the MM7 namespace (carries the schema release).
        mm7_version: the ``MM7Version`` element's value.
        style: how the MM7 elements are written (see :class:`~mm7client.model.MessageForm`):
            ``"default-ns"`` (the MM7 namespace as default namespace, read by every kind of
            peer), ``"prefixed"`` (``mm7:`` on every element) or ``"lgt"`` (LGT's sample form:
            only the operation element is qualified, children unqualified).
        boolean_style: ``"lower"`` writes ``true``/``false``; ``"title"`` writes ``True``/``False``.
        charset: the charset label written on the wire, e.g. ``"euc-kr"``.
        codec: the Python codec that encodes text for this charset; characters it cannot encode
            are refused by validation.
        href_prefix: how ``Content href`` names the content part (``"cid:"``; LGT's sample
            writes ``"cid "``).
        sender_address_wrapped: SenderAddress wraps Number/ShortCode/RFC2822Address (REL-5-MM7-1-2
            and later) or is plain text (REL-5-MM7-1-0/1-1).
        rel6_elements: write REL-6 elements (ApplicID, ChargedPartyID, DeliveryCondition, ...).
        lgt_extensions: write LGT's CallBack and KisaOrigCode (and order DistributionIndicator
            and KisaOrigCode before Subject, as the carrier's sample does).
        callback_in_sender_identification: where CallBack goes (unverified for every LGT version).
        password_element: if set, the element name under SenderIdentification that carries the
            CP password (the wire place is unverified; HTTP Basic auth is the default).
        require_kisa_orig_code: refuse a SubmitReq without a 9-digit KisaOrigCode (LGT: 4032).
        require_vas_id: refuse a SubmitReq without VASID.
        korean_numbering: refuse numbers Korean numbering does not have: recipients must be
            mobile numbers (010 + 8 digits, 011/016/017/018/019 + 7-8 digits), SenderAddress and
            CallBack numbers a sender may show (a mobile, a landline with its area code, 070,
            080, 050x, a 15xx/16xx/18xx representative number).
        subject_max_bytes: subject limit in bytes of ``codec`` (``None``: no limit).
        text_max_bytes: limit per text part in bytes of ``codec``.
        max_image_bytes: limit per image part.
        allowed_image_types: image media types accepted (others refused); empty allows all.
        max_recipients: recipients per SubmitReq.
        max_message_bytes: limit of the whole encoded content.
        part_headers: extra MIME headers written on every content part (LGT's X-Kmms-*).
    """

    name: str
    namespace: str
    mm7_version: str
    style: FormStyle = "default-ns"
    boolean_style: str = "lower"
    charset: str = "utf-8"
    codec: str = "utf-8"
    href_prefix: str = "cid:"
    sender_address_wrapped: bool = True
    rel6_elements: bool = True
    lgt_extensions: bool = False
    callback_in_sender_identification: bool = True
    password_element: str | None = None
    require_kisa_orig_code: bool = False
    require_vas_id: bool = False
    korean_numbering: bool = False
    subject_max_bytes: int | None = None
    text_max_bytes: int | None = None
    max_image_bytes: int | None = None
    allowed_image_types: frozenset[str] = frozenset()
    max_recipients: int | None = None
    max_message_bytes: int | None = None
    part_headers: tuple[tuple[str, str], ...] = ()
    _form: MessageForm = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # MessageForm checks the style
        object.__setattr__(self, "_form", MessageForm(self.namespace, self.mm7_version, self.style))
        if self.boolean_style not in ("lower", "title"):
            raise ValueError(f"boolean_style={self.boolean_style!r}: expected 'lower' or 'title'")
        try:
            "".encode(self.codec)
        except LookupError as exc:
            raise ValueError(f"codec={self.codec!r}: unknown Python codec") from exc

    @property
    def form(self) -> MessageForm:
        """The form this profile writes: its namespace, MM7Version and style."""
        return self._form

    @property
    def qualified(self) -> bool:
        """True when child elements are written in the MM7 namespace (every style but LGT's)."""
        return self.style != "lgt"

    def replace(self, **changes: object) -> CarrierProfile:
        """A copy with some fields changed, e.g. ``LGT.replace(max_image_bytes=100_000)``."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


LGT = CarrierProfile(
    name="lgt",
    namespace=MM7_NAMESPACE_PREFIX + "REL-5-MM7-1-2",
    mm7_version="5.3.0",
    style="lgt",
    boolean_style="title",
    charset="euc-kr",
    codec="euc_kr",
    rel6_elements=False,
    lgt_extensions=True,
    require_kisa_orig_code=True,
    require_vas_id=True,
    korean_numbering=True,
    subject_max_bytes=40,
    text_max_bytes=2000,
    max_image_bytes=int(os.environ.get("MM7_LGT_MAX_IMAGE_BYTES", 300 * 1024)),
    allowed_image_types=frozenset({"image/jpeg"}),
    max_recipients=1,
)
"""LG U+ direct MM7 link. The JPEG size cap defaults to 300 KB (``MM7_LGT_MAX_IMAGE_BYTES``)."""

THREEGPP = CarrierProfile(
    name="3gpp",
    namespace=MM7_NAMESPACE_PREFIX + "REL-6-MM7-1-4",
    mm7_version="6.8.0",
)
"""Standards-conformant MM7 (REL-6-MM7-1-4, 6.8.0, UTF-8, children in the MM7 namespace, written
as the default namespace so namespace-blind peers read them too)."""

_PROFILES: dict[str, CarrierProfile] = {"lgt": LGT, "3gpp": THREEGPP}


def register_profile(profile: CarrierProfile) -> None:
    """Make ``profile`` available to :func:`get_profile` (and the CLI) by its name."""
    _PROFILES[profile.name] = profile


def get_profile(name: str | CarrierProfile) -> CarrierProfile:
    """The profile called ``name`` (``"lgt"``, ``"3gpp"`` or one you registered)."""
    if isinstance(name, CarrierProfile):
        return name
    try:
        return _PROFILES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(_PROFILES))
        raise ValueError(f"profile={name!r}: unknown carrier profile (known: {known})") from None
