"""``rms-ml-push store migrate|prune``: the service's own store."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rms_ml_push.cli._common import EXIT_OK, print_json

if TYPE_CHECKING:
    from rms_ml_push.config import Settings
    from rms_ml_push.store.engine import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``store``."""
    store = sub.add_parser("store", help="the service's own store (outbox, runs, registry)")
    store_sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    migrate = store_sub.add_parser("migrate", help="apply schema migrations (idempotent)")
    migrate.set_defaults(handler=_migrate)
    prune = store_sub.add_parser(
        "prune", help="delete delivered messages and their attempts older than the retention"
    )
    prune.add_argument(
        "--older-than-days",
        type=float,
        default=None,
        help="override RMS_ML_DELIVERY__RETENTION_DAYS for this run",
    )
    prune.set_defaults(handler=_prune)


def open_store(settings: Settings) -> Store:
    """The store, migrated to the newest schema (every store command starts here)."""
    from rms_ml_push.store.engine import Store  # noqa: PLC0415
    from rms_ml_push.store.migrate import migrate  # noqa: PLC0415

    store = Store.from_url(settings.store_url.get_secret_value())
    migrate(store)
    return store


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.store.migrate import current_revision  # noqa: PLC0415

    store = open_store(settings)
    try:
        print_json({"revision": current_revision(store)})
    finally:
        store.dispose()
    return EXIT_OK


def _prune(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta  # noqa: PLC0415

    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.store.messages import prune  # noqa: PLC0415

    days = args.older_than_days or settings.delivery.retention_days
    cutoff = SystemClock().now() - timedelta(days=days)
    store = open_store(settings)
    try:
        with store.write() as conn:
            deleted, attempts = prune(conn, delivered_before=cutoff)
    finally:
        store.dispose()
    print_json({"messages_deleted": deleted, "attempts_deleted": attempts, "cutoff": cutoff})
    return EXIT_OK
