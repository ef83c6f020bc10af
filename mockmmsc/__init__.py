"""mockmmsc: an LG U+-like mock MMS Relay/Server (MM7) on aiohttp, sharing mm7client's codec.

``from mockmmsc import MockMMSC, MockSettings, Rule, VasAccount``. Names are imported lazily so
that ``import mockmmsc`` (e.g. by the pytest plugin) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockmmsc.settings import MockSettings, VasAccount

if TYPE_CHECKING:
    from mockmmsc.app import MockMMSC, create_app
    from mockmmsc.scenarios import Action, Rule
    from mockmmsc.store import ReceivedRequest, ReportRecord

__all__ = [
    "Action",
    "MockMMSC",
    "MockSettings",
    "ReceivedRequest",
    "ReportRecord",
    "Rule",
    "VasAccount",
    "create_app",
]

_LAZY = {
    "MockMMSC": "mockmmsc.app",
    "create_app": "mockmmsc.app",
    "Rule": "mockmmsc.scenarios",
    "Action": "mockmmsc.scenarios",
    "ReceivedRequest": "mockmmsc.store",
    "ReportRecord": "mockmmsc.store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mockmmsc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
