"""A bounded rate of calls per gateway account, shared by every worker process and thread.

Each call reserves the next free slot of its account (GCRA with no burst: slots 1/rate seconds
apart) in Redis, atomically (a Lua script, on Redis's own clock), and sleeps until its slot.
So whatever the number of workers, calls leave at most `rate` per second per account, evenly
spaced, in the order they asked. Without Redis (a test app on the in-memory broker) or while
Redis is down, the same reservation is made in this process, so one process still keeps the
rate. The refund code does not know about it: portal.payments.gateway_for() wraps the gateway.
"""

import hashlib
import logging
import threading
import time

import redis

log = logging.getLogger(__name__)

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


def _client(url):
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return _clients[url]


def _reserve_locally(key, interval):
    with _local_lock:
        now = time.monotonic()
        slot = max(_local_slots.get(key, 0.0), now)
        _local_slots[key] = slot + interval
        return slot - now


def reserve(key, per_second, redis_url=None):
    """Seconds to wait before the call that reserves the next slot of `key`."""
    interval = 1.0 / per_second
    if redis_url and redis_url.startswith(("redis://", "rediss://", "unix://")):
        try:
            client = _client(redis_url)
            return client.eval(RESERVE, 1, key, int(interval * 1_000_000)) / 1_000_000
        except redis.RedisError as exc:
            log.warning("gateway rate limit: Redis unavailable (%s), limiting in-process", exc)
    return _reserve_locally(key, interval)


class RateLimited:
    """A gateway whose refund() waits for its account's next slot first."""

    def __init__(self, gateway, key, per_second, redis_url=None, sleep=time.sleep):
        self.gateway, self.key, self.per_second = gateway, key, per_second
        self.redis_url, self.sleep = redis_url, sleep

    def refund(self, *args, **kwargs):
        wait = reserve(self.key, self.per_second, self.redis_url)
        if wait > 0:
            self.sleep(wait)
        return self.gateway.refund(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.gateway, name)
