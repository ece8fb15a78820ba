"""Reads over API keys."""

from .models import ApiKey, key_digest


def api_key_active(*, key: str) -> ApiKey | None:
    """The active key record for a presented key, with its owner; None when unknown or revoked."""
    return (
        ApiKey.objects.select_related("owner")
        .filter(digest=key_digest(key), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
