"""The per-account rate's lateness rule (portal.payments.rate_limit), on an injected clock: a
call never leaves before its slot, leaves at most J / 2 after it or takes a new slot, and so
(with at most J / 2 more on the way) no sliding second ever sees more calls than the rate."""

import contextlib
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.payments import rate_limit
from portal.payments.base import TransientGatewayError
from portal.payments.rate_limit import MAX_TRIES, RateLimited, interval


class Clock:
    """Fake time: sleeping advances it by what was asked plus the next oversleep given."""

    def __init__(self, oversleeps=(), reserve_takes=0.0):
        self.now, self.oversleeps = 1000.0, list(oversleeps)
        self.reserve_takes = reserve_takes  # the round trip to Redis
        self.slots = {}

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.now += seconds + (self.oversleeps.pop(0) if self.oversleeps else 0.0)

    def reserve(self, key, spacing, redis_url=None):
        """Like the Redis script: the slot is taken at the middle of the round trip."""
        self.now += self.reserve_takes / 2
        slot = max(self.slots.get(key, 0.0), self.now)
        self.slots[key] = slot + spacing
        wait = slot - self.now
        self.now += self.reserve_takes / 2
        return wait


class Gateway:
    def __init__(self, clock, transit=()):
        self.clock, self.transit, self.arrivals = clock, list(transit), []

    def refund(self, *args, **kwargs):
        self.arrivals.append(self.clock() + (self.transit.pop(0) if self.transit else 0.0))
        return "re_1"


def limited(clock, gateway, rate=10, jitter=0.1):
    return RateLimited(gateway, "k", rate, jitter=jitter, sleep=clock.sleep, clock=clock,
                       reserve=clock.reserve)  # fmt: skip


def most_in_a_second(times):
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_slots_are_one_plus_the_jitter_over_the_rate_apart():
    assert interval(10, 0.1) == pytest.approx(0.11)
    assert interval(100, 0.0) == pytest.approx(0.01)
    clock = Clock()
    gateway = Gateway(clock)
    calls = limited(clock, gateway, rate=10, jitter=0.1)
    for _ in range(5):
        calls.refund()
    gaps = [b - a for a, b in zip(gateway.arrivals, gateway.arrivals[1:], strict=False)]
    assert gaps == pytest.approx([0.11] * 4)


def test_a_call_on_time_or_late_within_half_the_allowance_goes_out():
    clock = Clock(oversleeps=[0.0, 0.049])
    gateway = Gateway(clock)
    calls = limited(clock, gateway, jitter=0.1)
    calls.refund()  # the first slot is now: no sleep
    calls.refund()  # sleeps 0.11 s, wakes exactly on time
    assert calls.refund() == "re_1"  # wakes 0.049 s late: within J / 2
    assert gateway.arrivals == pytest.approx([1000.0, 1000.11, 1000.22 + 0.049])
    assert clock.slots["k"] == pytest.approx(1000.0 + 3 * 0.11)  # one slot per call


def test_a_call_that_wakes_too_late_takes_a_new_slot_instead_of_going_out():
    clock = Clock(oversleeps=[0.3])  # the second call's thread wakes 0.3 s after its slot
    gateway = Gateway(clock)
    calls = limited(clock, gateway, jitter=0.1)
    calls.refund()
    calls.refund()
    # Its slot was 1000.11; it woke at 1000.41 and took a new one (the next free, 1000.22,
    # has passed: now), leaving 1000.11 and 1000.22 unused.
    assert gateway.arrivals == pytest.approx([1000.0, 1000.41])
    assert clock.slots["k"] == pytest.approx(1000.41 + 0.11)


def test_lateness_counts_from_when_the_call_asked_not_when_redis_answered():
    # Redis's round trip is 0.04 s: the slot may have been computed as early as the ask, so a
    # wake 0.02 s after the sleep is counted as 0.06 late, over J / 2: a new slot.
    clock = Clock(oversleeps=[0.02], reserve_takes=0.04)
    gateway = Gateway(clock)
    calls = limited(clock, gateway, jitter=0.1)
    calls.refund()  # asked at 1000, slot 1000.02, out at 1000.04 (0.04 late: fine)
    calls.refund()  # slot 1000.13, woke at 1000.17: new slot 1000.24, out at 1000.26
    assert gateway.arrivals == pytest.approx([1000.04, 1000.26])
    assert clock.slots["k"] == pytest.approx(1000.24 + 0.11)


def test_never_before_the_slot():
    clock = Clock(reserve_takes=0.04)
    gateway = Gateway(clock)
    calls = limited(clock, gateway, rate=5, jitter=0.1)
    for _ in range(4):
        calls.refund()
    slots = [1000.02 + n * 0.22 for n in range(4)]  # taken mid-way through each round trip
    assert all(at >= slot - 1e-9 for at, slot in zip(gateway.arrivals, slots, strict=True))
    assert all(at - slot <= 0.05 + 1e-9 for at, slot in zip(gateway.arrivals, slots, strict=True))


def test_a_call_that_cannot_keep_its_slot_gives_up_for_now():
    # Redis answers slower than J / 2: no call could be sure to go out in time, none goes.
    clock = Clock(reserve_takes=0.2)
    gateway = Gateway(clock)
    calls = limited(clock, gateway, jitter=0.1)
    with pytest.raises(TransientGatewayError):
        calls.refund()
    assert gateway.arrivals == []
    assert clock.slots["k"] == pytest.approx(1000.1 + (MAX_TRIES - 1) * 0.2 + 0.11)


@settings(max_examples=300, deadline=None)
@given(
    rate=st.integers(1, 50),
    jitter=st.sampled_from([0.0, 0.05, 0.1, 0.25]),
    calls=st.lists(
        st.tuples(
            st.floats(0, 0.5),  # idle time before the call asks for a slot
            st.floats(0, 0.4),  # how late its thread wakes
            st.floats(0, 1),  # its way to the provider, as a share of J / 2
            st.floats(0, 0.01),  # the round trip to Redis
        ),
        min_size=1,
        max_size=80,
    ),
)
def test_no_sliding_second_ever_sees_more_than_the_rate(rate, jitter, calls):
    clock = Clock()
    gateway = Gateway(clock)
    limit = limited(clock, gateway, rate=rate, jitter=jitter)
    for idle, oversleep, way, round_trip in calls:
        clock.now += idle
        clock.oversleeps = [oversleep] * (MAX_TRIES + 1)
        clock.reserve_takes = round_trip
        gateway.transit = [way * jitter / 2]
        with contextlib.suppress(TransientGatewayError):
            limit.refund()
    assert most_in_a_second(gateway.arrivals) <= rate


def test_in_process_reservations_share_the_slots_between_threads():
    key = "portal:gateway-rate:test:threads"
    rate_limit._local_slots.pop(key, None)
    waits = []
    threads = [
        threading.Thread(target=lambda: waits.append(rate_limit.reserve(key, 0.11)))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waits.sort()
    gaps = [b - a for a, b in zip(waits, waits[1:], strict=False)]
    assert gaps == pytest.approx([0.11] * 9, abs=0.01)
