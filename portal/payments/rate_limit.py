"""A bounded rate of calls per gateway account, shared by every worker process and thread.

Each call reserves the next free slot of its account in Redis, atomically (a Lua script, on
Redis's own clock), sleeps until its slot and only then calls the gateway. Without Redis (a
test app on the in-memory broker) or while Redis is down, the same reservation is made in this
process, so one process still keeps the rate. The refund code does not know about it:
portal.payments.gateway_for() wraps the gateway.

Why no window of one second ever holds more than `rate` calls (counted where they arrive, at
the provider, in any sliding window, not only in calendar seconds):

- Slots are `(1 + J) / rate` seconds apart (J: GATEWAY_RATE_JITTER, 0.1 s by default), each
  given to one call only. So any `rate + 1` slots span at least `rate * (1 + J) / rate = 1 + J`
  seconds.
- A call never leaves before its slot (it sleeps until the slot measured from when Redis's
  answer arrived, which is after Redis computed it), and it leaves at most J after it: when it
  wakes, it checks how late it is against the earliest moment its slot could have been (when it
  asked); later than J / 2 (a thread that waited for the GIL, a stalled process), it does not
  go out late but takes a new slot (the old one stays unused, which only spreads calls out).
  The other J / 2 is for the way from that check to the provider (building the request,
  the socket, loopback or the network's one-way time).
- So every call arrives within [slot, slot + J]; any `rate + 1` arrivals come from `rate + 1`
  distinct slots spanning at least 1 + J seconds, hence they span at least 1 + J - J = 1 s:
  no half-open window of 1 s holds more than `rate` of them.

The price is a cap of `rate / (1 + J)` calls per second (18.2/s at the default 20/s). A call
that has to take a new slot MAX_TRIES times in a row gives up with a transient error (the
outbox retries it later) rather than go out late. The assumption the argument rests on is the
J / 2 from check to arrival, which is what the jitter allowance is for: raise it where the
network to the provider is slow or uneven. (A retry past Stripe's idempotency window, rare,
lists the payment's refunds before creating one: two calls in one slot.)
"""

import hashlib
import logging
import threading
import time

import redis

from portal.payments.base import TransientGatewayError

log = logging.getLogger(__name__)

JITTER = 0.1  # seconds a call may arrive after its slot (GATEWAY_RATE_JITTER)
MAX_TRIES = 5  # new slots a call takes for waking too late before it gives up for now

# KEYS[1]: the account's key; ARGV[1]: microseconds between calls. Returns microseconds to wait.
RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000000 + tonumber(now[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < t then slot = t end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor((slot + interval - t) / 1000) + 1000)
return slot - t
"""

_clients = {}
_local_slots = {}
_local_lock = threading.Lock()


def account_key(gateway_name, credential):
    """The Redis key of an account: the gateway's name and a digest of its credential."""
    digest = hashlib.sha256((credential or "").encode()).hexdigest()[:16]
    return f"portal:gateway-rate:{gateway_name}:{digest}"


def interval(per_second, jitter=JITTER):
    """Seconds between two slots: (1 + J) / rate, so rate + 1 slots span 1 + J seconds."""
    return (1.0 + jitter) / per_second


def _client(url):
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return _clients[url]


def _reserve_locally(key, spacing):
    with _local_lock:
        now = time.monotonic()
        slot = max(_local_slots.get(key, 0.0), now)
        _local_slots[key] = slot + spacing
        return slot - now


def reserve(key, spacing, redis_url=None):
    """Seconds from now to the slot just reserved for `key`, slots `spacing` seconds apart."""
    if redis_url and redis_url.startswith(("redis://", "rediss://", "unix://")):
        try:
            client = _client(redis_url)
            return client.eval(RESERVE, 1, key, int(spacing * 1_000_000)) / 1_000_000
        except redis.RedisError as exc:
            log.warning("gateway rate limit: Redis unavailable (%s), limiting in-process", exc)
    return _reserve_locally(key, spacing)


class RateLimited:
    """A gateway whose refund() waits for its account's next slot first, and goes out no later
    than half the jitter allowance after it (see the module's docstring)."""

    def __init__(self, gateway, key, per_second, redis_url=None, jitter=JITTER,
                 sleep=time.sleep, clock=time.monotonic, reserve=reserve):  # fmt: skip
        self.gateway, self.key, self.per_second = gateway, key, per_second
        self.redis_url, self.jitter = redis_url, jitter
        self.sleep, self.clock, self.reserve = sleep, clock, reserve
        self.spacing = interval(per_second, jitter)

    def wait_for_slot(self):
        """Sleep until a slot of our own; returns how late we woke (<= jitter / 2)."""
        allowed = self.jitter / 2
        for tries in range(1, MAX_TRIES + 1):
            asked = self.clock()
            wait = self.reserve(self.key, self.spacing, self.redis_url)
            answered = self.clock()
            left = answered + wait - self.clock()  # never before the slot
            if left > 0:
                self.sleep(left)
            late = self.clock() - (asked + wait)  # against the earliest the slot can be
            if late <= allowed:
                return late
            log.warning("gateway rate limit: woke %.3fs after the slot (allowed %.3fs), "
                        "taking a new one (try %s)", late, allowed, tries)  # fmt: skip
        raise TransientGatewayError(
            f"No gateway slot could be kept in {MAX_TRIES} tries (the worker is too busy)."
        )

    def refund(self, *args, **kwargs):
        self.wait_for_slot()
        return self.gateway.refund(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.gateway, name)
