"""The lease keeper thread: renew the leader lease, follow elections, run periodic chores.

Leadership is judged locally with the monotonic clock: after a failed renewal (store
down) we still lead until ``ttl`` has passed since the last successful renewal began,
then step down, because by then another instance may have taken over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from rms_ml_push.clock import Clock
from rms_ml_push.errors import StoreError
from rms_ml_push.logs import get_logger
from rms_ml_push.store.leases import Lease

_log = get_logger("rms_ml_push.service")


class LeaseKeeper:
    """Renews ``lease`` every ``renew_s``; calls ``on_elected(epoch)`` / ``on_deposed()``."""

    def __init__(
        self,
        lease: Lease,
        *,
        clock: Clock,
        renew_s: float,
        on_elected: Callable[[int], None],
        on_deposed: Callable[[], None],
        chores: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.lease = lease
        self._clock = clock
        self._renew_s = renew_s
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._chores = list(chores)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader = False
        self._epoch: int | None = None
        self._valid_until = 0.0

    @property
    def is_leader(self) -> bool:
        """True while we hold the lease (as far as we can know locally)."""
        return self._leader

    @property
    def epoch(self) -> int | None:
        """The epoch of the lease we hold, or None."""
        return self._epoch if self._leader else None

    def start(self) -> None:
        """Run the first tick now (so a lone instance leads at once), then every renew_s."""
        self.tick()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._renew_s):
            self.tick()

    def tick(self) -> None:
        """One renewal attempt, then the chores."""
        started = self._clock.monotonic()
        try:
            holder = self.lease.acquire()
            refused = holder is None
        except StoreError as exc:
            _log.warning("lease_renew_failed", lease=self.lease.name, error=str(exc))
            holder, refused = None, False
        if holder is not None:
            self._valid_until = started + self.lease.ttl_s
            if not self._leader:
                self._leader, self._epoch = True, holder.epoch
                _log.info("leader_elected", lease=self.lease.name, epoch=holder.epoch)
                self._call(self._on_elected, holder.epoch)
        elif self._leader and (refused or self._clock.monotonic() >= self._valid_until):
            self._step_down("lease_lost")
        for chore in self._chores:
            self._call(chore)

    def _step_down(self, why: str) -> None:
        _log.warning(why, lease=self.lease.name, epoch=self._epoch)
        self._leader = False
        self._call(self._on_deposed)

    def stop(self, *, release: bool = True) -> None:
        """Stop renewing; when leading, step down and release the lease for a successor."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._renew_s + 5)
        if self._leader:
            self._leader = False
            self._call(self._on_deposed)
            if release:
                try:
                    self.lease.release()
                    _log.info("leader_released", lease=self.lease.name, epoch=self._epoch)
                except StoreError as exc:
                    _log.warning("lease_release_failed", error=str(exc))

    @staticmethod
    def _call(func: Callable[..., object], *args: object) -> None:
        try:
            func(*args)
        except Exception as exc:  # a failing chore must not stop the renewals
            _log.error(
                "lease_keeper_callback_failed", error=str(exc), error_type=type(exc).__name__
            )
