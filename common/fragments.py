"""Rendered page fragments kept in the web process's memory, valid for one *generation*.

Some regions (the managers' overdue dashboard) cost tens of milliseconds of queries and
rendering and are polled every minute by every manager's open tab. They are cached here:

- The HTML stays in the process that rendered it (a local-memory cache): patient data is never
  copied into Redis or any other shared store.
- Redis holds only a random token per fragment family, the *generation*. Any change that can
  alter the fragment replaces the token (``bump``, after the transaction commits), so every
  web process stops using its copies at once.
- Each copy also expires after ``ttl`` seconds, a ceiling on staleness for a change no signal
  reports.
- ``GENEGATE_FRAGMENT_CACHE=0`` turns it off (the benchmark measures both ways).
- When Redis cannot be reached the generation is unknown and nothing is cached or served from
  cache in that process: its pages are computed fresh. After a failure the process leaves Redis
  alone for 5 s rather than wait on it for every save and page.
- A renewal lost to a brief Redis failure leaves copies in other processes for at most their
  TTL: the TTL is the ceiling on staleness in every case.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import transaction

log = logging.getLogger(__name__)

_clients: dict[str, redis.Redis] = {}
_WARN_EVERY_SECONDS = 60.0
_last_warned: dict[str, float] = {}
# After a failure, Redis is not asked again for this long: a Redis that times out (rather than
# refusing) would otherwise cost every save and every page 0.25 s.
_RETRY_AFTER_SECONDS = 5.0
_down_until = 0.0


def _redis_resting() -> bool:
    return time.monotonic() < _down_until


def _failed(what: str, exc: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + _RETRY_AFTER_SECONDS
    _warn(what, exc)


def _warn(what: str, exc: Exception) -> None:
    """Log a Redis failure at most once a minute per kind (a page a second must not flood the
    log while Redis is down; /healthz reports the outage)."""
    now = time.monotonic()
    if now - _last_warned.get(what, -_WARN_EVERY_SECONDS) >= _WARN_EVERY_SECONDS:
        _last_warned[what] = now
        log.warning("fragment cache: %s (%s); serving uncached until Redis answers", what, type(exc).__name__)


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=0.25, socket_timeout=0.25, health_check_interval=30
        )
    return _clients[url]


def _gen_key(family: str) -> str:
    return f"gg:gen:{family}"


def generation(family: str) -> str | None:
    """The current token of ``family``, created if missing; None when Redis is unreachable."""
    if _redis_resting():
        return None
    try:
        client = _redis()
        token = client.get(_gen_key(family))
        if token is None:
            client.set(_gen_key(family), uuid.uuid4().hex, nx=True)
            token = client.get(_gen_key(family))
        return token.decode() if token is not None else None
    except redis.RedisError as exc:
        _failed(f"generation of {family} unavailable", exc)
        return None


def _bump_now(family: str) -> None:
    if _redis_resting():
        return  # nothing is served from cache in this process meanwhile; copies elsewhere expire
    try:
        _redis().set(_gen_key(family), uuid.uuid4().hex)
    except redis.RedisError as exc:
        # Copies made before Redis went away expire within their TTL; while Redis is away
        # nothing is served from cache (generation() returns None).
        _failed(f"could not renew {family}", exc)


def bump(family: str) -> None:
    """Invalidate every cached fragment of ``family`` now and again when the current
    transaction commits: a page rendered in between (from data not yet committed) is cached
    under the first token only, so the second renewal drops it. One renewal after commit per
    transaction and family, however many rows it saves."""
    _bump_now(family)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    if any(getattr(func, "_genegate_family", None) == family for _sids, func, _robust in connection.run_on_commit):
        return  # already queued for this transaction (a rollback empties the queue)

    def after_commit() -> None:
        _bump_now(family)

    after_commit._genegate_family = family  # type: ignore[attr-defined]
    transaction.on_commit(after_commit)


def cached_fragment(family: str, parts: tuple, ttl: int, render: Callable[[], str]) -> str:
    """The fragment for ``parts`` (everything it depends on besides the data), from this
    process's cache when the generation still matches, otherwise rendered and kept."""
    if not settings.FRAGMENT_CACHE:
        return render()
    token = generation(family)
    if token is None:
        return render()
    key = f"gg:frag:{family}:{token}:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    store = caches["fragments"]
    html = store.get(key)
    if html is None:
        html = render()
        store.set(key, html, ttl)
    return html


def clear() -> None:
    """Forget this process's fragments (tests)."""
    caches["fragments"].clear()
