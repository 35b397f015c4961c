"""A Django view that receives rms-ml-push webhooks: verify, de-duplicate, store sets.

Copy into an app of the RMS, add the two models to its ``models.py`` (or keep them
here if this file is the app's module), run ``makemigrations``, route a URL to
``rms_ml_push_webhook`` and set ``RMS_ML_PUSH_WEBHOOK_SECRETS`` in settings to the
endpoint's ``whsec_...`` secrets (several during a rotation). Requires Django and
``standardwebhooks`` (``pip install standardwebhooks``). Not imported by our tests.

What it does, per webhook-contract.md:
- verifies the signature and the 5-minute timestamp tolerance with ``standardwebhooks``
  (constant-time comparison), on the exact body bytes;
- de-duplicates on ``webhook-id`` (a retry or a re-push delivers the same id again);
- keeps, per supersede key ``(type, restaurant_id, granularity)``, the complete set of
  parts with the newest ``data.generated_at``, replacing the previous set as a whole
  only once every part of the newer set has arrived (order is not guaranteed).
"""

from __future__ import annotations


from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PREDICTION_TYPES = {
    "demand.forecast.updated",
    "kitchen.prep_time.updated",
    "customer.scores.updated",
    "inventory.recommendations.updated",
    "pricing.recommendations.updated",
}


class ReceivedWebhook(models.Model):
    """One accepted delivery, unique by webhook-id (the idempotency key)."""

    webhook_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)
    body = models.JSONField()
    # For predictions: which set and part this delivery belongs to.
    supersede_key = models.CharField(max_length=200, blank=True, db_index=True)
    generated_at = models.CharField(max_length=40, blank=True)
    part_index = models.PositiveIntegerField(null=True)
    part_count = models.PositiveIntegerField(null=True)


class CurrentPredictionSet(models.Model):
    """The complete set in use per supersede key: what the RMS reads predictions from."""

    supersede_key = models.CharField(max_length=200, unique=True)
    generated_at = models.CharField(max_length=40)
    parts = models.JSONField()  # list of data objects, ordered by part.index
    updated_at = models.DateTimeField(auto_now=True)


def _verify(request: HttpRequest) -> dict:
    secrets = getattr(settings, "RMS_ML_PUSH_WEBHOOK_SECRETS", [])
    headers = dict(request.headers.items())
    for secret in secrets:  # any active secret may match during a rotation
        try:
            return Webhook(secret).verify(request.body, headers)
        except WebhookVerificationError:
            continue
    raise WebhookVerificationError("no secret verified this delivery")


def _key(body: dict) -> str:
    data = body["data"]
    rid = data.get("restaurant_id")
    return f"{body['type']}|{'null' if rid is None else rid}|{data.get('granularity') or '-'}"


def _promote_if_complete(key: str, generated_at: str, count: int) -> None:
    """Replace the current set by the set of ``generated_at`` if it is newer and complete."""
    parts = list(
        ReceivedWebhook.objects.filter(supersede_key=key, generated_at=generated_at)
        .order_by("part_index")
        .values_list("part_index", "body")
    )
    by_index = {index: body["data"] for index, body in parts}
    if sorted(by_index) != list(range(1, count + 1)):
        return  # wait for the missing parts
    current = CurrentPredictionSet.objects.select_for_update().filter(supersede_key=key).first()
    # ISO 8601 UTC strings of one format compare in time order.
    if current is not None and current.generated_at >= generated_at:
        return  # an older (or the same) set arrived late: keep the newer one
    CurrentPredictionSet.objects.update_or_create(
        supersede_key=key,
        defaults={"generated_at": generated_at, "parts": [by_index[i] for i in sorted(by_index)]},
    )


@csrf_exempt
@require_POST
def rms_ml_push_webhook(request: HttpRequest) -> HttpResponse:
    """Answer 2xx only once the delivery is safely stored (or was already)."""
    try:
        body = _verify(request)
    except WebhookVerificationError:
        return HttpResponse(status=401)
    if not isinstance(body, dict) or "type" not in body or "data" not in body:
        return HttpResponseBadRequest("not an rms-ml-push envelope")
    event_type = body["type"]
    data = body["data"]
    webhook_id = request.headers["webhook-id"]
    is_prediction = event_type in PREDICTION_TYPES
    part = data.get("part") or {}
    try:
        with transaction.atomic():
            ReceivedWebhook.objects.create(
                webhook_id=webhook_id,
                event_type=event_type,
                body=body,
                supersede_key=_key(body) if is_prediction else "",
                generated_at=data.get("generated_at", "") if is_prediction else "",
                part_index=part.get("index"),
                part_count=part.get("count"),
            )
            if is_prediction:
                _promote_if_complete(_key(body), data["generated_at"], int(part.get("count", 1)))
    except IntegrityError:
        return JsonResponse({"ok": True, "duplicate": True})  # same webhook-id: already stored
    # Operational events (endpoint.disabled, message.dead) deserve an alert here.
    return JsonResponse({"ok": True, "duplicate": False, "type": event_type})
