"""The ``rms-ml-push`` command line: one entry point, one module per area.

Results go to stdout (a table, or JSON with ``--json``); logs go to stderr. Exit codes:
0 ok, 1 runtime failure, 2 usage or configuration error (``../shared/design.md``).
Each area module imports only argparse at load time, so ``--help`` stays fast; the work
is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rms_ml_push import __version__
from rms_ml_push.cli import (
    config_cmd,
    delivery_cmd,
    demo_cmd,
    jobs_cmd,
    models_cmd,
    service_cmd,
    store_cmd,
)
from rms_ml_push.cli._common import EXIT_CONFIG, EXIT_FAILURE, Handler

_AREAS = (config_cmd, demo_cmd, store_cmd, delivery_cmd, models_cmd, jobs_cmd, service_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The full parser; every subcommand has ``--help``."""
    parser = argparse.ArgumentParser(
        prog="rms-ml-push",
        description="Train models on the RMS history and push predictions as signed webhooks.",
    )
    parser.add_argument("--version", action="version", version=f"rms-ml-push {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in _AREAS:
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, load settings, run the handler; map errors to exit codes, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    from rms_ml_push.cli._common import run_handler  # noqa: PLC0415 - keeps --help light

    try:
        return run_handler(handler, args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE


__all__ = ["EXIT_CONFIG", "build_parser", "main"]
