"""Login throttling that slows a password guesser without handing anyone a lock-out tool.

Only failures count. Per (account, address) pair, the first few failures are free; each one after that
makes the next attempt from that pair wait, doubling from one second to fifteen minutes, and a success
clears the pair. So someone hammering an account from their address is slowed to a crawl while its owner,
from their own address, still logs in, and an office behind one address never trips over its own
successful logins at shift change. Per address, failures against any account are capped too (a higher
ceiling, in a sliding window), so one address cannot spray a common password over every account.

Kept in the memory of each API process (see docs/DEPLOY.md): with N replicas behind a load balancer that
spreads one client's requests, that client gets up to N times the free failures and N times the address
ceiling. State is lost on restart, which only ever lets someone in sooner.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from backend.errors import TooManyRequests

# The wait after the first failure beyond the free ones; it doubles with each further failure.
BACKOFF_START_SECONDS = 1.0
# The longest wait: about four guesses an hour for a pair that keeps failing.
BACKOFF_MAX_SECONDS = 15 * 60.0
# A pair quiet for this long starts afresh (its owner mistyping tomorrow is not punished for today).
PAIR_MEMORY_SECONDS = 3600.0
# The window of the per-address ceiling.
ADDRESS_WINDOW_SECONDS = 15 * 60.0
# Beyond this many tracked pairs or addresses, forget the ones idle longest: memory stays bounded however
# many usernames and addresses a scan makes up.
MAX_TRACKED = 100_000


@dataclass
class _Pair:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class LoginThrottle:
    """Failure-only login throttling per (account, address) with backoff, and a per-address ceiling."""

    def __init__(
        self,
        *,
        free_failures: int,
        failures_per_address: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.free_failures = free_failures
        self.failures_per_address = failures_per_address
        self.clock = clock
        self._pairs: OrderedDict[tuple[str, str], _Pair] = OrderedDict()
        self._addresses: OrderedDict[str, deque[float]] = OrderedDict()

    @staticmethod
    def _account(username: str) -> str:
        return username.strip().casefold()

    def _address_window(self, address: str, now: float) -> deque[float]:
        window = self._addresses.get(address)
        if window is None:
            return deque()
        while window and now - window[0] >= ADDRESS_WINDOW_SECONDS:
            window.popleft()
        return window

    def check(self, username: str, address: str) -> None:
        """Refuse (TooManyRequests, with Retry-After) an attempt this pair or address must wait for."""
        now = self.clock()
        pair = self._pairs.get((self._account(username), address))
        if pair is not None and now < pair.blocked_until:
            raise TooManyRequests(
                "too many wrong passwords for this account from here; wait before trying again",
                retry_after=math.ceil(pair.blocked_until - now),
            )
        window = self._address_window(address, now)
        if len(window) >= self.failures_per_address:
            raise TooManyRequests(
                "too many wrong passwords from this address; wait before trying again",
                retry_after=math.ceil(window[0] + ADDRESS_WINDOW_SECONDS - now),
            )

    def failed(self, username: str, address: str) -> None:
        """Count a wrong password; past the free ones, the pair waits before its next attempt."""
        now = self.clock()
        key = (self._account(username), address)
        pair = self._pairs.pop(key, None) or _Pair()
        if now - pair.last_failure >= PAIR_MEMORY_SECONDS:
            pair.failures = 0
        pair.failures += 1
        pair.last_failure = now
        beyond = pair.failures - self.free_failures
        if beyond > 0:
            wait = min(BACKOFF_START_SECONDS * 2 ** min(beyond - 1, 30), BACKOFF_MAX_SECONDS)
            pair.blocked_until = now + wait
        self._pairs[key] = pair  # re-inserted at the end: most recently active last
        window = self._address_window(address, now)
        window.append(now)
        self._addresses.pop(address, None)
        self._addresses[address] = window
        self._bound(now)

    def succeeded(self, username: str, address: str) -> None:
        """A right password clears the pair (the address's failures against other accounts still count)."""
        self._pairs.pop((self._account(username), address), None)

    def _bound(self, now: float) -> None:
        if len(self._pairs) > MAX_TRACKED:
            for key in [k for k, p in self._pairs.items() if now - p.last_failure >= PAIR_MEMORY_SECONDS]:
                del self._pairs[key]
            while len(self._pairs) > MAX_TRACKED:
                self._pairs.popitem(last=False)
        if len(self._addresses) > MAX_TRACKED:
            for address in [
                a for a, w in self._addresses.items() if not w or now - w[-1] >= ADDRESS_WINDOW_SECONDS
            ]:
                del self._addresses[address]
            while len(self._addresses) > MAX_TRACKED:
                self._addresses.popitem(last=False)
