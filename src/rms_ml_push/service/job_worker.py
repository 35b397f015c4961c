"""The job runner the service hands its worker pool: one run of one slot, in the worker.

It calls :func:`rms_ml_push.jobs.runtime.run_job` with the launcher's ``run_id``, so the
worker (not the parent) writes the run's one transaction: outbox rows, prediction sets
and the finished run record. Only a small status mapping crosses back to the parent.
The runner is a frozen dataclass of plain data, so the spawn pool can pickle it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from rms_ml_push.config import Settings
from rms_ml_push.logs import bind_context, clear_context

if TYPE_CHECKING:
    from rms_ml_push.jobs.runtime import ComputeFn, Trigger


@dataclass(frozen=True)
class WorkerJobRunner:
    """Runs a job in the worker process; ``compute`` overrides the catalogue (tests, demos).

    ``compute`` must be a module-level function (it is pickled into the worker).
    """

    settings: Settings
    instance: str
    compute: ComputeFn | None = None

    def __call__(
        self,
        job: str,
        as_of: datetime,
        full: bool,
        restaurants: tuple[int, ...],
        trigger: str,
        *,
        run_id: str,
    ) -> Mapping[str, Any]:
        """Run the slot; ``{"status", "run_id", "messages", "detail"}`` for the parent."""
        from rms_ml_push.jobs.runtime import JobRequest, run_job  # noqa: PLC0415 - worker only
        from rms_ml_push.store.engine import Store  # noqa: PLC0415

        tokens = bind_context(instance=self.instance)
        store = Store.from_url(self.settings.store_url.get_secret_value())
        try:
            request = JobRequest(
                job, as_of, full, tuple(restaurants) or None, cast("Trigger", trigger)
            )
            report = run_job(
                self.settings,
                store,
                request,
                compute=self.compute,
                instance=self.instance,
                run_id=run_id,
            )
        finally:
            store.dispose()
            clear_context(tokens)
        return {
            "status": report.status,
            "run_id": report.run_id,
            "messages": report.messages,
            "detail": report.detail,
        }
