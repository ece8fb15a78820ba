"""
Who may call the API: API keys, each belonging to an owner (a Django user). A key is shown once, at
creation; only its SHA-256 digest is stored (keys are 256 random bits, so a fast digest is as safe
as a slow password hash and lets each request find its key with one indexed lookup).
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX = "sak_"
DISPLAY_LENGTH = 12  # how much of a key is kept in the clear to tell keys apart


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=128, blank=True, help_text="What the key is for.")
    prefix = models.CharField(max_length=DISPLAY_LENGTH, editable=False, help_text="The key's start.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.owner})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """
    The first answer to a POST sent with an `Idempotency-Key`, kept for 24 hours per owner, key
    and path (Stripe's semantics): a retry with the same body gets this answer again.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    scope = models.CharField(max_length=64, help_text="The key owner (or the client address).")
    key = models.CharField(max_length=255)
    path = models.CharField(max_length=512)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_content_type = models.CharField(max_length=128, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "path"], name="one_answer_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.path}"
