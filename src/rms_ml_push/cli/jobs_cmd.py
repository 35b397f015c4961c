"""CLI area `jobs`: the job catalogue and its runs."""

from __future__ import annotations

import argparse

from rms_ml_push.cli import jobs_list_cmd, jobs_run_cmd


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``jobs`` and its actions."""
    jobs = sub.add_parser("jobs", help="scheduled jobs and their runs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_list_cmd.add_list(jobs_sub)
    jobs_run_cmd.add_run(jobs_sub)
