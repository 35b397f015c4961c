"""Named leases in the store (the leader lease): one upsert, no advisory locks.

Acquire and renew are the same statement::

    INSERT ... ON CONFLICT (name) DO UPDATE SET ...
    WHERE leases.owner = :me OR leases.expires_at < :now
    RETURNING owner, epoch, expires_at

PostgreSQL re-checks the WHERE clause against the latest committed row after waiting for
a concurrent upsert's row lock, and SQLite serialises writers with ``BEGIN IMMEDIATE``, so
at most one owner holds an unexpired lease. The epoch grows by one at every change of
owner: work stamped with an epoch can be told apart from a deposed leader's.

Expiry is judged by the instances' wall clocks (``Clock``), so their skew must stay well
below the lease bound (NTP keeps it in milliseconds). Advisory locks are not used: they
break behind transaction-pooling proxies (``design.md``, issue 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from rms_ml_push.clock import Clock
from rms_ml_push.errors import StoreError
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import leases
from rms_ml_push.store.types import UtcDateTime

LEADER = "leader"

_UPSERT = (
    sa.text(
        """
    INSERT INTO leases (name, owner, epoch, acquired_at, renewed_at, expires_at)
    VALUES (:name, :owner, 1, :now, :now, :expires)
    ON CONFLICT (name) DO UPDATE SET
        epoch = CASE WHEN leases.owner = excluded.owner
                     THEN leases.epoch ELSE leases.epoch + 1 END,
        acquired_at = CASE WHEN leases.owner = excluded.owner
                           THEN leases.acquired_at ELSE excluded.acquired_at END,
        owner = excluded.owner,
        renewed_at = excluded.renewed_at,
        expires_at = excluded.expires_at
    WHERE leases.owner = excluded.owner OR leases.expires_at < excluded.renewed_at
    RETURNING owner, epoch, expires_at
    """
    )
    .bindparams(
        sa.bindparam("now", type_=UtcDateTime()),
        sa.bindparam("expires", type_=UtcDateTime()),
    )
    .columns(owner=sa.String, epoch=sa.Integer, expires_at=UtcDateTime())
)


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, from which epoch, until when (UTC)."""

    name: str
    owner: str
    epoch: int
    expires_at: datetime


class Lease:
    """One named lease for one owner: ``acquire`` (also renews), ``release``, ``holder``."""

    def __init__(
        self, store: Store, *, owner: str, clock: Clock, ttl_s: float, name: str = LEADER
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("lease ttl_s must be > 0")
        self.store = store
        self.owner = owner
        self.clock = clock
        self.ttl_s = ttl_s
        self.name = name

    def acquire(self) -> LeaseHolder | None:
        """Take or renew the lease; the holder (us) or None when another owner holds it."""
        now = self.clock.now()
        params = {
            "name": self.name,
            "owner": self.owner,
            "now": now,
            "expires": now + timedelta(seconds=self.ttl_s),
        }
        try:
            with self.store.write() as conn:
                row = conn.execute(_UPSERT, params).first()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"lease {self.name}: acquire failed: {type(exc).__name__}") from exc
        if row is None:
            return None
        return LeaseHolder(self.name, row.owner, row.epoch, row.expires_at)

    def release(self) -> bool:
        """Expire our lease now so a successor need not wait; False if we did not hold it."""
        now = self.clock.now()
        stmt = (
            sa.update(leases)
            .where(leases.c.name == self.name, leases.c.owner == self.owner)
            .where(leases.c.expires_at >= now)
            .values(expires_at=now - timedelta(microseconds=1), renewed_at=now)
        )
        try:
            with self.store.write() as conn:
                return conn.execute(stmt).rowcount == 1
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"lease {self.name}: release failed: {type(exc).__name__}") from exc

    def holder(self) -> LeaseHolder | None:
        """The current unexpired holder, whoever it is, or None."""
        stmt = sa.select(leases.c.owner, leases.c.epoch, leases.c.expires_at).where(
            leases.c.name == self.name
        )
        with self.store.read() as conn:
            row = conn.execute(stmt).first()
        if row is None or row.expires_at < self.clock.now():
            return None
        return LeaseHolder(self.name, row.owner, row.epoch, row.expires_at)
