"""Find the embedded MMSC that ``mm7 send`` talks to when no ``--url`` is given.

The library does not depend on its test double: a package that can serve as an embedded MMSC
registers a factory under the entry-point group :data:`ENTRY_POINT_GROUP` (``mockmmsc``, in
this distribution, registers ``mockmmsc.embedded:embedded_mmsc``). The factory takes keyword
arguments ``profile`` (a profile name) and ``report_url`` (where to POST delivery reports) and
returns an async context manager whose value has a ``url`` attribute, the MM7 endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from importlib.metadata import entry_points
from typing import Protocol, cast

__all__ = ["ENTRY_POINT_GROUP", "EmbeddedMMSC", "EmbeddedMMSCError", "load_embedded_mmsc"]

#: Entry-point group under which an embedded MMSC factory is registered.
ENTRY_POINT_GROUP = "mm7client.embedded_mmsc"


class EmbeddedMMSC(Protocol):
    """A running embedded MMSC: what ``mm7 send`` needs of it."""

    @property
    def url(self) -> str:
        """The MM7 endpoint URL."""


#: ``factory(profile=..., report_url=...)`` -> an async context manager of a running MMSC.
EmbeddedFactory = Callable[..., AbstractAsyncContextManager[EmbeddedMMSC]]


class EmbeddedMMSCError(RuntimeError):
    """No embedded MMSC is installed (or several are and none was chosen)."""


def load_embedded_mmsc(name: str | None = None) -> EmbeddedFactory:
    """The registered embedded MMSC factory (``name`` picks one when several are registered)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name is not None:
        if name not in found:
            raise EmbeddedMMSCError(
                f"no embedded MMSC named {name!r} in entry-point group {ENTRY_POINT_GROUP!r} "
                f"(installed: {sorted(found) or 'none'})"
            )
        return cast(EmbeddedFactory, found[name].load())
    if not found:
        raise EmbeddedMMSCError(
            "no embedded MMSC is installed: give the carrier's URL with --url (or MM7_URL), or "
            "install the mock MMSC that ships with this project (pip install -e . in a checkout "
            f"registers it under the entry-point group {ENTRY_POINT_GROUP!r})"
        )
    return cast(EmbeddedFactory, found[sorted(found)[0]].load())
