"""Operator commands of the outbox: deliver, messages, repush, endpoints, receiver.

All of them work without ``RMS_ML_RMS_URL`` and migrate the store first.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rms_ml_push.cli._common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    parse_timestamp,
    print_json,
    print_table,
)

if TYPE_CHECKING:
    from rms_ml_push.config import Settings
    from rms_ml_push.store.engine import Store

EXIT_TIMEOUT = 3
_STATUSES = ("pending", "in_flight", "delivered", "dead", "superseded")
_MESSAGE_COLUMNS = (
    "id",
    "type",
    "endpoint",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "last_error",
)
_ENDPOINT_COLUMNS = ("name", "url", "enabled", "breaker", "last_success_at", "last_error")
_Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``deliver``, ``messages``, ``repush``, ``endpoints`` and ``receiver``."""
    deliver = sub.add_parser("deliver", help="run the dispatcher in the foreground")
    deliver.add_argument(
        "--until-empty",
        action="store_true",
        help="return once nothing is pending or in flight for an enabled endpoint",
    )
    deliver.add_argument("--max-seconds", type=float, default=None, metavar="S")
    deliver.set_defaults(handler=_deliver)
    _register_messages(sub)
    _register_repush(sub)
    _register_endpoints(sub)
    receiver = sub.add_parser("receiver", help="run the reference webhook receiver")
    receiver.add_argument("--port", type=int, required=True)
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument(
        "--secret", action="append", required=True, help="whsec_... (repeat for rotation)"
    )
    receiver.add_argument("--fail-rate", type=float, default=0.0, metavar="F")
    receiver.set_defaults(handler=_receiver)


def _register_messages(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    msgs = sub.add_parser("messages", help="inspect the outbox")
    msgs_sub = msgs.add_subparsers(dest="messages_command", metavar="ACTION", required=True)
    lst = msgs_sub.add_parser("list", help="list messages, newest first")
    lst.add_argument("--status", choices=_STATUSES)
    lst.add_argument("--type")
    lst.add_argument("--endpoint")
    lst.add_argument("--since", type=parse_timestamp, metavar="TS")
    lst.add_argument("--limit", type=int, default=100)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_messages_list)
    show = msgs_sub.add_parser("show", help="one message with its attempts")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_messages_show)


