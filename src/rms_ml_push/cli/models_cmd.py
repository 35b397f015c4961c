"""CLI areas ``models`` (list, show, rollback, promote) and ``runs`` (list).

Both read only the service's own store and model dir, so they work without
``RMS_ML_RMS_URL``. An unknown model or version is a usage error: exit 2, one line.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from rms_ml_push.cli._common import EXIT_CONFIG, EXIT_OK, print_json, print_table

if TYPE_CHECKING:
    from rms_ml_push.config import Settings
    from rms_ml_push.store.engine import Store
    from rms_ml_push.store.registry import ModelRegistry
    from rms_ml_push.store.registry_records import VersionRecord


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``models`` and ``runs``."""
    models = sub.add_parser("models", help="the model registry: versions, promotion, rollback")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = msub.add_parser("list", help="every model version and which one is latest")
    listing.add_argument("--all", action="store_true", help="include versions deleted by retention")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)
    show = msub.add_parser("show", help="a version's metadata and metrics beside the baseline")
    show.add_argument("name")
    show.add_argument("--version", help="default: the latest version")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)
    rollback = msub.add_parser("rollback", help="point latest back at an earlier version")
    rollback.add_argument("name")
    rollback.add_argument("--to", help="default: the version promoted before the current one")
    rollback.add_argument("--reason", help="why (recorded in the promotion history)")
    rollback.set_defaults(handler=_rollback)
    promote = msub.add_parser("promote", help="operator override: make a version latest")
    promote.add_argument("name")
    promote.add_argument("version", help="e.g. 1.4.0 or v1.4.0")
    promote.add_argument("--reason", help="why (recorded in the promotion history)")
    promote.set_defaults(handler=_promote)

    runs = sub.add_parser("runs", help="job run history")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    rlist = rsub.add_parser("list", help="recent job runs, newest first")
    rlist.add_argument("--job", help="only this job (demand, kitchen, customers, ...)")
    rlist.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    rlist.add_argument("--json", action="store_true", help="print JSON")
    rlist.set_defaults(handler=_runs_list)


def _open_store(settings: Settings) -> Store:
    from rms_ml_push.store.engine import Store  # noqa: PLC0415
    from rms_ml_push.store.migrate import migrate  # noqa: PLC0415

    store = Store.from_url(settings.store_url.get_secret_value())
    migrate(store)
    return store


def _registry(settings: Settings, store: Store) -> ModelRegistry:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.store.registry import ModelRegistry  # noqa: PLC0415

    return ModelRegistry(store, settings.model_dir, settings.models, SystemClock())


def _with_registry(args: argparse.Namespace, settings: Settings, action: Any) -> int:
    from rms_ml_push.errors import ModelNotFoundError  # noqa: PLC0415

    store = _open_store(settings)
    try:
        return int(action(args, _registry(settings, store)))
    except ModelNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        store.dispose()


def _operator_reason(reason: str | None, default: str) -> str:
    import getpass  # noqa: PLC0415

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{reason or default} (by {user})"


def _row(record: VersionRecord, latest: Any) -> dict[str, Any]:
    metrics = record.metrics
    metric = metrics.get("metric")
    return {
        "name": record.name,
        "version": str(record.version),
        "latest": record.version == latest,
        "status": record.status,
        "created_at": record.created_at,
        "metric": metric,
        "value": (metrics.get("model") or {}).get(metric),
        "baseline": (metrics.get("baseline") or {}).get(metric),
        "gate_reason": record.gate_reason,
    }


def _list(args: argparse.Namespace, settings: Settings) -> int:
    def action(a: argparse.Namespace, registry: ModelRegistry) -> int:
        rows: list[dict[str, Any]] = []
        for name in registry.model_names():
            latest = registry.latest_version(name)
            rows.extend(
                _row(r, latest) for r in registry.versions(name) if a.all or r.status != "deleted"
            )
        if a.json:
            print_json(rows)
        else:
            for row in rows:
                row["latest"] = "*" if row["latest"] else ""
            columns = ["name", "version", "latest", "status", "created_at", "metric", "value"]
            print_table(rows, [*columns, "baseline", "gate_reason"])
        return EXIT_OK

    return _with_registry(args, settings, action)


