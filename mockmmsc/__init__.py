"""mockmmsc: an LG U+-like mock MMS Relay/Server (MM7) on aiohttp, sharing mm7client's codec.

``from mockmmsc import MockMMSC, MockSettings, Rule, SyncMockMMSC, VasAccount``. Names are
imported lazily so that ``import mockmmsc`` (e.g. by the pytest plugin) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockmmsc.settings import MockSettings, VasAccount

if TYPE_CHECKING:
    from mockmmsc.app import create_app
    from mockmmsc.scenarios import Action, Rule
    from mockmmsc.state import MockState
    from mockmmsc.store import ReceivedRequest, ReportRecord
    from mockmmsc.testing import MockMMSC
    from mockmmsc.threaded import SyncMockMMSC

__all__ = [
    "Action",
    "MockMMSC",
    "MockSettings",
    "MockState",
    "ReceivedRequest",
    "ReportRecord",
    "Rule",
    "SyncMockMMSC",
    "VasAccount",
    "create_app",
]

_LAZY = {
    "MockMMSC": "mockmmsc.testing",
    "SyncMockMMSC": "mockmmsc.threaded",
    "MockState": "mockmmsc.state",
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