def _register_repush(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    repush = sub.add_parser("repush", help="re-queue messages with the same webhook-id")
    repush.add_argument("ids", nargs="*", metavar="ID")
    repush.add_argument("--status", choices=("dead", "delivered"))
    repush.add_argument("--since", type=parse_timestamp, metavar="TS")
    repush.add_argument("--until", type=parse_timestamp, metavar="TS")
    repush.add_argument("--type")
    repush.add_argument("--endpoint")
    repush.add_argument("--limit", type=int, default=100)
    repush.add_argument("--dry-run", action="store_true")
    repush.add_argument("--json", action="store_true")
    repush.set_defaults(handler=_repush)


def _register_endpoints(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    eps = sub.add_parser("endpoints", help="webhook endpoints and their run-time state")
    eps_sub = eps.add_subparsers(dest="endpoints_command", metavar="ACTION", required=True)
    lst = eps_sub.add_parser("list", help="endpoints with state (never a secret)")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_endpoints_list)
    for action, helptext in (
        ("enable", "re-enable (after a 410 or an operator's disable)"),
        ("disable", "stop deliveries; messages stay pending"),
        ("ping", "queue a signed webhook.test message for this endpoint"),
    ):
        cmd = eps_sub.add_parser(action, help=helptext)
        cmd.add_argument("name")
        cmd.set_defaults(handler=_endpoints_action, action=action)


def _open(settings: Settings) -> Store:
    from rms_ml_push.cli.store_cmd import open_store  # noqa: PLC0415

    return open_store(settings)


def _deliver(args: argparse.Namespace, settings: Settings) -> int:
    import signal  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from rms_ml_push.delivery.dispatcher import Dispatcher  # noqa: PLC0415

    if not settings.endpoints:
        print(
            "config error: no endpoint configured (RMS_ML_ENDPOINTS or RMS_ML_WEBHOOK_URL)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    store = _open(settings)
    dispatcher = Dispatcher(store, settings)
    done = threading.Event()
    # SIGTERM stops like Ctrl-C: finish in-flight requests, release unstarted leases.
    previous = signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    try:
        if args.until_empty:
            empty = dispatcher.drain(max_seconds=args.max_seconds)
            dispatcher.close()
            _print_counts(store)
            return EXIT_OK if empty else EXIT_TIMEOUT
        dispatcher.start()
        try:
            done.wait(args.max_seconds)
        finally:
            dispatcher.stop()
        _print_counts(store)
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
        store.dispose()


def _interrupt() -> None:
    raise KeyboardInterrupt


def _print_counts(store: Store) -> None:
    from rms_ml_push.store.messages import outbox_stats  # noqa: PLC0415

    with store.read() as conn:
        stats = outbox_stats(conn)
    print_table(
        [{"status": k, "messages": v} for k, v in stats.by_status.items()], ("status", "messages")
    )


def _messages_list(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.store.messages import MessageFilter, list_messages  # noqa: PLC0415

    store = _open(settings)
    try:
        f = MessageFilter(args.status, args.type, args.endpoint, args.since, None, args.limit)
        with store.read() as conn:
            rows = list_messages(conn, f)
    finally:
        store.dispose()
    if args.json:
        print_json(rows)
    else:
        print_table(rows, _MESSAGE_COLUMNS)
    return EXIT_OK


def _messages_show(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.store.messages import show_message  # noqa: PLC0415

    store = _open(settings)
    try:
        with store.read() as conn:
            row = show_message(conn, args.id)
    finally:
        store.dispose()
    if row is None:
        print(f"error: no message {args.id!r}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        print_json(row)
        return EXIT_OK
    attempts = row.pop("attempt_log")
    print_table([{"field": k, "value": v} for k, v in row.items()], ("field", "value"))
    print()
    print_table(
        attempts, ("number", "trigger", "started_at", "duration_ms", "status_code", "error")
    )
    return EXIT_OK


def _repush(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.store.messages import MessageFilter, repush, select_ids  # noqa: PLC0415

    if bool(args.ids) == bool(args.status):
        print("usage error: give message IDs, or --status with --since", file=sys.stderr)
        return EXIT_CONFIG
    if args.status and args.since is None:
        print("usage error: --status needs --since TS (a bounded selection)", file=sys.stderr)
        return EXIT_CONFIG
    store = _open(settings)
    try:
        with store.write() as conn:
            ids = list(args.ids)
            if args.status:
                f = MessageFilter(
                    args.status, args.type, args.endpoint, args.since, args.until, args.limit
                )
                ids = select_ids(conn, f)
            if args.dry_run:
                outcomes = dict.fromkeys(ids, "would queue")
            else:
                outcomes = repush(conn, ids, now=SystemClock().now())
    finally:
        store.dispose()
    rows = [{"id": k, "outcome": v} for k, v in outcomes.items()]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ("id", "outcome"))
    unknown = [r for r in rows if r["outcome"] == "not found"]
    return EXIT_FAILURE if unknown else EXIT_OK


def _endpoints_list(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.delivery.admin import endpoint_rows  # noqa: PLC0415

    store = _open(settings)
    try:
        rows = endpoint_rows(store, settings, SystemClock().now())
    finally:
        store.dispose()
    if args.json:
        print_json(rows)
    else:
        print_table(rows, _ENDPOINT_COLUMNS)
    return EXIT_OK


def _endpoints_action(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.delivery import admin  # noqa: PLC0415
    from rms_ml_push.errors import UnknownEndpointError  # noqa: PLC0415

    store = _open(settings)
    now = SystemClock().now()
    try:
        if args.action == "ping":
            msg_id = admin.ping(store, settings, args.name, now=now)
            print_json({"endpoint": args.name, "queued": msg_id, "type": "webhook.test"})
        else:
            changed = admin.set_enabled(
                store, settings, args.name, enabled=args.action == "enable", now=now
            )
            print_json({"endpoint": args.name, "action": args.action, "changed": changed})
    except UnknownEndpointError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        store.dispose()
    return EXIT_OK


def _receiver(args: argparse.Namespace, _settings: Settings) -> int:
    from rms_ml_push.delivery.receiver import Receiver  # noqa: PLC0415
    from rms_ml_push.errors import SigningError  # noqa: PLC0415
    from rms_ml_push.logs import get_logger  # noqa: PLC0415

    if not 0.0 <= args.fail_rate <= 1.0:
        print("usage error: --fail-rate must be between 0 and 1", file=sys.stderr)
        return EXIT_CONFIG
    try:
        receiver = Receiver(args.secret, host=args.host, port=args.port, fail_rate=args.fail_rate)
    except SigningError as exc:
        print(f"config error: --secret: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    get_logger("rms_ml_push.receiver").info("receiver_listening", url=receiver.url)
    try:
        receiver.serve_forever()
    finally:
        receiver.close()
    return EXIT_OK
