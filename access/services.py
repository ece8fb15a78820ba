"""Services for API keys: create (the only moment the key is seen), revoke, and note use."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import DISPLAY_LENGTH, KEY_PREFIX, ApiKey, key_digest

# last_used_at is advisory: renewing it at most this often keeps requests free of writes.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    record: ApiKey
    key: str  # the key itself: shown once, never stored


def api_key_create(*, owner: AbstractBaseUser, name: str = "") -> NewApiKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey.objects.create(
        owner=owner, name=name, prefix=key[:DISPLAY_LENGTH], digest=key_digest(key)
    )
    return NewApiKey(record=record, key=key)


def api_key_create_for(*, username: str, name: str = "") -> NewApiKey:
    """A key for the user with this name, creating the user (without a password) if needed."""
    user_model = get_user_model()
    owner, created = user_model.objects.get_or_create(username=username)
    if created:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    return api_key_create(owner=owner, name=name)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_used(*, api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
