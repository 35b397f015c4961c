"""``make demo``: the whole loop on embedded defaults, as a list of steps.

Today: generate the demo RMS into ``var/demo/rms.sqlite3`` (3 restaurants x 365 days,
replaced if present), point the settings at it, run the configuration check. Later
issues append steps ("run jobs", "deliver to a local receiver") to :func:`demo_steps`.
A failing step prints one line naming the step and exits 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rms_ml_push.config import Settings

DEMO_DIR = Path("var/demo")
DEMO_RESTAURANTS = 3
DEMO_DAYS = 365
DEMO_SEED = 42


@dataclass
class DemoContext:
    """What the steps share: where the demo lives, and the settings once they exist."""

    root: Path = DEMO_DIR
    settings: Settings | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rms_url(self) -> str:
        """The demo RMS database URL."""
        return f"sqlite:///{self.root / 'rms.sqlite3'}"

    def require_settings(self) -> Settings:
        """Settings built by an earlier step."""
        if self.settings is None:
            raise RuntimeError("settings are not configured yet (step order)")
        return self.settings


Step = tuple[str, Callable[[DemoContext], str]]


def _generate(ctx: DemoContext) -> str:
    from rms_ml_push.cli.demo_cmd import default_end  # noqa: PLC0415
    from rms_ml_push.demo.generator import generate_demo  # noqa: PLC0415
    from rms_ml_push.demo.params import DemoConfig  # noqa: PLC0415
    from rms_ml_push.demo.target import demo_engine  # noqa: PLC0415

    engine = demo_engine(ctx.rms_url)
    config = DemoConfig(
        end=default_end(), restaurants=DEMO_RESTAURANTS, days=DEMO_DAYS, seed=DEMO_SEED
    )
    try:
        summary = generate_demo(engine, config, replace=True)
    finally:
        engine.dispose()
    dirty = sum(summary.dirty.values())
    return (
        f"{summary.rows['orders']:,} orders, {summary.rows['order_items']:,} lines, "
        f"{summary.total_rows:,} rows in all ({dirty:,} dirty) in {summary.seconds:.1f} s "
        f"-> {ctx.rms_url}"
    )


def _configure(ctx: DemoContext) -> str:
    from rms_ml_push.config import load_settings  # noqa: PLC0415
    from rms_ml_push.logs import configure_logging  # noqa: PLC0415

    ctx.settings = load_settings(
        rms_url=ctx.rms_url,
        store_url=f"sqlite:///{ctx.root / 'store.sqlite3'}",
        model_dir=ctx.root / "models",
    )
    configure_logging(ctx.settings.log_level, ctx.settings.log_format)
    return f"RMS_ML_RMS_URL={ctx.rms_url}"


def _config_check(ctx: DemoContext) -> str:
    from rms_ml_push.errors import ConfigError  # noqa: PLC0415
    from rms_ml_push.rms.check import check_rms  # noqa: PLC0415

    problems = check_rms(ctx.require_settings())
    if problems:
        raise ConfigError(problems)
    return "settings and RMS database ok"


def demo_steps() -> list[Step]:
    """The demo's steps, in order."""
    return [
        ("generate demo RMS data", _generate),
        ("point settings at it", _configure),
        ("config check", _config_check),
    ]


def run_steps(steps: list[Step], ctx: DemoContext) -> int:
    """Run each step, printing one line per step; stop at the first failure (exit 1)."""
    for number, (name, step) in enumerate(steps, start=1):
        try:
            result = step(ctx)
        except Exception as exc:
            print(f"[{number}/{len(steps)}] {name}: FAILED: {_one_line(exc)}", file=sys.stderr)
            return 1
        print(f"[{number}/{len(steps)}] {name}: {result}")
    print("demo ready: " + ctx.rms_url)
    return 0


def _one_line(exc: BaseException) -> str:
    text = " / ".join(str(exc).splitlines()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def main() -> int:
    """Entry point of ``python -m rms_ml_push.demo.run``."""
    try:
        return run_steps(demo_steps(), DemoContext())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
