"""
`Idempotency-Key` on POST requests, with Stripe's semantics. The first request with a key is
executed and its answer stored (24 hours, per owner, key and path); a retry with the same body gets
that answer again, with no second thread, message, run or provider call. The same key with a
different body is 409 `idempotency_key_reused`; a retry while the first is still executing is 409
`idempotency_in_progress`. Answers refused before anything was done (bad input, auth, limits) are not
stored, so the key can be used again once the request is fixed. A streamed answer is stored as the
events it sent, and replayed as such.
"""

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

from .models import IdempotencyRecord

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Refused before anything was done: not stored, so a corrected retry may reuse the key.
NOT_STORED = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422, 429})


class Conflict(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def fingerprint(request: HttpRequest) -> str:
    """The body's digest, JSON in canonical form so that key order and spacing do not matter."""
    body = request.body
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        pass
    return hashlib.sha256(body).hexdigest()


def record_claim(*, scope: str, key: str, path: str, digest: str) -> tuple[IdempotencyRecord, bool]:
    """
    The key's record, and whether this request claimed it (and is to execute and complete it);
    unclaimed, the record holds the answer to replay. Raises Conflict for a reused key or a
    request still executing.
    """
    now = timezone.now()
    lookup = {"scope": scope, "key": key, "path": path}
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(**lookup, fingerprint=digest, created_at=now), True
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(**lookup).first()
            if existing is None:
                continue  # deleted in between: claim again
            if _abandoned(existing, now):
                existing.delete()
                continue
            if existing.fingerprint != digest:
                raise Conflict(
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used with a different request body. "
                    "Use a new key for a new request.",
                ) from None
            if existing.status == IdempotencyRecord.Status.IN_PROGRESS:
                raise Conflict(
                    "idempotency_in_progress",
                    "A request with this Idempotency-Key is still being processed. "
                    "Retry once it has finished.",
                ) from None
            return existing, False
    raise Conflict("idempotency_in_progress", "The Idempotency-Key is contended. Retry shortly.")


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body),
        status=record.response_status,
        content_type=record.response_content_type or "application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def record_complete(record: IdempotencyRecord, response: HttpResponseBase) -> HttpResponseBase:
    """Store the answer (or let the key go when the request was refused outright)."""
    if response.status_code in NOT_STORED:
        record.delete()
        return response
    content_type = response.get("Content-Type", "")
    if isinstance(response, StreamingHttpResponse):
        original = response.streaming_content  # taken before it is replaced by its recorder
        response.streaming_content = _stored_as_it_streams(record, original, response.status_code, content_type)
        return response
    _save(record, response.status_code, content_type, response.content)
    return response


def records_purge() -> int:
    """Forget answers older than 24 hours."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return deleted


def _stored_as_it_streams(
    record: IdempotencyRecord, chunks: Iterator[bytes], status: int, content_type: str
) -> Iterator[bytes]:
    sent: list[bytes] = []
    try:
        for chunk in chunks:
            sent.append(chunk)
            yield chunk
    finally:
        # Also when the client went away: the retry gets what the first request produced.
        _save(record, status, content_type, b"".join(sent))


def _save(record: IdempotencyRecord, status: int, content_type: str, body: bytes) -> None:
    record.status = IdempotencyRecord.Status.DONE
    record.response_status = status
    record.response_content_type = content_type
    record.response_body = body
    record.save(update_fields=["status", "response_status", "response_content_type", "response_body"])


def _abandoned(record: IdempotencyRecord, now) -> bool:
    if now - record.created_at > KEEP_FOR:
        return True
    # A request that never finished (its process died) frees its key after the longest a run may take.
    in_progress_limit = timedelta(seconds=settings.RUN_EXPIRES_SECONDS + 60)
    return record.status == IdempotencyRecord.Status.IN_PROGRESS and now - record.created_at > in_progress_limit
