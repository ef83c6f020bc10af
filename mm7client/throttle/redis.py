"""The Redis throttle backend: a VASID's contract, 4030 pause and 7103 slow-down, fleet-wide.

Every sender process (on any machine) pointing :class:`RedisThrottle` at the same Redis and key
prefix shares, per VASID:

* **the contracted TPS**, as a GCRA schedule: a Lua script, atomic on the server and timed by
  the server's ``TIME`` (never a host's clock), hands out send slots spaced ``1/rate`` apart
  across the whole fleet. A process asks for as many slots as it has sends waiting (one round
  trip for a batch, plus a short lease of what it will need next), and slots are never handed
  out more than ``max_ahead`` seconds ahead. A slot is used at its time or dropped after
  ``lease_grace`` (50 ms; a reply that took longer than that gives slots that cannot be used),
  so every one-second window of sends holds at most the contract, +1 for the window's edge,
  +5% at worst.
* **the 4030 pause**: a key with the pause's time to live, never shortened, and a message on
  the prefix's channel. Every process hears it (pub/sub) and holds the VASID at once; a process
  that missed the message finds the key on its next slot request.
* **the 7103 slow-down**: the lowered rate and when it was lowered, shared; the rate recovers
  by ``recovery_per_second`` TPS each second towards the contract, computed by the scripts.

Not shared: each process's counters (:meth:`RedisThrottle.stats`), its retry budgets and
backoffs, and VASIDs without a contract (their 7103 slow-down stays in the process; their
pause is still shared).

When Redis is unreachable or failing the backend says so in one log line (logger
``mm7client.redis``), stops handing out slots for every contracted VASID (sends already given a
slot go on: that slot was within the contract) and reconnects with exponential backoff; one
more log line when it is back. With ``fallback_fraction=f`` it paces each contracted VASID
locally at ``f`` times the contract instead, per process: a fleet of N processes keeps the
contract when ``f <= 1/N``. After an outage the schedule restarts ``max_ahead`` seconds late,
so slots handed out before it and after it never overlap, even when the server restarted empty
or a replica with an older schedule took over.

Keys (``prefix`` default ``mm7:throttle:``), with the VASID as a Redis Cluster hash tag so the
three keys of a VASID live on one shard: ``{prefix}{VASID}:tat`` (the schedule),
``{prefix}{VASID}:pause``, ``{prefix}{VASID}:rate``; channel ``{prefix}events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from mm7client.throttle.backend import ThrottleState
from mm7client.throttle.clock import Clock, MonotonicClock
from mm7client.throttle.local import RateLimiter
from mm7client.throttle.stats import VasStats

__all__ = ["RedisThrottle"]

logger = logging.getLogger("mm7client.throttle")
# Redis going away and coming back: its own logger, shown even where the pause and slow-down
# lines are left to a progress display
link_logger = logging.getLogger("mm7client.redis")

# Slots for up to ARGV[2] sends, never beyond now + max_ahead (ARGV[3], µs). Replies: {0, pause
# ms left} paused; {1, slots, first slot's offset from the server's now in µs, µs between slots,
# rate in mTPS}; {2, µs to wait, rate} when the schedule has no room for a worthwhile batch
# (a quarter of the horizon's slots, or every send asked for if fewer) - one round trip then
# serves many sends.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {0, pause} end
local contract = tonumber(ARGV[1])
local rate = contract
local r = redis.call('HMGET', KEYS[3], 'rate', 'at')
if r[1] then
  rate = tonumber(r[1]) + tonumber(ARGV[5]) * (now - tonumber(r[2])) / 1000000
  if rate >= contract then
    rate = contract
    redis.call('DEL', KEYS[3])
  end
end
local interval = 1000000 / rate
local ahead = tonumber(ARGV[3])
local raw = redis.call('GET', KEYS[1])
local tat = now
if raw then tat = tonumber(raw) end
if ARGV[4] == '1' then
  -- the first request after an outage: slots handed out before it may still be ahead, and
  -- a restarted (or failed-over) server may have lost (or hold an older) schedule
  tat = math.max(tat, now + ahead)
end
local start = math.max(tat, now)
local n = tonumber(ARGV[2])
local least = math.min(n, math.max(1, math.floor(ahead / interval / 4)))
local wait = start - ahead + (least - 1) * interval - now
if wait > 0 then
  return {2, math.floor(wait) + 1, math.floor(rate * 1000)}
end
local k = math.min(n, math.floor((now + ahead - start) / interval) + 1)
redis.call('SET', KEYS[1], string.format('%.0f', start + k * interval), 'PX', ARGV[6])
return {1, k, math.floor(start - now), math.ceil(interval), math.floor(rate * 1000)}
"""

