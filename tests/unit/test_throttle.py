"""Throttling mechanics on a fake clock: pauses, the adaptive TPS limiter, backoff."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from mm7client.throttle import (
    FakeClock,
    LocalThrottle,
    MonotonicClock,
    PauseGate,
    RateLimiter,
    RetryPolicy,
    ThrottleBackend,
    ThrottleRegistry,
    TokenBucket,
    VasThrottle,
)


@pytest.mark.asyncio
async def test_fake_clock_auto_advance_jumps_to_the_deadline() -> None:
    clock = FakeClock(100.0)
    await clock.sleep(60)
    assert clock.now() == 160.0
    assert clock.sleeps == [60.0]
    await clock.sleep(-5)
    assert clock.now() == 160.0


@pytest.mark.asyncio
async def test_fake_clock_manual_mode_wakes_sleepers_in_deadline_order() -> None:
    clock = FakeClock(auto_advance=False)
    woken: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append(name)

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 1))]
    await asyncio.sleep(0)
    assert woken == []
    clock.advance(1)
    await asyncio.sleep(0)
    assert woken == ["early"]
    clock.advance(9)
    await asyncio.gather(*tasks)
    assert woken == ["early", "late"]
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


@pytest.mark.asyncio
async def test_monotonic_clock_sleeps_for_real() -> None:
    clock = MonotonicClock()
    start = clock.now()
    await clock.sleep(0.01)
    assert clock.now() - start >= 0.009


@pytest.mark.asyncio
async def test_pause_gate_blocks_for_the_whole_pause_and_never_shortens() -> None:
    clock = FakeClock()
    gate = PauseGate(clock)
    assert await gate.wait() == 0
    assert gate.pause(60)
    assert not gate.pause(10)  # a shorter pause does not cut the running one
    assert gate.paused
    assert gate.remaining() == 60
    waited = await gate.wait()
    assert waited == 60
    assert clock.now() == 60
    assert not gate.paused


@pytest.mark.asyncio
async def test_pause_gate_holds_every_waiter_until_the_end() -> None:
    clock = FakeClock(auto_advance=False)
    gate = PauseGate(clock)
    gate.pause(60)
    waiters = [asyncio.create_task(gate.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    clock.advance(59.9)
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    clock.advance(0.1)
    assert await asyncio.gather(*waiters) == [60.0, 60.0, 60.0]


@pytest.mark.asyncio
async def test_rate_limiter_paces_at_the_contracted_tps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, tps=10)
    times = []
    for _ in range(21):
        await limiter.acquire()
        times.append(clock.now())
    # one slot at once, then one every 0.1 s
    assert times[0] == 0
    assert times[-1] == pytest.approx(2.0)
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(times))


@pytest.mark.asyncio
async def test_rate_limiter_without_tps_never_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock)
    for _ in range(100):
        assert await limiter.acquire() == 0
    assert clock.now() == 0
    assert not limiter.limited


@pytest.mark.asyncio
async def test_7103_halves_the_rate_once_per_cooldown_then_recovers_gradually() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, tps=10, recovery_per_second=1.0)
    assert limiter.on_throttled()
    assert limiter.rate == 5
    # a burst of 7103s for requests already in flight counts once
    assert not limiter.on_throttled()
    assert limiter.rate == 5
    await clock.sleep(2)
    await limiter.acquire()
    assert limiter.rate == pytest.approx(7.0)
    await clock.sleep(10)
    await limiter.acquire()
    assert limiter.rate == 10  # never above the contract


@pytest.mark.asyncio
async def test_7103_slows_sends_down() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, tps=10, recovery_per_second=0.001)
    await limiter.acquire()
    limiter.on_throttled()
    start = clock.now()
    for _ in range(5):
        await limiter.acquire()
    assert clock.now() - start == pytest.approx(1.0, rel=0.01)  # 5 TPS instead of 10


@pytest.mark.asyncio
async def test_unlimited_limiter_starts_limiting_on_7103_and_returns_to_unlimited() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, recovery_per_second=10.0)
    for _ in range(40):
        await limiter.acquire()
    assert limiter.observed_tps() == 40
    limiter.on_throttled()
    assert limiter.rate == 20
    await clock.sleep(3)
    await limiter.acquire()
    assert limiter.rate is None


def test_rate_limiter_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="tps=0"):
        RateLimiter(FakeClock(), tps=0)
    with pytest.raises(ValueError, match="decrease_factor"):
        RateLimiter(FakeClock(), tps=1, decrease_factor=1.5)


def test_rate_limiter_never_goes_below_its_floor() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock, tps=1, min_tps=0.5, decrease_cooldown=0)
    for _ in range(5):
        limiter.on_throttled()
    assert limiter.rate == 0.5


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1, multiplier=2, max_delay=5, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_backoff_jitter_stays_within_its_share() -> None:
    policy = RetryPolicy(base_delay=2, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.backoff(1, rng) for _ in range(200)]
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 100  # really random


def test_retry_policy_validation_and_no_retries() -> None:
    none = RetryPolicy.no_retries()
    assert none.max_attempts == 1
    assert none.max_throttled_resends == 0
    with pytest.raises(ValueError, match="max_attempts=0"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2)
    with pytest.raises(ValueError, match="max_throttled_resends"):
        RetryPolicy(max_throttled_resends=-1)


@pytest.mark.asyncio
async def test_vas_throttle_counts_and_waits_for_the_pause() -> None:
    clock = FakeClock()
    throttle = VasThrottle("VAS1", clock, tps=None)
    throttle.pause(60)
    await throttle.before_send()
    assert clock.now() == 60
    throttle.slow_down()
    throttle.slow_down()
    assert throttle.stats.paused == 1
    assert throttle.stats.throttled_7103 == 2
    assert throttle.stats.slowed_down == 1
    assert throttle.stats.as_dict()["throttled_7103"] == 2


@pytest.mark.asyncio
async def test_registry_keeps_vasids_independent() -> None:
    clock = FakeClock()
    registry = ThrottleRegistry(clock, {"A": 5.0})
    a, b = registry.get("A"), registry.get("B")
    assert registry.get("A") is a
    assert a.limiter.contracted_tps == 5.0
    assert b.limiter.contracted_tps is None
    a.pause(60)
    await b.before_send()
    assert clock.now() == 0  # B is not held by A's pause
    assert "A" in registry
    assert {t.vas_id for t in registry} == {"A", "B"}
    assert set(registry.stats()) == {"A", "B"}
    assert ThrottleRegistry(clock, 3).get("X").limiter.contracted_tps == 3.0


def test_token_bucket_paces_without_a_clock() -> None:
    bucket = TokenBucket(rate=4, now=10.0)  # burst 1: evenly paced
    assert bucket.take(10.0)
    assert not bucket.take(10.0)
    assert bucket.wait_time(10.0) == pytest.approx(0.25)
    assert not bucket.take(10.2)
    assert bucket.take(10.25)
    assert bucket.wait_time(10.25) == pytest.approx(0.25)
    bucket.set_rate(1, now=10.5)  # the quarter second until now earned at 4 TPS: one token
    assert bucket.take(10.5)
    assert bucket.wait_time(10.5) == pytest.approx(1.0)
    bucket.drain(12.0)
    assert bucket.wait_time(12.0) == pytest.approx(1.0)


def test_token_bucket_answers_a_tps_contract_at_once() -> None:
    # a server enforcing 10 TPS with one second's burst: accept or refuse (7103) now
    bucket = TokenBucket(rate=10, burst=10, now=0.0)
    assert sum(bucket.take(0.0) for _ in range(15)) == 10
    assert not bucket.take(0.05)
    assert bucket.take(0.1)
    assert sum(bucket.take(t / 100) for t in range(11, 111)) == 10  # 10 per second after that
    assert bucket.take(100.0, n=10) and not bucket.take(100.0, n=1)  # never more than the burst


def test_token_bucket_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="rate=0"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst=-1"):
        TokenBucket(1, -1)
    with pytest.raises(ValueError, match="rate=-2"):
        TokenBucket(1).set_rate(-2)


@pytest.mark.asyncio
async def test_local_throttle_is_a_throttle_backend() -> None:
    clock = FakeClock()
    backend: ThrottleBackend = LocalThrottle(clock, {"A": 2.0})
    assert isinstance(backend, ThrottleBackend)
    assert ThrottleRegistry is LocalThrottle
    assert await backend.acquire("A") == 0
    assert await backend.acquire("A") == pytest.approx(0.5)  # 2 TPS
    await backend.pause("A", 60)
    assert await backend.acquire("B") == 0  # other VASIDs keep sending
    assert await backend.acquire("A") == pytest.approx(60)
    await backend.slow_down("A")
    assert backend.stats_of("A").paused == 1
    assert backend.stats_of("A").throttled_7103 == 1
    assert set(backend.stats()) == {"A", "B"}
    await backend.aclose()
