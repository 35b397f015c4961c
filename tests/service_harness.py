"""``rms-ml-push run`` with a fast compute step, as a process: ``python -m tests.service_harness``.

Everything is the production path (settings from the environment, logging, exit codes,
``run_service``, ``build_deps``) except the jobs' compute step, which is
:mod:`tests.service_computes`'s function named by the first argument.
"""

from __future__ import annotations

import argparse
import functools
import sys

from rms_ml_push.cli._common import run_handler
from rms_ml_push.config import Settings
from rms_ml_push.service.run import run_service
from rms_ml_push.service.wiring import build_deps
from tests import service_computes


def main() -> int:
    """Run the service until SIGTERM with ``service_computes.<argv[1]>`` as every job's compute."""
    compute = getattr(service_computes, sys.argv[1])

    def handler(_args: argparse.Namespace, settings: Settings) -> int:
        return run_service(settings, deps_factory=functools.partial(build_deps, compute=compute))

    return run_handler(handler, argparse.Namespace(command="run"))


if __name__ == "__main__":
    sys.exit(main())