def _show(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.errors import ModelNotFoundError  # noqa: PLC0415

    def action(a: argparse.Namespace, registry: ModelRegistry) -> int:
        latest = registry.latest_version(a.name)
        version = a.version or latest
        if version is None:
            known = registry.versions(a.name)
            if not known:
                raise ModelNotFoundError(f"no model named {a.name!r}")
            version = known[-1].version
        record = registry.version_record(a.name, version)
        if a.json:
            print_json(_show_json(record, latest, registry))
        else:
            _print_show(record, latest)
        return EXIT_OK

    return _with_registry(args, settings, action)


def _show_json(record: VersionRecord, latest: Any, registry: ModelRegistry) -> dict[str, Any]:
    history = registry.promotion_history(record.name)
    return {
        **_row(record, latest),
        "run_id": record.run_id,
        "metadata": dict(record.metadata),
        "metrics": dict(record.metrics),
        "digests": dict(record.digests),
        "promotions": [
            {
                "version": str(h.version),
                "previous": None if h.previous is None else str(h.previous),
                "promoted_at": h.promoted_at,
                "promoted_by": h.promoted_by,
                "reason": h.reason,
            }
            for h in history
        ],
    }


def _print_show(record: VersionRecord, latest: Any) -> None:
    meta = record.metadata
    window = meta.get("training_window") or {}
    facts = {
        "name": record.name,
        "version": str(record.version),
        "latest": "yes" if record.version == latest else "no",
        "status": record.status,
        "gate_reason": record.gate_reason,
        "created_at": record.created_at,
        "as_of": window.get("as_of"),
        "history": f"{window.get('history_start')} .. {window.get('history_end')}",
        "data_fingerprint": meta.get("data_fingerprint"),
        "features": ", ".join(meta.get("features") or []),
        "hyper_parameters": meta.get("hyper_parameters"),
        "libraries": meta.get("library_versions"),
        "run_id": record.run_id,
    }
    print_table([{"field": k, "value": v} for k, v in facts.items()], ["field", "value"])
    print()
    metrics = record.metrics
    model = metrics.get("model") or {}
    baseline = {k: v for k, v in (metrics.get("baseline") or {}).items() if k != "name"}
    champion = metrics.get("champion") or {}
    primary = metrics.get("metric")
    rows = [
        {
            "metric": f"{key} *" if key == primary else key,
            "model": model.get(key),
            "baseline": baseline.get(key),
            "champion": champion.get(key),
        }
        for key in sorted(set(model) | set(baseline))
    ]
    base_name = (metrics.get("baseline") or {}).get("name", "baseline")
    print_table(rows, ["metric", "model", "baseline", "champion"])
    print(f"(* gate metric; baseline: {base_name}; {len(metrics.get('windows') or [])} windows)")


def _switch_message(switch: Any, how: str) -> str:
    before = "none" if switch.previous is None else str(switch.previous)
    if not switch.changed:
        return f"{switch.name}: latest is already {switch.version}"
    return f"{switch.name}: latest {before} -> {switch.version} ({how})"


def _rollback(args: argparse.Namespace, settings: Settings) -> int:
    def action(a: argparse.Namespace, registry: ModelRegistry) -> int:
        reason = _operator_reason(a.reason, "operator rollback")
        print(_switch_message(registry.rollback(a.name, a.to, reason=reason), "rollback"))
        return EXIT_OK

    return _with_registry(args, settings, action)


def _promote(args: argparse.Namespace, settings: Settings) -> int:
    def action(a: argparse.Namespace, registry: ModelRegistry) -> int:
        reason = _operator_reason(a.reason, "operator promotion")
        switch = registry.promote(a.name, a.version, by="operator", reason=reason)
        print(_switch_message(switch, "promote"))
        return EXIT_OK

    return _with_registry(args, settings, action)


def _runs_list(args: argparse.Namespace, settings: Settings) -> int:
    from rms_ml_push.clock import SystemClock  # noqa: PLC0415
    from rms_ml_push.store.runs import JobRuns  # noqa: PLC0415

    if args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return EXIT_CONFIG
    store = _open_store(settings)
    try:
        runs = JobRuns(store, SystemClock()).list_runs(args.job, limit=args.limit)
    finally:
        store.dispose()
    rows = [r.as_dict() for r in runs]
    if args.json:
        print_json(rows)
        return EXIT_OK
    columns = ["id", "job", "as_of", "scope", "status", "trigger", "started_at", "finished_at"]
    print_table(rows, [*columns, "model_version", "messages_enqueued", "error"])
    return EXIT_OK
