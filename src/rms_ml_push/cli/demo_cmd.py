"""``rms-ml-push demo-data``: write a synthetic RMS database (SQLite or PostgreSQL)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

from rms_ml_push.cli._common import EXIT_CONFIG, EXIT_OK, print_json, print_table

# The generator gives roles (sparse, new, retired, deleted) to the first nine dishes.
MIN_MENU_ITEMS = 12

if TYPE_CHECKING:
    from rms_ml_push.config import Settings


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _days(text: str) -> int:
    value = _positive(text)
    if value < 7:
        raise argparse.ArgumentTypeError(f"at least 7 days of history: {value}")
    return value


def _menu_items(text: str) -> int:
    value = _positive(text)
    if value < MIN_MENU_ITEMS:
        raise argparse.ArgumentTypeError(
            f"at least {MIN_MENU_ITEMS} menu items (sparse, new, retired and deleted dishes "
            f"are drawn from them): {value}"
        )
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo-data``."""
    cmd = sub.add_parser(
        "demo-data",
        help="write a realistic synthetic RMS database (for development and demos)",
        description=(
            "Create the RMS schema of the data contract (table names from "
            "RMS_ML_RMS_TABLES__*) and fill it with deterministic synthetic data, dirty "
            "data included. Refuses a database that already has an RMS orders table "
            "unless --replace is given."
        ),
    )
    cmd.add_argument(
        "--url", required=True, help="target database (sqlite:///... or postgresql+psycopg://...)"
    )
    cmd.add_argument("--restaurants", type=_positive, default=3, help="restaurants (default 3)")
    cmd.add_argument("--days", type=_days, default=365, help="local days of history (default 365)")
    cmd.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    cmd.add_argument(
        "--menu-items",
        type=_menu_items,
        default=None,
        help="menu items per restaurant (default: 28-44, drawn per restaurant)",
    )
    cmd.add_argument(
        "--end", type=_date, default=None, help="last local day (default: yesterday, UTC)"
    )
    cmd.add_argument("--movements", action="store_true", help="also write inventory_movements")
    cmd.add_argument(
        "--replace", action="store_true", help="drop and recreate existing demo tables"
    )
    cmd.add_argument("--json", action="store_true", help="print the summary as JSON")
    cmd.set_defaults(handler=_demo_data)


def _demo_data(args: argparse.Namespace, settings: Settings) -> int:
    import sqlalchemy as sa  # noqa: PLC0415

    from rms_ml_push.demo.generator import DemoTargetNotEmptyError, generate_demo  # noqa: PLC0415
    from rms_ml_push.demo.params import DemoConfig  # noqa: PLC0415
    from rms_ml_push.demo.target import demo_engine  # noqa: PLC0415
    from rms_ml_push.errors import ConfigError  # noqa: PLC0415
    from rms_ml_push.logs import get_logger  # noqa: PLC0415

    end = args.end or default_end()
    config = DemoConfig(
        end=end,
        restaurants=args.restaurants,
        days=args.days,
        seed=args.seed,
        movements=args.movements,
        menu_items=args.menu_items,
        tables=settings.rms_tables,
    )
    try:
        engine = demo_engine(args.url)
    except ValueError as exc:
        raise ConfigError([f"--url: {exc}"]) from None
    try:
        summary = generate_demo(engine, config, replace=args.replace)
    except DemoTargetNotEmptyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except sa.exc.OperationalError as exc:
        print(f"error: cannot write to the target database: {exc.orig}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    get_logger("rms_ml_push.demo").info(
        "demo_data_written",
        restaurants=config.restaurants,
        days=config.days,
        seed=config.seed,
        end=end.isoformat(),
        rows=summary.total_rows,
        seconds=round(summary.seconds, 2),
    )
    if args.json:
        print_json(
            {
                "end": end.isoformat(),
                "rows": summary.rows,
                "dirty": summary.dirty,
                "conditions": summary.conditions,
                "seconds": round(summary.seconds, 3),
            }
        )
    else:
        print_table([{"table": k, "rows": v} for k, v in summary.rows.items()], ["table", "rows"])
    return EXIT_OK


def default_end() -> date:
    """Yesterday in UTC: the demo history ends with the last whole day."""
    from datetime import timedelta  # noqa: PLC0415

    from rms_ml_push.clock import SystemClock  # noqa: PLC0415

    return SystemClock().now().date() - timedelta(days=1)