# A pause of ARGV[1] ms unless a longer one runs; announced on the channel. Reply: ms left.
_PAUSE = """
local left = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1])
if left >= ms then return left end
redis.call('SET', KEYS[1], '1', 'PX', ms)
redis.call('PUBLISH', ARGV[2], 'pause ' .. ms .. ' ' .. ARGV[3])
return ms
"""

# 7103: the shared rate times ARGV[2] (at most once per cooldown), no slot before one new
# interval from now. Reply: {1 lowered / 0 within the cooldown, rate in mTPS}.
_SLOW_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local contract = tonumber(ARGV[1])
local step = tonumber(ARGV[5])
local rate = contract
local r = redis.call('HMGET', KEYS[1], 'rate', 'at')
if r[1] then
  local at = tonumber(r[2])
  rate = math.min(contract, tonumber(r[1]) + step * (now - at) / 1000000)
  if now - at < tonumber(ARGV[4]) then return {0, math.floor(rate * 1000)} end
end
local new = math.max(tonumber(ARGV[3]), rate * tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'rate', string.format('%.6f', new), 'at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((contract - new) / step * 1000) + 1000)
local earliest = now + 1000000 / new
local raw = redis.call('GET', KEYS[2])
if not raw or tonumber(raw) < earliest then
  redis.call('SET', KEYS[2], string.format('%.0f', earliest), 'PX', ARGV[8])
end
redis.call('PUBLISH', ARGV[6], 'slow ' .. math.floor(new * 1000) .. ' ' .. ARGV[7])
return {1, math.floor(new * 1000)}
"""

_PAUSED, _GRANTED, _FULL = 0, 1, 2
#: A send slot in local time: when to send, and the latest the send may start (the slot's
#: time reckoned from when it was asked for, plus the lease grace).
_Slot = tuple[float, float]
# a pause heard back within this many seconds of one we know is the same pause
_SAME_PAUSE = 0.25


@dataclass(slots=True)
class _Vas:
    """What this process knows of one VASID."""

    vas_id: str
    contract: float | None
    local: RateLimiter
    stats: VasStats = field(default_factory=VasStats)
    paused_until: float = float("-inf")
    rate: float | None = None
    waiters: list[asyncio.Future[_Slot | None]] = field(default_factory=list)
    fetching: bool = False
    leased: deque[_Slot] = field(default_factory=deque)  # slots taken ahead of demand
    second: float = 0.0  # start of the second being counted, and the sends so far in it
    sends: int = 0
    demand: float = 0.0  # sends per second of this process, the last full second
    fallback: RateLimiter | None = None


class RedisThrottle:
    """A :class:`~mm7client.throttle.backend.ThrottleBackend` shared through Redis (7 or later).

    Args:
        url: the Redis URL (``redis://host:6379/0``, ``rediss://`` for TLS); or ``client``.
        tps: contracted TPS, one value for every VASID or a ``{vas_id: tps}`` mapping; every
            process of a fleet must be given the same. A VASID without one is not paced (its
            pause is still shared; its 7103 slow-down stays in this process).
        prefix: the start of every key and of the channel (several fleets, or several
            contracts, on one Redis use different prefixes).
        client: a ready ``redis.asyncio.Redis`` instead of ``url`` (closed with the backend).
        clock: the clock of local waits.
        max_ahead: seconds ahead of now up to which send slots are handed out (a batch's
            horizon; also the gap with which the schedule restarts after an outage).
        lease: with each request, also take the slots this process's sends of the last
            second would use in ``lease`` seconds (fewer round trips at full speed).
        lease_grace: a slot not used within this many seconds of its time (leased ahead, or a
            send woken late by a busy process) is dropped, never used later, so a second holds
            at most ``contract * (1 + lease_grace) + 1`` sends.
        fallback_fraction: ``None`` (the default): while Redis is unreachable, hold every
            contracted VASID. A fraction in (0, 1]: pace each locally at that fraction of its
            contract meanwhile (per process: ``1/N`` or less keeps a fleet of N within it).
        decrease_factor / min_tps / recovery_per_second / decrease_cooldown: the 7103 slow-down
            (as :class:`~mm7client.throttle.local.RateLimiter`'s; recovery by default a tenth
            of the contract per second).
        timeout: seconds for one Redis command (an unanswered one counts as unreachable).
        reconnect_delay / reconnect_max_delay: the reconnection backoff, doubling with jitter.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        tps: float | Mapping[str, float] | None = None,
        prefix: str = "mm7:throttle:",
        client: aioredis.Redis | None = None,
        clock: Clock | None = None,
        max_ahead: float = 0.5,
        lease: float = 0.03,
        lease_grace: float = 0.05,
        fallback_fraction: float | None = None,
        decrease_factor: float = 0.5,
        min_tps: float = 0.5,
        recovery_per_second: float | None = None,
        decrease_cooldown: float = 0.25,
        timeout: float = 2.0,
        reconnect_delay: float = 0.05,
        reconnect_max_delay: float = 2.0,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("RedisThrottle needs url= or client= (one of them)")
        if fallback_fraction is not None and not 0 < fallback_fraction <= 1:
            raise ValueError(f"fallback_fraction={fallback_fraction!r}: must be in (0, 1]")
        if not max_ahead > 0:
            raise ValueError(f"max_ahead={max_ahead!r}: must be > 0")
        if lease < 0 or lease_grace < 0:
            raise ValueError(f"lease={lease!r}, lease_grace={lease_grace!r}: must be >= 0")
        if not 0 < decrease_factor < 1:
            raise ValueError(f"decrease_factor={decrease_factor!r}: must be between 0 and 1")
        if isinstance(tps, Mapping):
            bad = {vas: value for vas, value in tps.items() if not value > 0}
            if bad:
                raise ValueError(f"tps={bad!r}: every contract must be > 0")
        elif tps is not None and not tps > 0:
            raise ValueError(f"tps={tps!r}: must be > 0 or None")
        self.url = url
        self.prefix = prefix
        self.channel = f"{prefix}events"
        self.clock: Clock = clock or MonotonicClock()
        self.max_ahead = max_ahead
        self.lease = lease
        self.lease_grace = lease_grace
        self.fallback_fraction = fallback_fraction
        self.decrease_factor = decrease_factor
        self.min_tps = min_tps
        self.recovery_per_second = recovery_per_second
        self.decrease_cooldown = decrease_cooldown
        self.reconnect_delay = reconnect_delay
        self.reconnect_max_delay = reconnect_max_delay
        self._tps = tps
        # no retries inside redis-py: a failure must reach us to be handled (and logged) once
        self._redis: aioredis.Redis = client or aioredis.Redis.from_url(
            url or "",
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._pause = self._redis.register_script(_PAUSE)
        self._slow_down = self._redis.register_script(_SLOW_DOWN)
        self._by_vas: dict[str, _Vas] = {}
        self._up = True
        self._back = asyncio.Event()
        self._back.set()
        self._after_outage: set[str] = set()
        self._unpublished: dict[str, float] = {}  # pauses to tell Redis when it is back
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconnecting = False
        self._listening = False
        self._closed = False
        #: Redis round trips made (slot requests, pauses, slow-downs): the cost of sharing.
        self.calls = 0

    def __repr__(self) -> str:
        where = self.url.rsplit("@", 1)[-1] if self.url else "client"
        return f"RedisThrottle({where!r}, prefix={self.prefix!r}, tps={self._tps!r})"

    # -- keys ------------------------------------------------------------------------------

    def keys_of(self, vas_id: str) -> tuple[str, str, str]:
        """The schedule, pause and rate keys of ``vas_id``."""
        base = f"{self.prefix}{{{vas_id}}}"
        return f"{base}:tat", f"{base}:pause", f"{base}:rate"

    def _contract(self, vas_id: str) -> float | None:
        if isinstance(self._tps, Mapping):
            value = self._tps.get(vas_id)
            return None if value is None else float(value)
        return None if self._tps is None else float(self._tps)

    def _step(self, contract: float) -> float:
        if self.recovery_per_second is not None:
            return self.recovery_per_second
        return max(0.5, contract / 10)

    def _vas(self, vas_id: str) -> _Vas:
        vas = self._by_vas.get(vas_id)
        if vas is None:
            contract = self._contract(vas_id)
            local = RateLimiter(
                self.clock,
                None,
                decrease_factor=self.decrease_factor,
                min_tps=self.min_tps,
                decrease_cooldown=self.decrease_cooldown,
            )
            vas = self._by_vas[vas_id] = _Vas(vas_id, contract, local, rate=contract)
        self._listen()
        return vas

    # -- the ThrottleBackend protocol ------------------------------------------------------

    async def acquire(self, vas_id: str) -> float:
        """Wait out a shared pause, then take a shared send slot; returns the seconds waited."""
        vas = self._vas(vas_id)
        clock = self.clock
        start = clock.now()
        while True:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            left = vas.paused_until - clock.now()
            if left > 0:
                await clock.sleep(left)
                continue
            if vas.contract is None:
                await vas.local.acquire()
            elif not self._up:
                if self.fallback_fraction is None:
                    await self._back.wait()
                    continue
                await self._fallback(vas).acquire()
            else:
                slot = await self._slot(vas)
                if slot is None:
                    continue
                at, latest = slot
                if at > clock.now():
                    await clock.sleep(at - clock.now())
                if clock.now() > latest:
                    continue  # too late (a busy loop): the slot is dropped, never used late
            if vas.paused_until <= clock.now():
                return clock.now() - start
            # a pause began while this send waited for its slot: the slot goes unused

    async def pause(self, vas_id: str, seconds: float) -> None:
        """4030: hold ``vas_id`` for ``seconds`` in every process (never shortened)."""
        vas = self._vas(vas_id)
        vas.stats.paused += 1
        until = self.clock.now() + max(0.0, seconds)
        vas.leased.clear()
        if until > vas.paused_until:
            vas.paused_until = until
            logger.warning("VASID %s paused for %.3g s after 4030", vas_id, seconds)
        ms = max(1, round(seconds * 1000))
        try:
            await self._call(self._pause, [self.keys_of(vas_id)[1]], [ms, self.channel, vas_id])
        except RedisError:
            self._unpublished[vas_id] = max(until, self._unpublished.get(vas_id, until))

    async def slow_down(self, vas_id: str) -> None:
        """7103: lower the shared rate of ``vas_id`` (once per cooldown for the whole fleet)."""
        vas = self._vas(vas_id)
        vas.stats.throttled_7103 += 1
        vas.leased.clear()
        contract = vas.contract
        if contract is None or not self._up:
            limiter = vas.local if contract is None else self._fallback(vas)
            if limiter.on_throttled():
                vas.stats.slowed_down += 1
                logger.warning(
                    "VASID %s over its TPS (7103): rate lowered to %.2f TPS in this process",
                    vas_id,
                    limiter.rate or 0.0,
                )
            return
        tat_key, _, rate_key = self.keys_of(vas_id)
        args = [
            contract,
            self.decrease_factor,
            self.min_tps,
            round(self.decrease_cooldown * 1_000_000),
            self._step(contract),
            self.channel,
            vas_id,
            self._ttl_ms(),
        ]
        try:
            lowered, milli = await self._call(self._slow_down, [rate_key, tat_key], args)
        except RedisError:
            return
        vas.rate = int(milli) / 1000
        if lowered:
            vas.stats.slowed_down += 1
            logger.warning(
                "VASID %s over its TPS (7103): shared rate lowered to %.2f TPS", vas_id, vas.rate
            )

    def stats_of(self, vas_id: str) -> VasStats:
        """The counters of ``vas_id`` in this process."""
        return self._vas(vas_id).stats

    def stats(self) -> dict[str, VasStats]:
        """This process's counters per VASID."""
        return {vas_id: vas.stats for vas_id, vas in self._by_vas.items()}

    def state_of(self, vas_id: str) -> ThrottleState:
        """The shared state of ``vas_id`` as this process last heard it (no round trip)."""
        vas = self._vas(vas_id)
        held = None
        if not self._up and vas.contract is not None:
            held = (
                "Redis unreachable: holding until it is back"
                if self.fallback_fraction is None
                else f"Redis unreachable: {self.fallback_fraction:g} of the contract locally"
            )
        rate = vas.rate if vas.contract is not None else vas.local.rate
        return ThrottleState(
            vas_id=vas_id,
            pause_left=max(0.0, vas.paused_until - self.clock.now()),
            rate=rate,
            contract=vas.contract,
            shared=True,
            held=held,
        )

    @property
    def connected(self) -> bool:
        """False from a failed Redis command until a reconnection succeeds."""
        return self._up

    async def aclose(self) -> None:
        """Stop the listener and the reconnection, close the connections."""
        self._closed = True
        self._back.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._redis.aclose()

    # -- slots -----------------------------------------------------------------------------

    async def _slot(self, vas: _Vas) -> _Slot | None:
        """A shared slot for one send (``None``: ask again)."""
        now = self.clock.now()
        if now - vas.second >= 1.0:
            vas.demand = vas.sends / max(1.0, now - vas.second)
            vas.second, vas.sends = now, 0
        vas.sends += 1
        leased = vas.leased
        while leased:
            slot = leased.popleft()
            if slot[1] >= now:
                return slot
            # a leased slot not used in time is dropped, never used late
        future: asyncio.Future[_Slot | None] = asyncio.get_running_loop().create_future()
        vas.waiters.append(future)
        if not vas.fetching:
            vas.fetching = True
            self._spawn(self._fetch(vas))
        return await future

    async def _fetch(self, vas: _Vas) -> None:
        """Ask Redis for slots for every waiting send of ``vas``, one round trip per batch."""
        tat_key, pause_key, rate_key = self.keys_of(vas.vas_id)
        contract = vas.contract
        assert contract is not None
        try:
            while vas.waiters and not self._closed:
                if not self._up:
                    self._answer(vas.waiters, None)
                    vas.waiters = []
                    return
                after_outage = vas.vas_id in self._after_outage
                ahead = max(0, math.ceil(vas.demand * self.lease) - len(vas.leased))
                args = [
                    contract,
                    len(vas.waiters) + ahead,
                    round(self.max_ahead * 1_000_000),
                    "1" if after_outage else "0",
                    self._step(contract),
                    self._ttl_ms(),
                ]
                asked = self.clock.now()
                try:
                    reply = await self._call(self._acquire, [tat_key, pause_key, rate_key], args)
                except RedisError:
                    continue  # now down: the loop answers the waiters
                self._after_outage.discard(vas.vas_id)
                now = self.clock.now()
                status = int(reply[0])
                if status == _PAUSED:
                    vas.paused_until = max(vas.paused_until, now + int(reply[1]) / 1000)
                    vas.leased.clear()
                    self._answer(vas.waiters, None)
                    vas.waiters = []
                elif status == _FULL:
                    vas.rate = int(reply[2]) / 1000
                    await self.clock.sleep(int(reply[1]) / 1_000_000)
                else:
                    count, offset, interval = int(reply[1]), int(reply[2]), int(reply[3])
                    vas.rate = int(reply[4]) / 1000
                    # the server's now lies between asked and now: sending at now + offset may
                    # be late by the round trip, never early; asked + offset + grace bounds it
                    grace = self.lease_grace
                    slots = [
                        (
                            now + (offset + i * interval) / 1e6,
                            asked + (offset + i * interval) / 1e6 + grace,
                        )
                        for i in range(count)
                    ]
                    granted, vas.waiters = vas.waiters[:count], vas.waiters[count:]
                    for future, slot in zip(granted, slots, strict=False):
                        if not future.done():
                            future.set_result(slot)
                    vas.leased.extend(slots[len(granted) :])
        finally:
            vas.fetching = False
            self._answer(vas.waiters, None)
            vas.waiters = []

    @staticmethod
    def _answer(futures: list[asyncio.Future[_Slot | None]], value: _Slot | None) -> None:
        for future in futures:
            if not future.done():
                future.set_result(value)

    def _fallback(self, vas: _Vas) -> RateLimiter:
        if vas.fallback is None:
            assert vas.contract is not None and self.fallback_fraction is not None
            vas.fallback = RateLimiter(
                self.clock,
                vas.contract * self.fallback_fraction,
                decrease_factor=self.decrease_factor,
                min_tps=self.min_tps,
                decrease_cooldown=self.decrease_cooldown,
            )
        return vas.fallback

    def _ttl_ms(self) -> int:
        return round((self.max_ahead + 60.0) * 1000)

    # -- Redis up and down -----------------------------------------------------------------

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """Run a script; a failure marks Redis down (and is raised)."""
        self.calls += 1
        try:
            return await script(keys=keys, args=args)
        except (TimeoutError, RedisError, OSError) as exc:
            self._down(exc)
            if isinstance(exc, RedisError):
                raise
            raise RedisError(str(exc)) from exc

    def _down(self, exc: BaseException) -> None:
        if self._closed:
            return
        if self._up:
            self._up = False
            self._back.clear()
            action = (
                "holding every contracted VASID"
                if self.fallback_fraction is None
                else f"pacing locally at {self.fallback_fraction:g} of each contract"
            )
            link_logger.warning(
                "Redis throttle unreachable (%s: %s): %s until it is back",
                type(exc).__name__,
                exc,
                action,
            )
        if not self._reconnecting:
            self._reconnecting = True
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        delay = self.reconnect_delay
        # the pooled connections may all be dead (a restarted server): start afresh
        with contextlib.suppress(RedisError, OSError):
            await self._redis.connection_pool.disconnect()
        try:
            while not self._closed:
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                try:
                    await self._redis.ping()
                except (TimeoutError, RedisError, OSError):
                    delay = min(self.reconnect_max_delay, delay * 2)
                    continue
                break
        finally:
            self._reconnecting = False
        if self._closed:
            return
        # the schedule restarts max_ahead late: slots handed out before the outage may still
        # be ahead, and the server may have lost the schedule
        self._after_outage.update(self._by_vas)
        self._up = True
        self._back.set()
        link_logger.warning("Redis throttle reachable again: shared throttling resumed")
        await self._publish_pending()

    async def _publish_pending(self) -> None:
        pending, self._unpublished = self._unpublished, {}
        for vas_id, until in pending.items():
            left = until - self.clock.now()
            if left > 0:
                ms = max(1, round(left * 1000))
                with contextlib.suppress(RedisError):
                    await self._call(
                        self._pause, [self.keys_of(vas_id)[1]], [ms, self.channel, vas_id]
                    )

    # -- pub/sub ---------------------------------------------------------------------------

    def _listen(self) -> None:
        if self._listening or self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a display asking outside the loop: listen from the first send
            return
        self._listening = True
        self._spawn(self._listener())

    async def _listener(self) -> None:
        """Hear pauses and slow-downs of the other processes; resubscribe after an outage."""
        while not self._closed:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                while not self._closed:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._heard(message["data"])
            except (TimeoutError, RedisError, OSError) as exc:
                self._down(exc)
            finally:
                with contextlib.suppress(BaseException):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if not self._closed:
                await self._back.wait()

    def _heard(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        kind, _, rest = text.partition(" ")
        number, _, vas_id = rest.partition(" ")
        vas = self._by_vas.get(vas_id)
        if vas is None:
            return
        if kind == "pause":
            until = self.clock.now() + int(number) / 1000
            if until > vas.paused_until + _SAME_PAUSE:  # not our own pause coming back
                vas.paused_until = until
                vas.leased.clear()
                logger.warning("VASID %s paused for %s ms by another sender's 4030", vas_id, number)
        elif kind == "slow":
            vas.rate = int(number) / 1000
            vas.leased.clear()  # taken at the old spacing

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
