"""Settings of a sending client that belong together: who sends, how long to wait, how to trust.

Each is an optional argument of :class:`~mm7client.client.MM7Client`; its fields are also
accepted one by one as keywords (``vas_id=...``, ``total_timeout=...``, ``verify_tls=...``),
which is how the README calls it. One group and its own keywords together are refused.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from mm7client.model import Address

__all__ = ["TLS", "Identity", "Timeouts"]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who sends: filled into every request that lacks them.

    Attributes:
        vasp_id: the VASP's ID (``VASPID``).
        vas_id: the default VASID (``VASID``), also the throttling key.
        kisa_orig_code: the 9-digit KISA origin code (LG U+).
        callback: the callback number shown to the recipient (LG U+).
        sender_address: the ``SenderAddress`` (a number or an :class:`Address`).
    """

    vasp_id: str | None = None
    vas_id: str | None = None
    kisa_orig_code: str | None = None
    callback: str | None = None
    sender_address: str | Address | None = None

    @property
    def sender(self) -> Address | None:
        """``sender_address`` as an :class:`Address`."""
        value = self.sender_address
        return Address(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: ``connect`` to establish a connection, ``total`` for a whole request."""

    connect: float = 10.0
    total: float = 30.0

    def __post_init__(self) -> None:
        for name in ("connect", "total"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"Timeouts.{name}={value!r}: must be a positive number")


@dataclass(frozen=True, slots=True)
class TLS:
    """How to trust the MMSC: verification on by default, optionally against ``ca_file``.

    ``context`` (a ready :class:`ssl.SSLContext`) overrides ``verify`` and ``ca_file``.
    """

    verify: bool = True
    ca_file: str | None = None
    context: ssl.SSLContext | None = None
