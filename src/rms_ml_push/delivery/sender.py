"""The only HTTP client of delivery: one pooled ``httpx.Client`` per process.

Explicit timeouts per endpoint, no redirects (a 3xx is a failed attempt), and the
response body read by streaming up to a cap, so that a 50 MiB or endless answer costs
at most the cap in memory and one timeout in time. tenacity retries only a refused or
reset connection, briefly, inside the one attempt (webhook-contract.md, "Retries").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from rms_ml_push import __version__

USER_AGENT = f"rms-ml-push/{__version__}"
# A connection that was refused or reset before the request went out is safe to retry
# at once; anything later (a read timeout) may have been processed and is not.
_RETRYABLE = (httpx.ConnectError, httpx.RemoteProtocolError)
_CONNECT_TRIES = 3


@dataclass(frozen=True)
class SendResult:
    """What one attempt produced; ``status_code`` is None when no response came back."""

    status_code: int | None
    retry_after: str | None
    excerpt: str
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        """True for any 2xx, and only 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """POSTs signed bodies; thread-safe (httpx.Client is), build one per process."""

    def __init__(self, *, max_connections: int = 64, excerpt_bytes: int = 4096) -> None:
        self._excerpt_bytes = excerpt_bytes
        self._client = httpx.Client(
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"user-agent": USER_AGENT},
            trust_env=False,  # never route a webhook through an ambient proxy
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def post(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult:
        """One attempt; never raises for network or HTTP trouble, returns it instead."""
        started = time.perf_counter()
        deadline = started + timeout_s
        try:
            retrying = Retrying(
                retry=retry_if_exception_type(_RETRYABLE),
                stop=stop_after_attempt(_CONNECT_TRIES) | stop_after_delay(timeout_s / 3),
                wait=wait_exponential(multiplier=0.05, max=0.5),
                reraise=True,
            )
            for attempt in retrying:
                with attempt:
                    status, retry_after, excerpt = self._post_once(
                        url, headers, body, timeout_s, deadline
                    )
        except httpx.TimeoutException as exc:
            return self._failed(started, f"timeout after {timeout_s:g} s ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return self._failed(started, f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(status, retry_after, excerpt, None, _ms_since(started))

    def _post_once(
        self, url: str, headers: dict[str, str], body: bytes, timeout_s: float, deadline: float
    ) -> tuple[int, str | None, str]:
        request = self._client.build_request(
            "POST", url, content=body, headers=headers, timeout=httpx.Timeout(timeout_s)
        )
        response = self._client.send(request, stream=True)
        try:
            excerpt = self._read_capped(response, deadline)
        finally:
            # Closing an unread stream drops the connection instead of draining it.
            response.close()
        return response.status_code, response.headers.get("retry-after"), excerpt

    def _read_capped(self, response: httpx.Response, deadline: float) -> str:
        cap = self._excerpt_bytes
        chunks: list[bytes] = []
        size = 0
        if cap > 0:
            for chunk in response.iter_raw(chunk_size=min(cap, 16384)):
                chunks.append(chunk)
                size += len(chunk)
                if size >= cap or time.perf_counter() > deadline:
                    break
        return b"".join(chunks)[:cap].decode("utf-8", "replace")

    @staticmethod
    def _failed(started: float, error: str) -> SendResult:
        return SendResult(None, None, "", error, _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)
