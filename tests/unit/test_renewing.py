"""portal.db.renewing(): a lease's renewals while a block runs, scheduled by one watcher thread
per process, each renewal in a thread of its own. Renewals happen while the block runs, stop
when it ends (a running one is waited for) or when one says the claim is no longer ours, go
on after one that failed, and a stuck renewal of one lease never holds up another's."""

import threading

from portal.db import renewing
from tests.waiting import wait_until

EVERY = 0.05


class Counter:
    def __init__(self, answer=True, gate=None, fail_first=0):
        self.calls, self.answer, self.gate, self.fail_first = 0, answer, gate, fail_first
        self.lock = threading.Lock()
        self.threads = set()

    def __call__(self):
        with self.lock:
            self.calls += 1
            calls = self.calls
        self.threads.add(threading.current_thread().name)
        if self.gate is not None:
            self.gate.wait(30)
        if calls <= self.fail_first:
            raise RuntimeError("database busy")
        return self.answer


def test_renewals_run_while_the_block_runs_and_stop_when_it_ends():
    renew = Counter()
    with renewing(renew, EVERY, name="test-lease"):
        wait_until(lambda: renew.calls >= 3, 30, message="three renewals")
    after = renew.calls
    threading.Event().wait(EVERY * 6)
    assert renew.calls == after
    assert renew.threads == {"test-lease"}  # each in a thread of its own, named after the lease


def test_a_block_that_ends_before_its_first_renewal_is_never_renewed():
    renew = Counter()
    for _ in range(200):
        with renewing(renew, EVERY * 4):
            pass
    threading.Event().wait(EVERY * 8)
    assert renew.calls == 0


def test_renewing_stops_when_the_claim_is_no_longer_ours():
    renew = Counter(answer=False)
    with renewing(renew, EVERY):
        wait_until(lambda: renew.calls >= 1, 30, message="the first renewal")
        threading.Event().wait(EVERY * 6)
        assert renew.calls == 1


def test_a_renewal_that_failed_is_tried_again():
    renew = Counter(fail_first=2)
    with renewing(renew, EVERY):
        wait_until(lambda: renew.calls >= 4, 30, message="renewals after two failures")


def test_a_stuck_renewal_never_holds_up_another_lease():
    gate = threading.Event()
    stuck, other = Counter(gate=gate), Counter()
    done = threading.Event()

    def hold_stuck_lease():
        with renewing(stuck, EVERY):
            wait_until(lambda: stuck.calls >= 1, 30, message="the stuck renewal")
            done.wait(30)

    holder = threading.Thread(target=hold_stuck_lease)
    holder.start()
    try:
        wait_until(lambda: stuck.calls >= 1, 30, message="the stuck renewal")
        with renewing(other, EVERY):
            wait_until(lambda: other.calls >= 3, 30, message="the other lease's renewals")
        assert stuck.calls == 1
    finally:
        done.set()
        gate.set()
        holder.join(30)


def test_the_block_waits_for_a_renewal_still_running():
    gate = threading.Event()
    renew = Counter(gate=gate)
    events = []

    def release_later():
        wait_until(lambda: renew.calls >= 1, 30, message="the renewal")
        threading.Event().wait(EVERY * 4)  # the block has ended by now, unless it waits
        events.append("released")
        gate.set()

    releaser = threading.Thread(target=release_later)
    releaser.start()
    with renewing(renew, EVERY):
        wait_until(lambda: renew.calls >= 1, 30, message="the renewal")
    events.append("block ended")
    releaser.join(30)
    assert events == ["released", "block ended"]
    threading.Event().wait(EVERY * 4)
    assert renew.calls == 1
