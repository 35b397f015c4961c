"""``make demo``: the whole loop on embedded defaults, as a list of steps.

Generate the demo RMS into ``var/demo/rms.sqlite3`` (3 restaurants x 365 days, replaced
if present), start the reference receiver on loopback with a fresh secret, point the
settings at both (a fresh store and model folder under ``var/demo/``), check them, run
every job this version ships at ``as_of`` = now, deliver the outbox to the receiver,
and show what arrived and verified. A failing step prints one line naming the step and
exits 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rms_ml_push.config import Settings

if TYPE_CHECKING:
    from rms_ml_push.delivery.receiver import Receiver

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
    receiver: Receiver | None = None
    secret: str = ""

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


def _start_receiver(ctx: DemoContext) -> str:
    import base64  # noqa: PLC0415
    import secrets  # noqa: PLC0415

    from rms_ml_push.delivery.receiver import Receiver  # noqa: PLC0415

    ctx.secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    ctx.receiver = Receiver([ctx.secret], quiet=True).start()
    return f"reference receiver on {ctx.receiver.url} (verifies Standard Webhooks signatures)"


def _configure(ctx: DemoContext) -> str:
    import os  # noqa: PLC0415
    import shutil  # noqa: PLC0415

    from rms_ml_push.config import EndpointSettings, load_settings  # noqa: PLC0415
    from rms_ml_push.logs import configure_logging  # noqa: PLC0415

    if ctx.receiver is None:
        raise RuntimeError("the receiver is not running (step order)")
    # A fresh store and model folder: the demo shows a first install.
    (ctx.root / "store.sqlite3").unlink(missing_ok=True)
    shutil.rmtree(ctx.root / "models", ignore_errors=True)
    endpoint = EndpointSettings(
        name="demo-receiver",
        url=ctx.receiver.url + "webhooks/rms-ml",
        secrets=[ctx.secret],
        allow_insecure_http=True,
    )
    ctx.settings = load_settings(
        rms_url=ctx.rms_url,
        store_url=f"sqlite:///{ctx.root / 'store.sqlite3'}",
        model_dir=ctx.root / "models",
        endpoints=[endpoint],
        log_level=os.environ.get("RMS_ML_LOG_LEVEL", "WARNING"),
    )
    configure_logging(ctx.settings.log_level, ctx.settings.log_format)
    return f"RMS_ML_RMS_URL={ctx.rms_url}, store and models under {ctx.root}/"


def _run_jobs(ctx: DemoContext) -> str:
    from rms_ml_push.jobs.catalogue import job_names  # noqa: PLC0415
    from rms_ml_push.jobs.runtime import JobRequest, run_job  # noqa: PLC0415
    from rms_ml_push.store.engine import Store  # noqa: PLC0415
    from rms_ml_push.store.migrate import migrate  # noqa: PLC0415

    settings = ctx.require_settings()
    store = Store.from_url(settings.store_url.get_secret_value())
    lines, failed = [], []
    try:
        migrate(store)
        as_of = _now()
        for job in job_names():
            report = run_job(settings, store, JobRequest(job, as_of, full=True))
            lines.append(f"    {job}: {report.status}, {report.messages} message(s) queued")
            lines.extend(_summary_lines(report.summary))
            if report.status != "succeeded":
                failed.append(f"{job}: {report.detail}")
    finally:
        store.dispose()
    if failed:
        raise RuntimeError("; ".join(failed))
    return f"{len(job_names())} job(s) at as_of={as_of.isoformat()}\n" + "\n".join(lines)


def _summary_lines(summary: Mapping[str, object]) -> list[str]:
    lines = []
    for key, value in summary.items():
        if (
            isinstance(value, Mapping)
            and value
            and all(not isinstance(v, Mapping) for v in value.values())
        ):
            lines.append(f"      {key}:")
            lines.extend(f"        {k}: {_short(v)}" for k, v in value.items())
        else:
            lines.append(f"      {key}: {_short(value)}")
    return lines


def _deliver(ctx: DemoContext) -> str:
    from rms_ml_push.delivery.dispatcher import Dispatcher  # noqa: PLC0415
    from rms_ml_push.store.engine import Store  # noqa: PLC0415

    settings = ctx.require_settings()
    store = Store.from_url(settings.store_url.get_secret_value())
    dispatcher = Dispatcher(store, settings)
    try:
        empty = dispatcher.drain(max_seconds=60)
    finally:
        dispatcher.close()
        store.dispose()
    if not empty:
        raise RuntimeError("messages still pending after 60 s: see `rms-ml-push messages list`")
    return "outbox drained"


def _show_received(ctx: DemoContext) -> str:
    import json  # noqa: PLC0415
    from collections import Counter  # noqa: PLC0415

    if ctx.receiver is None:
        raise RuntimeError("the receiver is not running (step order)")
    state = ctx.receiver.state
    with state.lock:
        bodies = dict(state.bodies)
        duplicates = sum(n - 1 for n in state.counts.values())
        rejected = state.rejected
    types = Counter(json.loads(b)["type"] for b in bodies.values())
    ctx.receiver.close()
    lines = [f"    {t}: {n}" for t, n in sorted(types.items())]
    return (
        f"{len(bodies)} message(s) received and verified ({duplicates} duplicate "
        f"deliveries, {rejected} rejected)\n" + "\n".join(lines)
    )


def _now() -> datetime:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415

    return SystemClock().now()


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "..."


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
        ("start a local receiver", _start_receiver),
        ("point settings at both", _configure),
        ("config check", _config_check),
        ("run the jobs", _run_jobs),
        ("deliver the outbox", _deliver),
        ("what the receiver got", _show_received),
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
    print(f"demo done: RMS {ctx.rms_url}, store and models under {ctx.root}/")
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
