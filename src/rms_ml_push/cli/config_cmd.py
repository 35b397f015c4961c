"""``rms-ml-push config check``: validate settings and the RMS database, print them masked."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rms_ml_push.cli._common import EXIT_CONFIG, EXIT_OK, print_json, print_problems

if TYPE_CHECKING:
    from rms_ml_push.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``config``."""
    config = sub.add_parser("config", help="check and show settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser(
        "check",
        help="validate settings and the RMS database (never contacts a webhook endpoint)",
    )
    check.add_argument("--no-rms", action="store_true", help="skip the RMS database checks")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.config import effective_settings  # noqa: PLC0415
    from rms_ml_push.rms.check import check_rms  # noqa: PLC0415
    from rms_ml_push.settings_check import check_settings  # noqa: PLC0415

    problems = check_settings(settings)
    if not args.no_rms:
        problems.extend(check_rms(settings))
    print_json(effective_settings(settings))
    if problems:
        print_problems(problems)
        return EXIT_CONFIG
    return EXIT_OK
