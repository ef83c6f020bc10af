"""The mock's stores stay bounded, and what a request costs them does not grow with the run.

Costs are counted (how many report records an operation looks at), never timed.
"""

from __future__ import annotations

import pytest

from mockmmsc.store import ReportRecord, Store


def record(n: int, **fields: object) -> ReportRecord:
    return ReportRecord(
        id=f"r{n}", message_id=f"m{n}", recipient="01012345678", mm_status="Retrieved",
        status_text="OK", **fields,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def looks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every look at a report's ``pending`` state."""
    counter = [0]
    original = ReportRecord.pending

    def counted(self: ReportRecord) -> bool:
        counter[0] += 1
        return original.fget(self)  # type: ignore[attr-defined, no-any-return]

    monkeypatch.setattr(ReportRecord, "pending", property(counted))
    return counter


def test_adding_a_report_looks_at_a_constant_number_of_records(looks: list[int]) -> None:
    store = Store(max_reports=500)
    costs = []
    for batch in range(20):  # 20 x 1000 reports, half of them never settled
        before = looks[0]
        for n in range(batch * 1000, (batch + 1) * 1000):
            item = record(n)
            store.add_report(item)
            if n % 2:
                item.acknowledged = True
                store.report_changed(item)
        costs.append(looks[0] - before)
    assert costs[-1] == costs[0] <= 3 * 1000  # per report: O(1), the same at the end as at first
    assert store.report_count == 500 and store.pending_count == 499  # the last one was acked


def test_settled_reports_are_dropped_first_then_the_oldest_pending_expires() -> None:
    store = Store(max_reports=3)
    expired: list[ReportRecord] = []
    store.on_expire = expired.append
    first, second = record(1), record(2)
    store.add_report(first)
    store.add_report(second)
    done = record(3, acknowledged=True)
    store.add_report(done)
    store.add_report(record(4))  # over the cap: the settled one goes, nothing pending expires
    assert done not in store.reports and expired == []
    store.add_report(record(5))  # only pending ones left: the oldest expires
    assert expired == [first] and first.expired and first.state == "expired"
    assert not first.pending and "expired" in (first.last_error or "")
    assert [r.id for r in store.reports] == ["r2", "r4", "r5"]
    assert store.pending_count == 3


def test_a_report_state_says_how_it_ended() -> None:
    assert record(1).state == "pending"
    assert record(1, acknowledged=True).state == "acknowledged"
    assert record(1, given_up=True).state == "given_up"
    assert record(1, expired=True).state == "expired"
    shown = record(1, undeliverable=True).to_dict()
    assert shown["state"] == "undeliverable" and shown["pending"] is False


def test_the_request_store_is_bounded_by_count_and_bytes() -> None:
    from mockmmsc.store import ReceivedRequest

    store = Store(max_messages=100, max_bytes=10_000)
    for n in range(1000):
        store.add(
            ReceivedRequest(
                id=store.next_id(), received_at=0.0, operation="SubmitReq", envelope=None,
                raw_body=b"x" * 150, content_type="text/xml", message_id=f"M{n}",
            )
        )  # fmt: skip
    assert len(store.messages) == 66  # 66 x 150 bytes <= 10,000
    assert store.by_message_id("M0") is None and store.by_message_id("M999") is not None
    assert len(store._by_message_id) == 66  # the index drops what the store drops
