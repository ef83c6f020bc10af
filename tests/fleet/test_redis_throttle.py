"""RedisThrottle against a real Redis: two backends on one prefix stand for two processes.

What the fleet shares (the schedule, the pause, the slow-down and its recovery), what it does
not (another prefix, the counters), and what happens while Redis is unreachable (held, or
paced locally at the stated fraction) - each checked on the server's own keys and timings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from services import free_port

from mm7client import MM7Client
from mm7client.cli.progress import vas_views
from mm7client.throttle import LocalThrottle, MonotonicClock, ThrottleBackend, ThrottleState
from mm7client.throttle.redis import RedisThrottle

VAS = "SVC"


@pytest_asyncio.fixture
async def pair(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[RedisThrottle, ...]]:
    """Two backends sharing a prefix (two processes of one fleet), contract 50 TPS."""
    a = RedisThrottle(redis_url, tps=50, prefix=redis_prefix, recovery_per_second=50)
    b = RedisThrottle(redis_url, tps=50, prefix=redis_prefix, recovery_per_second=50)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


async def eventually(condition, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.005)


@pytest.mark.asyncio
async def test_both_backends_implement_the_protocol_and_the_state_view(
    redis_url: str, redis_prefix: str
) -> None:
    shared = RedisThrottle(redis_url, tps={VAS: 20}, prefix=redis_prefix)
    try:
        for backend in (shared, LocalThrottle(MonotonicClock(), {VAS: 20})):
            assert isinstance(backend, ThrottleBackend)
            state = backend.state_of(VAS)
            assert isinstance(state, ThrottleState)
            assert (state.paused, state.slowed, state.contract) == (False, False, 20)
        assert shared.state_of(VAS).shared and shared.state_of("OTHER").contract is None
        assert shared.keys_of(VAS) == (
            f"{redis_prefix}{{SVC}}:tat",
            f"{redis_prefix}{{SVC}}:pause",
            f"{redis_prefix}{{SVC}}:rate",
        )
    finally:
        await shared.aclose()
    with pytest.raises(ValueError, match=r"fallback_fraction=1\.5"):
        RedisThrottle(redis_url, fallback_fraction=1.5)
    with pytest.raises(ValueError, match="url= or client="):
        RedisThrottle()


@pytest.mark.asyncio
async def test_the_contract_is_one_schedule_for_both(pair: tuple[RedisThrottle, ...]) -> None:
    a, b = pair
    times: list[float] = []

    async def send(backend: RedisThrottle) -> None:
        await backend.acquire(VAS)
        times.append(time.monotonic())

    await asyncio.gather(*(send(a if i % 2 else b) for i in range(60)))
    times.sort()
    # 60 sends at 50 TPS, slots 20 ms apart for the pair: no second holds more than 51
    busiest = max(sum(1 for t in times if first <= t < first + 1.0) for first in times)
    assert busiest <= 51, busiest
    assert times[-1] - times[0] >= 59 / 50 - 0.05
    # batched: far fewer round trips than sends
    assert a.calls + b.calls < 60, (a.calls, b.calls)
    assert a.stats_of(VAS).sent == 0  # the counters are the client's, per process


@pytest.mark.asyncio
async def test_a_pause_holds_the_other_process_and_is_never_shortened(
    pair: tuple[RedisThrottle, ...], redis_url: str
) -> None:
    a, b = pair
    await b.acquire(VAS)  # b listens from its first use
    await a.pause(VAS, 0.6)
    await eventually(lambda: b.state_of(VAS).paused)
    await a.pause(VAS, 0.1)  # shorter: changes nothing
    async with aioredis.Redis.from_url(redis_url) as r:
        assert await r.pttl(a.keys_of(VAS)[1]) > 400
    started = time.monotonic()
    await b.acquire(VAS)
    assert time.monotonic() - started >= 0.45
    assert (a.stats_of(VAS).paused, b.stats_of(VAS).paused) == (2, 0)


@pytest.mark.asyncio
async def test_a_pause_missed_on_the_channel_is_found_on_the_next_slot(
    pair: tuple[RedisThrottle, ...], redis_url: str
) -> None:
    a, _ = pair
    async with aioredis.Redis.from_url(redis_url) as r:
        await r.set(a.keys_of(VAS)[1], "1", px=400)  # no message on the channel
    started = time.monotonic()
    await a.acquire(VAS)
    assert time.monotonic() - started >= 0.35


@pytest.mark.asyncio
async def test_a_7103_slows_the_fleet_once_per_cooldown_and_it_recovers(
    pair: tuple[RedisThrottle, ...],
) -> None:
    a, b = pair
    await b.acquire(VAS)
    await a.slow_down(VAS)
    await a.slow_down(VAS)  # within the cooldown: one decrease for both
    await eventually(lambda: b.state_of(VAS).rate == 25.0)
    assert b.state_of(VAS).slowed
    assert a.stats_of(VAS).throttled_7103 == 2 and a.stats_of(VAS).slowed_down == 1
    # slots now 40 ms apart for the whole fleet
    started = time.monotonic()
    for _ in range(4):
        await b.acquire(VAS)
    assert time.monotonic() - started >= 3 * 0.04 - 0.01
    # recovery: 50 TPS per second back up to the contract, then the rate key is gone
    await asyncio.sleep(0.6)
    await b.acquire(VAS)
    assert b.state_of(VAS).rate == 50.0 and not b.state_of(VAS).slowed


@pytest.mark.asyncio
async def test_another_prefix_is_another_fleet(redis_url: str, redis_prefix: str) -> None:
    a = RedisThrottle(redis_url, tps=5, prefix=redis_prefix + "one:")
    b = RedisThrottle(redis_url, tps=5, prefix=redis_prefix + "two:")
    try:
        await a.pause(VAS, 5)
        started = time.monotonic()
        for _ in range(2):
            await b.acquire(VAS)  # b's schedule: 0 then 200 ms, no pause
        assert 0.15 < time.monotonic() - started < 1.0
    finally:
        await a.aclose()
        await b.aclose()


@pytest.mark.asyncio
async def test_unreachable_redis_holds_contracted_vasids_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mm7client.redis")
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    backend = RedisThrottle(url, tps={VAS: 50}, timeout=0.2, reconnect_max_delay=0.05)
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(backend.acquire(VAS), 0.5)
        assert not backend.connected
        assert backend.state_of(VAS).held == "Redis unreachable: holding until it is back"
        # a VASID without a contract is not paced by Redis: it goes on
        await asyncio.wait_for(backend.acquire("NOCONTRACT"), 0.5)
        held = asyncio.create_task(backend.acquire(VAS))
        await asyncio.sleep(0.05)
    finally:
        await backend.aclose()
    with pytest.raises(RuntimeError, match="is closed"):  # a send held at close is told so
        await asyncio.wait_for(held, 1.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "mm7client.redis"]
    assert len(lines) == 1 and "unreachable" in lines[0] and "holding" in lines[0], lines


@pytest.mark.asyncio
async def test_unreachable_redis_with_a_fallback_paces_at_its_fraction() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    backend = RedisThrottle(url, tps=40, fallback_fraction=0.25, timeout=0.2)
    try:
        started = time.monotonic()
        for _ in range(5):  # the first ask finds Redis gone; then 10 TPS locally
            await asyncio.wait_for(backend.acquire(VAS), 1.0)
        assert time.monotonic() - started >= 0.35
        assert not backend.connected
        assert backend.state_of(VAS).held == "Redis unreachable: 0.25 of the contract locally"
    finally:
        await backend.aclose()


@pytest.mark.asyncio
async def test_the_progress_display_shows_a_pause_another_process_began(
    pair: tuple[RedisThrottle, ...],
) -> None:
    a, b = pair
    client = MM7Client("http://127.0.0.1:9/mm7", vas_id=VAS, throttle=b)
    await b.acquire(VAS)
    [view] = vas_views(client)
    assert view.describe(20) == "SVC sending at up to 50 TPS (fleet-wide) (0 requests)"
    await a.pause(VAS, 5)
    await eventually(lambda: client.throttle_state(VAS).paused)
    [view] = vas_views(client)
    assert view.describe(20).startswith("SVC paused 5.0 s after 4030 (fleet-wide)")
    await a.slow_down(VAS)
    await a.pause(VAS, 0.001)  # shorter: the pause stays
    await eventually(lambda: client.throttle_state(VAS).rate == 25.0)
    assert client.throttle_state(VAS).slowed
