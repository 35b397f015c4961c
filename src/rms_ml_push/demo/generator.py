"""Generate a demo RMS database: schema, then one restaurant at a time, then indexes.

Public API::

    generate_demo(engine, config, replace=False) -> DemoSummary   # write into a database
    iter_restaurants(config) -> Iterator[RestaurantData]          # frames, no database

Memory stays bounded by one restaurant's rows: each is generated, written and committed
before the next starts.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.restaurant import Ids, RestaurantData, generate_restaurant
from rms_ml_push.demo.schema import (
    create_demo_schema,
    create_indexes,
    drop_demo_tables,
    has_rms_orders,
)
from rms_ml_push.demo.writer import DemoWriter
from rms_ml_push.errors import RmsMlPushError


class DemoTargetNotEmptyError(RmsMlPushError):
    """The target database already has an RMS ``orders`` table; pass replace to overwrite."""


@dataclass
class DemoSummary:
    """What was written: rows per table, dirty rows per kind, expected conditions, time."""

    rows: dict[str, int] = field(default_factory=dict)
    dirty: dict[str, int] = field(default_factory=dict)
    conditions: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, data: RestaurantData, rows: dict[str, int]) -> None:
        """Fold one restaurant's counts in."""
        for key, n in rows.items():
            self.rows[key] = self.rows.get(key, 0) + n
        for key, n in data.dirty.items():
            self.dirty[key] = self.dirty.get(key, 0) + n
        for key, n in data.conditions.items():
            self.conditions[key] = self.conditions.get(key, 0) + n

    @property
    def total_rows(self) -> int:
        """Rows written over all tables."""
        return sum(self.rows.values())


def iter_restaurants(config: DemoConfig) -> Iterator[RestaurantData]:
    """Each restaurant's frames in order, without touching a database."""
    ids = Ids()
    for index in range(config.restaurants):
        yield generate_restaurant(index, config, ids)


_STOP = None


def _write_pipelined(engine: sa.Engine, config: DemoConfig) -> DemoSummary:
    """Generate in this thread while a writer thread loads the previous restaurant.

    The queue holds one restaurant, so at most three are in memory (generating, queued,
    being written). Database waits (COPY, executemany) release the GIL, so the two overlap.
    """
    summary = DemoSummary()
    pending: queue.Queue[RestaurantData | None] = queue.Queue(maxsize=1)
    failures: list[BaseException] = []

    def consume() -> None:
        try:
            with DemoWriter(engine, config.tables) as writer:
                while (data := pending.get()) is not _STOP:
                    rows = {key: writer.write(key, frame) for key, frame in data.frames.items()}
                    writer.commit()
                    summary.add(data, rows)
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)
            while pending.get() is not _STOP:  # keep draining so the producer never blocks
                pass

    thread = threading.Thread(target=consume, name="demo-writer", daemon=True)
    thread.start()
    try:
        for data in iter_restaurants(config):
            if failures:
                break
            pending.put(data)
    finally:
        pending.put(_STOP)
        thread.join()
    if failures:
        raise failures[0]
    return summary


def generate_demo(engine: sa.Engine, config: DemoConfig, *, replace: bool = False) -> DemoSummary:
    """Create the schema and write the demo data; refuses a database with RMS orders."""
    started = time.monotonic()
    if has_rms_orders(engine, config.tables):
        if not replace:
            raise DemoTargetNotEmptyError(
                f"the database already has an RMS orders table ({config.tables.orders}); "
                "refusing to write demo data into it (use --replace to drop and recreate "
                "the demo tables)"
            )
        drop_demo_tables(engine, config.tables)
    create_demo_schema(engine, config.tables, movements=config.movements)
    summary = _write_pipelined(engine, config)
    create_indexes(engine, config.tables, movements=config.movements)
    summary.seconds = time.monotonic() - started
    return summary
