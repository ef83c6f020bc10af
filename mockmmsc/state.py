"""The mock's state: accounts, rules, faults, overload windows, TPS contracts and the store.

:class:`MockState` holds everything a running mock knows and nothing that serves HTTP (no
aiohttp here): the MM7 endpoint asks :func:`mockmmsc.decide.decide` what to answer from it,
then applies the decision's effects with :meth:`MockState.apply`; the JSON API and the test
helpers read and change it through the same methods. Time comes from an injected
:class:`~mm7client.throttle.Clock` (monotonic: windows and TPS) and ``wall_clock`` (epoch
seconds: account expiry), so unit tests run it under a fake clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from mm7client.profiles import CarrierProfile, get_profile
from mm7client.throttle.clock import Clock, MonotonicClock
from mockmmsc.effects import (
    CountRuleHit,
    Effect,
    NoteOverload,
    OpenOverload,
    RefuseTps,
    ScheduleReports,
    SpendToken,
)
from mockmmsc.faults import FaultBook
from mockmmsc.scenarios import Rule, RuleBook
from mockmmsc.settings import MockSettings, SettingsError
from mockmmsc.store import ReceivedRequest, Store
from mockmmsc.throttle import OverloadWindows, TpsContracts
from mockmmsc.traffic import TrafficMeter

__all__ = ["MockState"]

log = logging.getLogger(__name__)


class MockState:
    """Everything a running mock knows; the endpoint, the API and the tests share one.

    Attributes:
        settings: the :class:`MockSettings` in force.
        profile: the carrier profile answers and reports are encoded with.
        clock: monotonic time of overload windows and TPS contracts.
        wall_clock: epoch seconds (account expiry, timestamps).
        store: what was received (:class:`mockmmsc.store.Store`) and the event bus.
        rules: the :class:`mockmmsc.scenarios.RuleBook`.
        faults: the global faults (:class:`mockmmsc.faults.FaultBook`).
        tps: per-VASID TPS contracts; overload_windows: 4030 windows.
        traffic: requests per second per VASID and the 4030 windows of the last minutes
            (:class:`mockmmsc.traffic.TrafficMeter`, bounded), for the inbox's traffic view.
        report_urls: per-VASID delivery-report URLs set at run time.
    """

    def __init__(
        self,
        settings: MockSettings | None = None,
        *,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] = time.time,
        **overrides: Any,
    ) -> None:
        settings = settings or MockSettings()
        if overrides:
            settings = settings.replace(**overrides)
        self.settings = settings
        self.profile: CarrierProfile = get_profile(settings.profile)
        self.clock: Clock = clock or MonotonicClock()
        self.wall_clock = wall_clock
        self.store = Store(
            settings.max_stored_messages, settings.max_stored_bytes, settings.max_stored_reports
        )
        self.rules = RuleBook(settings.random_seed)
        self.faults = FaultBook(settings.faults, settings.random_seed)
        self.tps = TpsContracts(settings.default_tps)
        for vas_id, account in (settings.accounts or {}).items():
            if account.tps is not None:
                self.tps.set(vas_id, account.tps)
        self.overload_windows = OverloadWindows(self.clock)
        self.traffic = TrafficMeter()
        self.report_urls: dict[str, str] = dict(settings.report_urls)
        if settings.rules_file:
            self.rules.load_file(settings.rules_file)
        for rule in settings.rules:
            self.rules.add(rule)

    # -- applying decisions ----------------------------------------------------------------

    def apply(self, effects: tuple[Effect, ...], now: float) -> None:
        """Apply a decision's effects on the state, decided at ``now`` (``ScheduleReports``
        is the endpoint's: it needs the MessageID and the report dispatcher)."""
        for effect in effects:
            if isinstance(effect, SpendToken):
                self.tps.spend(effect.vas_id, now)
            elif isinstance(effect, RefuseTps):
                self.tps.refuse(effect.vas_id)
            elif isinstance(effect, NoteOverload):
                self.overload_windows.note(effect.vas_id, effect.hit)
            elif isinstance(effect, OpenOverload):
                self.overload(effect.seconds, effect.vas_id, answered=effect.answered)
            elif isinstance(effect, CountRuleHit):
                self.rules.count_hit(effect.rule_id)
            elif not isinstance(effect, ScheduleReports):  # pragma: no cover - a new effect
                raise TypeError(f"effect {effect!r} has no place in the state")

    # -- what was received -----------------------------------------------------------------

    def received(
        self,
        *,
        operation: str | None = None,
        recipient: str | None = None,
        vas_id: str | None = None,
        status_code: int | None = None,
    ) -> list[ReceivedRequest]:
        """Received requests, oldest first, whose fields equal the given ones (``recipient``:
        one of the request's recipients)."""
        return [
            m
            for m in self.store.messages
            if (operation is None or m.operation == operation)
            and (recipient is None or recipient in m.recipients)
            and (vas_id is None or m.vas_id == vas_id)
            and (status_code is None or m.status_code == status_code)
        ]

    # -- scenarios -------------------------------------------------------------------------

    def add_rule(self, rule: Rule | Mapping[str, Any] | None = None, **fields: Any) -> str:
        """Add a rule (a :class:`Rule`, its dict form, or keyword fields); returns its id."""
        if rule is None:
            rule = Rule.from_dict(fields)
        return self.rules.add(rule)

    def remove_rule(self, rule_id: str) -> bool:
        """Remove a rule by id; False when there is none."""
        return self.rules.remove(rule_id)

    def reset_rules(self) -> None:
        """Remove every rule."""
        self.rules.reset()

    def set_tps(self, vas_id: str, tps: float | None) -> None:
        """Contract ``tps`` for ``vas_id`` (requests above it get 7103); None = unlimited."""
        self.tps.set(vas_id, tps)

    def overload(
        self, seconds: float, vas_id: str | None = None, *, answered: str | None = None
    ) -> None:
        """Answer 4030 to every SubmitReq of ``vas_id`` (None: everyone) for ``seconds``
        (scaled by the time scale). ``answered``: a VASID already answered 4030 for it."""
        if seconds < 0:
            raise SettingsError(f"overload seconds={seconds!r}: must be >= 0")
        scaled = self.settings.scaled(seconds)
        self.overload_windows.start(scaled, vas_id, answered=answered)
        now = self.clock.now()
        self.traffic.window_opened(vas_id, now, now + scaled)
        self.store.publish({"type": "overload", "vas_id": vas_id, "seconds": seconds})

    def end_overload(self, vas_id: str | None = None, *, everything: bool = False) -> None:
        """Close the 4030 window of ``vas_id`` (or every window)."""
        self.overload_windows.clear(vas_id, everything=everything)
        self.traffic.window_closed(vas_id, self.clock.now(), everything=everything)

    def requests_during_overload(self, vas_id: str | None) -> int:
        """SubmitReqs of ``vas_id`` that arrived in a 4030 window after its first 4030 answer."""
        return self.overload_windows.requests_during_overload(vas_id)

    def set_report_url(self, vas_id: str, url: str | None) -> None:
        """Where reports of ``vas_id`` go (None: back to the default)."""
        if url is None:
            self.report_urls.pop(vas_id, None)
        else:
            self.report_urls[vas_id] = url

    def report_url_for(self, vas_id: str | None) -> str | None:
        """The report URL of ``vas_id``: its own, its account's, else the default."""
        if vas_id is not None:
            url = self.report_urls.get(vas_id)
            if url:
                return url
            account = (self.settings.accounts or {}).get(vas_id)
            if account is not None and account.report_url:
                return account.report_url
        return self.settings.report_url

    def reset(self) -> None:
        """Forget received requests, rules, global faults, overload windows and counts."""
        self.store.clear()
        self.traffic.clear()
        self.rules.reset()
        self.faults.reset()
        self.overload_windows.clear(everything=True)
        self.overload_windows.reset_counts()
