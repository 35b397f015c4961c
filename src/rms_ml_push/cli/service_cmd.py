"""CLI area `service`: ``rms-ml-push run``, the long-running service."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rms_ml_push.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run``."""
    run = sub.add_parser(
        "run",
        help="run the service: scheduler (leader only), dispatcher, HTTP endpoint",
        description=(
            "Migrate the store, then run until SIGTERM/SIGINT: the leader schedules jobs "
            "(catching up a missed slot at start), every instance delivers webhooks, and "
            "GET /health /ready /info /metrics answer on RMS_ML_HTTP__HOST:RMS_ML_HTTP__PORT."
        ),
    )
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.service.run import run_service  # noqa: PLC0415 - keeps --help light

    return run_service(settings)
