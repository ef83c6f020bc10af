"""The mock as the embedded MMSC of ``mm7 send`` (registered as an entry point).

``mm7client`` does not import the mock; it finds this factory through the entry-point group
``mm7client.embedded_mmsc`` (see ``mm7client/cli/embedded.py``).
"""

from __future__ import annotations

from mockmmsc import MockMMSC, MockSettings

#: Time scale of the embedded mock: a delivery report's delay (and a 60 s pause) run 100x faster.
EMBEDDED_TIME_SCALE = 0.01


def embedded_mmsc(*, profile: str, report_url: str | None = None) -> MockMMSC:
    """A mock MMSC on a free loopback port that posts delivery reports to ``report_url``.

    Use it as ``async with embedded_mmsc(profile="lgt", report_url=...) as mock: mock.url``.
    """
    settings = MockSettings(
        host="127.0.0.1",
        port=0,
        profile=profile,
        time_scale=EMBEDDED_TIME_SCALE,
        report_url=report_url,
    )
    return MockMMSC(settings)
