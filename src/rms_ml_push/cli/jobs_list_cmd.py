"""``rms-ml-push jobs list [--json]``: each scheduled job, its last run and its next run."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rms_ml_push.cli._common import EXIT_OK, print_json, print_table

if TYPE_CHECKING:
    from rms_ml_push.config import Settings

_COLUMNS = (
    "job",
    "scope",
    "cron",
    "timezone",
    "full",
    "status",
    "last_as_of",
    "duration_s",
    "next_run",
)


def add_list(jobs_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``list`` under the ``jobs`` parser."""
    cmd = jobs_sub.add_parser("list", help="scheduled jobs: schedule, last run, next run")
    cmd.add_argument("--json", action="store_true", help="one JSON array on stdout")
    cmd.set_defaults(handler=_list)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.jobs.catalogue import job_names  # noqa: PLC0415
    from rms_ml_push.service.overview import jobs_overview  # noqa: PLC0415
    from rms_ml_push.service.run import service_schedule  # noqa: PLC0415
    from rms_ml_push.service.status import run_view  # noqa: PLC0415
    from rms_ml_push.store.engine import Store  # noqa: PLC0415
    from rms_ml_push.store.migrate import migrate  # noqa: PLC0415
    from rms_ml_push.store.runs import JobRuns  # noqa: PLC0415

    clock = SystemClock()
    entries = service_schedule(settings, shipped=job_names(), now=clock.now())
    store = Store.from_url(settings.store_url.get_secret_value())
    try:
        migrate(store)
        runs = JobRuns(store, clock)
        rows = jobs_overview(
            entries,
            now=clock.now(),
            last_run=lambda job, scope: run_view(runs.last_run(job, scope)),
        )
    finally:
        store.dispose()
    if args.json:
        print_json(rows)
        return EXIT_OK
    table = [
        {
            **row,
            "full": row["full"] if isinstance(row["full"], str) else str(row["full"]).lower(),
            "last_as_of": (row["last_run"] or {}).get("as_of"),
            "duration_s": (row["last_run"] or {}).get("duration_s"),
        }
        for row in rows
    ]
    print_table(table, _COLUMNS)
    return EXIT_OK
