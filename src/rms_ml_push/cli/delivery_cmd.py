"""CLI area `delivery`: its commands are added by the issue that builds them."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's commands (none yet)."""
