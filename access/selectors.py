"""Reads over API keys."""

from django.contrib.auth import get_user_model

from conversations import rows

from .models import ApiKey, key_digest


def api_key_active(*, key: str) -> ApiKey | None:
    """
    The active key record for a presented key, with its owner; None when unknown or revoked, or
    when its owner is inactive. Every request with a key reads it: two statements compiled once
    (conversations.rows), where the queryset's join was compiled anew for each request (about
    0.6 ms of it).
    """
    record = rows.first(ApiKey, digest=key_digest(key), revoked_at=None)
    if record is None:
        return None
    owner = rows.first(get_user_model(), pk=record.owner_id, is_active=True)
    if owner is None:
        return None
    record.owner = owner
    return record
