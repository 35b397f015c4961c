"""Extract queries: one method per contract table, typed pandas frames for a time window.

Windows are half-open, ``since <= t < until`` on the table's event time; ``since=None``
reads all history (real RMS histories reach back to the 1990s) and ``until=None`` up to
the newest row. Rows stream from the database in chunks of ``chunk_rows`` (a server-side
cursor on PostgreSQL) and are typed chunk by chunk, so only compact typed frames are held.
Use the ``iter_*`` form of a query to process chunk by chunk with bounded memory.

Only contract columns are ever selected (:mod:`rms_ml_push.rms.tables`); no PII.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rms_ml_push.config import Settings
from rms_ml_push.errors import RmsError, RmsSchemaError
from rms_ml_push.rms.engine import create_rms_engine, unavailable
from rms_ml_push.rms.frames import empty_frame, typed_frame
from rms_ml_push.rms.pgcopy import copy_chunks
from rms_ml_push.rms.queries import Query, QueryBuilder
from rms_ml_push.rms.tables import RmsTableSet, build_tables, split_name


class RmsReader:
    """Reads the RMS through a read-only engine; every method returns a typed DataFrame."""

    def __init__(self, engine: Engine, tables: RmsTableSet, *, chunk_rows: int = 100_000) -> None:
        self.engine = engine
        self.tables = tables
        self.chunk_rows = chunk_rows
        self._q = QueryBuilder(tables, engine.dialect.name)

    @classmethod
    def from_settings(cls, settings: Settings) -> RmsReader:
        """Engine and table map from settings (RMS_ML_RMS_URL must be set)."""
        engine = create_rms_engine(settings.require_rms_url(), settings.rms)
        return cls(engine, build_tables(settings.rms_tables), chunk_rows=settings.rms.chunk_rows)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    @property
    def pushes_down(self) -> bool:
        """Whether bucketed statements (``rms.demand_sql``) run here: PostgreSQL only."""
        return self.engine.dialect.name == "postgresql"

    def fetch(self, query: Query) -> pd.DataFrame:
        """A prepared statement's rows as one typed frame (e.g. ``rms.demand_sql``'s)."""
        return self._frame(query)

    # -- dimensions (no time window) -------------------------------------------------------

    def restaurants(self) -> pd.DataFrame:
        """Columns: id int64, name object, timezone object (IANA name)."""
        return self._frame(self._q.restaurants())

    def menu_items(self, restaurant_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Columns: id, restaurant_id int64, name, category (object, None allowed),
        price float64, is_active bool."""
        return self._frame(self._q.menu_items(restaurant_ids))

    def kitchen_stations(self, restaurant_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Columns: id, restaurant_id int64, name object."""
        return self._frame(self._q.kitchen_stations(restaurant_ids))

    def customer_profiles(self) -> pd.DataFrame:
        """Columns: id int64, restaurant_id Int64 (NA: chain-wide), created_at UTC,
        loyalty_tier object (None allowed), loyalty_points Int64."""
        return self._frame(self._q.customer_profiles())

    def inventory_items(self, restaurant_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """Columns: id, restaurant_id int64, name, unit object, reorder_level float64
        (NaN allowed), lead_time_days int64, unit_cost float64 (NaN allowed)."""
        return self._frame(self._q.inventory_items(restaurant_ids))

    def recipe_components(self) -> pd.DataFrame:
        """Columns: menu_item_id, inventory_item_id int64, quantity float64."""
        return self._frame(self._q.recipe_components())

    # -- events (time window) ---------------------------------------------------------------

    def orders(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        restaurant_ids: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Window on created_at. Columns: id, restaurant_id int64, customer_id Int64,
        created_at UTC, closed_at UTC (NaT allowed), status, channel object,
        guest_count Int64, total_amount float64."""
        return self._frame(self._q.orders(since, until, restaurant_ids))

    def order_lines(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        restaurant_ids: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """order_items joined to their order; window on the order's created_at.

        Columns: id, order_id, menu_item_id int64, quantity int64, unit_price float64,
        is_voided bool, restaurant_id int64, customer_id Int64, created_at UTC (the
        order's), status object (the order's), channel object. A line whose order does not
        exist has no time or restaurant and is not part of any window.
        """
        return self._frame(self._q.order_lines(since, until, restaurant_ids))

    def iter_order_lines(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        restaurant_ids: Sequence[int] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """:meth:`order_lines`, one typed frame per chunk of at most ``chunk_rows`` rows."""
        return self._chunks(self._q.order_lines(since, until, restaurant_ids))

    def kitchen_tickets(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        restaurant_ids: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """order_item_stations with the line's item; window on queued_at.

        Columns: id, order_item_id, station_id int64, queued_at UTC, started_at UTC (NaT
        allowed), completed_at UTC (NaT allowed), order_id Int64, menu_item_id Int64,
        quantity Int64, restaurant_id Int64 (NA when the line or order is missing).
        """
        return self._frame(self._q.kitchen_tickets(since, until, restaurant_ids))

    def payments(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        restaurant_ids: Sequence[int] | None = None,
        *,
        status: str | None = None,
    ) -> pd.DataFrame:
        """Window on paid_at; only payments of those restaurants' orders when given, only
        one ``status`` when given (filtered in SQL, so a job that needs the refunds does
        not read every payment). Columns: id, order_id int64, method object, amount
        float64, paid_at UTC, status object."""
        return self._frame(self._q.payments(since, until, restaurant_ids, status))

    def inventory_batches(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> pd.DataFrame:
        """Window on received_at. Columns: id, inventory_item_id int64, received_at UTC,
        quantity_received, quantity_remaining float64, expires_at UTC (NaT allowed),
        unit_cost float64 (NaN allowed)."""
        return self._frame(self._q.inventory_batches(since, until))

    def has_inventory_movements(self) -> bool:
        """Whether the optional inventory_movements table exists (absent is not an error)."""
        schema, name = split_name(self.tables.names.inventory_movements)
        try:
            with self.engine.connect() as conn:
                return bool(sa.inspect(conn).has_table(name, schema=schema))
        except sa.exc.DBAPIError as exc:
            raise unavailable(self.engine, exc) from exc

    def unique_ids(self, canonical: Sequence[str]) -> frozenset[str]:
        """Those of the canonical tables whose ``id`` the database keeps unique (a primary
        key or unique index on ``id`` alone): no row of them can be a duplicate_row."""
        unique: set[str] = set()
        try:
            with self.engine.connect() as conn:
                inspector = sa.inspect(conn)
                for name in canonical:
                    schema, table = split_name(getattr(self.tables.names, name))
                    pk = inspector.get_pk_constraint(table, schema=schema)
                    keys: list[list[str | None]] = [list(pk["constrained_columns"])]
                    indexes = inspector.get_indexes(table, schema=schema)
                    keys += [list(i["column_names"]) for i in indexes if i["unique"]]
                    constraints = inspector.get_unique_constraints(table, schema=schema)
                    keys += [list(c["column_names"]) for c in constraints]
                    if ["id"] in keys:
                        unique.add(name)
        except sa.exc.DBAPIError as exc:
            raise unavailable(self.engine, exc) from exc
        return frozenset(unique)

    def inventory_movements(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> pd.DataFrame:
        """Window on occurred_at. Columns: id, inventory_item_id int64, occurred_at UTC,
        quantity_delta float64, reason object. Empty (typed) when the table is absent."""
        query = self._q.inventory_movements(since, until)
        if not self.has_inventory_movements():
            return empty_frame(query.kinds)
        return self._frame(query)

    # -- plumbing ---------------------------------------------------------------------------

    def _frame(self, query: Query) -> pd.DataFrame:
        frames = list(self._chunks(query))
        if not frames:
            return empty_frame(query.kinds)
        if len(frames) == 1:
            return frames[0]
        return pd.concat(frames, ignore_index=True)

    def _chunks(self, query: Query) -> Iterator[pd.DataFrame]:
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    for name, value in query.planner.items():
                        conn.execute(sa.text(f"SET LOCAL {name} = '{value}'"))
                    yield from copy_chunks(
                        conn, query.stmt, query.kinds, query.what, self.chunk_rows
                    )
                    return
                result = conn.execution_options(yield_per=self.chunk_rows).execute(query.stmt)
                for rows in result.partitions():
                    yield typed_frame(rows, query.kinds, query.what)
        except (sa.exc.DBAPIError, psycopg.Error) as exc:
            raise self._classify(exc, query.what) from exc

    def _classify(self, exc: Exception, what: str) -> RmsError:
        orig = getattr(exc, "orig", None) or exc
        reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        # A table or column that is not there is the operator's map, not an outage
        # (sqlite3 reports it as an OperationalError, psycopg as a ProgrammingError).
        missing = isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn)
        if missing or reason.startswith(("no such table", "no such column")):
            return RmsSchemaError(
                f"{what}: {reason}; check RMS_ML_RMS_TABLES__* (run `rms-ml-push config check`)"
            )
        return unavailable(self.engine, exc)
