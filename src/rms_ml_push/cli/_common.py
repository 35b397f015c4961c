"""Shared CLI plumbing: settings loading, error mapping, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rms_ml_push.config import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

Handler = Callable[[argparse.Namespace, "Settings"], int]
SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Load settings and logging, then run; errors become a line on stderr and an exit code."""
    from rms_ml_push.config import load_settings  # noqa: PLC0415
    from rms_ml_push.errors import ConfigError, RmsMlPushError  # noqa: PLC0415
    from rms_ml_push.logs import configure_logging, get_logger  # noqa: PLC0415

    try:
        settings = load_settings()
    except ConfigError as exc:
        print_problems(exc.problems)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger("rms_ml_push.cli")
    try:
        return handler(args, settings)
    except ConfigError as exc:
        print_problems(exc.problems)
        return EXIT_CONFIG
    except RmsMlPushError as exc:
        log.error(
            "command_failed", command=args.command, error=str(exc), error_type=type(exc).__name__
        )
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        # Unexpected: the traceback goes to the log as a structured field, not the terminal.
        log.error("command_crashed", command=args.command, exc_info=exc)
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (details in the log)", file=sys.stderr
        )
        return EXIT_FAILURE


def print_problems(problems: Iterable[str]) -> None:
    """One configuration problem per line on stderr."""
    for line in problems:
        print(f"config error: {line}", file=sys.stderr)


def parse_timestamp(text: str) -> datetime:
    """argparse type: ISO 8601 date or date-time; naive means UTC."""
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 timestamp: {text!r} (e.g. 2026-11-28T06:00:00Z)"
        ) from None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_json(data: Any) -> None:
    """JSON on stdout for scripts."""
    json.dump(data, sys.stdout, default=_jsonable, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table on stdout."""
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    print("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if not rows:
        print("(none)")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
