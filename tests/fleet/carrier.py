"""A carrier posting delivery reports to several receivers the way an MMSC does.

Each report goes to a receiver picked at random; anything but an MM7 1000 answer (a fault, a
refused connection, a timeout) is retried at another random receiver after a short pause, until
acknowledged. Some acknowledged reports are posted once more (the carrier's duplicates).
Bounded: every report gives up after ``deadline`` seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import aiohttp

from mm7client.codec import decode, encode
from mm7client.model import Address, DeliveryReportRequest
from mm7client.profiles import LGT


def delivery_report(n: int) -> DeliveryReportRequest:
    return DeliveryReportRequest(
        transaction_id=f"rpt-{n}",
        message_id=f"MID-{n:05d}",
        recipient=Address(f"010{n:08d}"),
        sender=Address("15881234"),
        mm_status="Retrieved" if n % 5 else "Expired",
        status_text="OK",
    )


@dataclass
class Carrier:
    """Posts reports to ``urls`` (see the module documentation) and records what happened."""

    urls: list[str]
    duplicate_share: float = 0.2
    deadline: float = 30.0
    acknowledged: set[str] = field(default_factory=set)
    faults: int = 0
    refused: int = 0
    duplicates_acknowledged: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    async def post(self, session: aiohttp.ClientSession, url: str, n: int) -> bool:
        encoded = encode(delivery_report(n), LGT)
        try:
            async with session.post(
                url, data=encoded.body, headers={"Content-Type": encoded.content_type}
            ) as response:
                body = await response.read()
                content_type = response.headers.get("Content-Type")
        except (aiohttp.ClientError, TimeoutError):
            self.refused += 1
            return False
        answer = decode(body, content_type)
        status = getattr(answer, "status", None)
        if response.status == 200 and status is not None and status.code_int == 1000:
            return True
        self.faults += 1
        return False

    async def deliver(self, session: aiohttp.ClientSession, n: int) -> None:
        give_up = time.monotonic() + self.deadline
        while time.monotonic() < give_up:
            if await self.post(session, self.rng.choice(self.urls), n):
                self.acknowledged.add(delivery_report(n).message_id)
                resend = self.rng.random() < self.duplicate_share
                if resend and await self.post(session, self.rng.choice(self.urls), n):
                    self.duplicates_acknowledged += 1
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"report {n} not acknowledged within {self.deadline} s")

    async def run(self, numbers: range, concurrency: int = 16) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in numbers:
            queue.put_nowait(n)
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def worker() -> None:
                while not queue.empty():
                    await self.deliver(session, queue.get_nowait())
                    await asyncio.sleep(0.002)  # a stream, not a burst

            await asyncio.gather(*(worker() for _ in range(concurrency)))
