"""``rms-ml-push jobs run NAME``: one run of a job in the foreground, then deliver.

The same code path as the service (jobs.runtime.run_job); afterwards the outbox is
drained the way ``deliver --until-empty --max-seconds 60`` does, unless ``--no-deliver``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rms_ml_push.cli._common import EXIT_FAILURE, EXIT_OK, parse_timestamp, print_json

if TYPE_CHECKING:
    from rms_ml_push.config import Settings
    from rms_ml_push.jobs.runtime import RunReport
    from rms_ml_push.store.engine import Store

EXIT_UNDELIVERED = 3
DRAIN_MAX_S = 60.0


def add_run(jobs_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``jobs run``."""
    run = jobs_sub.add_parser(
        "run", help="run one job now (reads the RMS), then deliver what it enqueued"
    )
    run.add_argument("name", help="demand, kitchen, customers, inventory or pricing")
    run.add_argument(
        "--as-of",
        type=parse_timestamp,
        default=None,
        help="the instant the run stands at (ISO 8601; default: now)",
    )
    run.add_argument(
        "--restaurant",
        type=int,
        action="append",
        dest="restaurants",
        metavar="ID",
        help="only this restaurant (repeatable)",
    )
    run.add_argument(
        "--full", action="store_true", help="re-select models and hyper-parameters by backtest"
    )
    run.add_argument(
        "--force", action="store_true", help="run even if this slot already has a successful run"
    )
    run.add_argument(
        "--no-deliver",
        action="store_true",
        help="only enqueue; leave delivery to the service or `deliver`",
    )
    run.add_argument("--json", action="store_true", help="print the run report as JSON")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.cli.store_cmd import open_store  # noqa: PLC0415
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.jobs.catalogue import compute_fn  # noqa: PLC0415
    from rms_ml_push.jobs.runtime import JobRequest, run_job  # noqa: PLC0415

    settings.require_rms_url()
    compute = compute_fn(args.name)  # ConfigError (exit 2) for an unknown job
    clock = SystemClock()
    as_of = args.as_of or clock.now()
    store = open_store(settings)
    try:
        request = JobRequest(
            args.name,
            as_of,
            full=args.full,
            restaurants=tuple(args.restaurants) if args.restaurants else None,
        )
        report = run_job(settings, store, request, compute=compute, clock=clock, force=args.force)
        _print_report(report, as_json=args.json)
        if report.status == "failed":
            return EXIT_FAILURE
        if args.no_deliver or not settings.endpoints:
            return EXIT_OK
        return EXIT_OK if _drain(store, settings) else EXIT_UNDELIVERED
    finally:
        store.dispose()


def _drain(store: Store, settings: Settings) -> bool:
    from rms_ml_push.delivery.dispatcher import Dispatcher  # noqa: PLC0415

    dispatcher = Dispatcher(store, settings)
    try:
        return dispatcher.drain(max_seconds=DRAIN_MAX_S)
    finally:
        dispatcher.close()


def _print_report(report: RunReport, *, as_json: bool) -> None:
    from dataclasses import asdict  # noqa: PLC0415

    data = asdict(report)
    if as_json:
        print_json(data)
        return
    print(f"run {data['run_id'] or '-'}: {data['status']}, {data['messages']} message(s) queued")
    if data["detail"]:
        print(f"  {data['detail']}", file=sys.stderr if data["status"] == "failed" else sys.stdout)
    for key, value in (data["summary"] or {}).items():
        print(f"  {key}: {value}")
