"""What the end-to-end benches share: a PostgreSQL RMS database, a job's environment and
one timed child process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

CLI = str(Path(sys.executable).parent / "rms-ml-push")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist yet."""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                sa.text("select 1 from pg_database where datname = :name"),
                {"name": target.database},
            ).first()
            if found is None:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def job_env(rms_url: str, workdir: Path) -> dict[str, str]:
    """The CLI's environment for a job run: this RMS, a fresh SQLite store and model
    directory under ``workdir``, warnings only (the bench prints its own figures)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMS_ML_")}
    env.update(
        RMS_ML_RMS_URL=rms_url,
        RMS_ML_STORE_URL=f"sqlite:///{workdir / 'store.sqlite3'}",
        RMS_ML_MODEL_DIR=str(workdir / "models"),
        RMS_ML_LOG_LEVEL="WARNING",
    )
    return env


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process; exits naming
    the command (and showing the end of its stderr) when it fails."""
    return timed_output(cmd, env)[0]


def timed_output(cmd: list[str], env: dict[str, str]) -> tuple[dict[str, float], str]:
    """:func:`timed`, and what the child printed on stdout."""
    # Files, not pipes: wait4 (for the child's rusage) before reading a full pipe would
    # deadlock, and communicate() would reap the child before wait4 could.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        sys.stderr.write(stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd[:6])} ...")
    measures = {
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 0),
    }
    return measures, stdout
